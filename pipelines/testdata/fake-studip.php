<?php
// A stand-in for Stud.IP behind the image's web server, run with `php -S` by the tests of
// smoke/serve.sh. Its first FAKE_BROKEN answers (-1: all; counted in the file FAKE_COUNTER)
// fail as a broken Stud.IP does: 500, and a PHP fatal error in the server's log. Then /
// sends the browser on to the start page, which is FAKE_PAGE (default: a Stud.IP page).

$broken = (int) getenv('FAKE_BROKEN');
$answers = 0;
if ($broken > 0) {
    $counter = getenv('FAKE_COUNTER');
    $answers = (int) @file_get_contents($counter);
    file_put_contents($counter, $answers + 1);
}
if ($broken < 0 || $answers < $broken) {
    error_log('PHP Fatal error:  Uncaught Error: Class "Studip\\Fake" not found in /var/www/studip/lib/bootstrap.php:42');
    http_response_code(500);
    echo "<!DOCTYPE html>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n";
    return true;
}
if ($_SERVER['REQUEST_URI'] === '/') {
    header('Location: /index.php', true, 302);
    return true;
}
echo getenv('FAKE_PAGE') ?: '<title>Start - Stud.IP</title>';
return true;
