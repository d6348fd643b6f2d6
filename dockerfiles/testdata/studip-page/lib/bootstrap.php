<?php
// The stand-in's bootstrap. While ../broken exists it fails as a broken Stud.IP does: a PHP
// fatal error, which php-fpm answers with a 500.
if (file_exists(__DIR__ . '/../broken')) {
    new Studip\Missing();
}
// A page that is not Stud.IP's while ../other-page exists, as a default page would be.
if (file_exists(__DIR__ . '/../other-page')) {
    echo "It works!\n";
    exit;
}
