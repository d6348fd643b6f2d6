<?php
// Usage: php studip-page.php URL
// Succeeds if URL answers, after redirects, with a 2xx page that names Stud.IP: the server
// serves Stud.IP, not a default page or an error. Asks once (wait-healthy.sh waits first).
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
fwrite(STDERR, "$url: no Stud.IP page; answer: $status\n" . substr((string) $body, 0, 2000) . "\n");
exit(1);
