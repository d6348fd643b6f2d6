<?php
// Usage: php studip-page.php URL
// Succeeds if URL answers, after redirects, with a 2xx page that names Stud.IP: the server
// serves Stud.IP, not a default page or an error. Otherwise it shows the answer (status and
// the start of the body) on stderr and fails. Asks once (serve.sh waits first).
// Runs on every PHP from 7.2.

$url = $argv[1];
$context = stream_context_create(['http' => ['timeout' => 10, 'ignore_errors' => true]]);
$body = @file_get_contents($url, false, $context);
$status = 'no answer';
foreach ($http_response_header ?? [] as $header) {
    if (strpos($header, 'HTTP/') === 0) {
        $status = $header; // the last one, after redirects
    }
}
if ($body !== false && preg_match('#^HTTP/\S+ 2\d\d#', $status) && stripos($body, 'Stud.IP') !== false) {
    echo "$url: $status, a Stud.IP page\n";
    exit(0);
}
// The start of the body, at most 6 non-empty lines of 160 characters: enough for an error
// page's message, short enough to leave room for the server's log in the pipeline's report.
$lines = array_slice(array_filter(array_map('trim', explode("\n", (string) $body)), 'strlen'), 0, 6);
$head = '';
foreach ($lines as $line) {
    $head .= '  ' . (strlen($line) > 160 ? substr($line, 0, 157) . '...' : $line) . "\n";
}
fwrite(STDERR, "$url: no Stud.IP page; answer: $status\n" . ($head === '' ? "  (empty body)\n" : $head));
exit(1);
