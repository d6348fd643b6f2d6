<?php
// Usage: php fcgi-ping.php HOST PORT PATH SECONDS
// Succeeds once php-fpm at HOST:PORT answers a FastCGI request for PATH (its ping.path) with
// "pong". The service may still be installing its database, so it asks again until SECONDS
// have passed. A minimal FastCGI client: one request, no keep-alive. Runs on every PHP from 7.2.

[, $host, $port, $path, $seconds] = $argv;
$deadline = time() + (int) $seconds;

const FCGI_BEGIN_REQUEST = 1;
const FCGI_END_REQUEST = 3;
const FCGI_PARAMS = 4;
const FCGI_STDIN = 5;
const FCGI_STDOUT = 6;
const FCGI_RESPONDER = 1;

function record(int $type, string $content): string
{
    // version 1, request id 1, no padding
    return pack('CCnnCx', 1, $type, 1, strlen($content), 0) . $content;
}

function length(int $n): string
{
    return $n < 128 ? chr($n) : pack('N', $n | 0x80000000);
}

function readExactly($conn, int $n): ?string
{
    $data = '';
    while (strlen($data) < $n) {
        $chunk = fread($conn, $n - strlen($data));
        if ($chunk === false || $chunk === '') {
            return null;
        }
        $data .= $chunk;
    }
    return $data;
}

// ping returns php-fpm's whole answer (CGI headers and body), or what went wrong.
function ping(string $host, string $port, string $path): string
{
    $conn = @stream_socket_client("tcp://$host:$port", $errno, $error, 5);
    if ($conn === false) {
        return "cannot connect: $error";
    }
    stream_set_timeout($conn, 10);
    $params = '';
    $env = [
        'GATEWAY_INTERFACE' => 'CGI/1.1',
        'REQUEST_METHOD' => 'GET',
        'SCRIPT_NAME' => $path,
        'SCRIPT_FILENAME' => $path,
        'REQUEST_URI' => $path,
        'QUERY_STRING' => '',
        'SERVER_PROTOCOL' => 'HTTP/1.1',
    ];
    foreach ($env as $name => $value) {
        $params .= length(strlen($name)) . length(strlen($value)) . $name . $value;
    }
    fwrite($conn, record(FCGI_BEGIN_REQUEST, pack('nCx5', FCGI_RESPONDER, 0))
        . record(FCGI_PARAMS, $params) . record(FCGI_PARAMS, '') . record(FCGI_STDIN, ''));
    $stdout = '';
    while (($header = readExactly($conn, 8)) !== null) {
        $h = unpack('Cversion/Ctype/nid/nlength/Cpadding', $header);
        $content = readExactly($conn, $h['length'] + $h['padding']);
        if ($content === null) {
            break;
        }
        if ($h['type'] === FCGI_STDOUT) {
            $stdout .= substr($content, 0, $h['length']);
        } elseif ($h['type'] === FCGI_END_REQUEST) {
            fclose($conn);
            return $stdout;
        }
    }
    fclose($conn);
    return "connection closed before the end of the answer: $stdout";
}

do {
    $answer = ping($host, $port, $path);
    if (preg_match('/\r?\n\r?\npong\s*$/', $answer)) {
        echo "$host:$port$path: pong\n";
        exit(0);
    }
    sleep(2);
} while (time() < $deadline);
fwrite(STDERR, "$host:$port$path: no pong within {$seconds}s; last answer: $answer\n");
exit(1);
