<?php
// Usage: php http-get.php URL SECONDS
// Succeeds once URL answers 200 with a Stud.IP page. The service may still be installing its
// database, so it asks again until SECONDS have passed. Runs on every PHP from 7.2.

[, $url, $seconds] = $argv;
$deadline = time() + (int) $seconds;
$context = stream_context_create(['http' => ['timeout' => 10, 'ignore_errors' => true]]);
do {
    $body = @file_get_contents($url, false, $context);
    $status = 'no answer';
    foreach ($http_response_header ?? [] as $header) {
        if (strpos($header, 'HTTP/') === 0) {
            $status = $header; // the last one, after redirects
        }
    }
    if ($body !== false && preg_match('#^HTTP/\S+ 200#', $status) && stripos($body, 'Stud.IP') !== false) {
        echo "$url: $status, a Stud.IP page\n";
        exit(0);
    }
    sleep(2);
} while (time() < $deadline);
fwrite(STDERR, "$url: no Stud.IP page within {$seconds}s; last answer: $status\n" . substr((string) $body, 0, 2000) . "\n");
exit(1);
