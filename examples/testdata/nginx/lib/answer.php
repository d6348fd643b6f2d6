<?php
// What every script of the fixture site answers: what nginx and php-fpm passed it, the
// container's environment as the configuration template reads it, and what PHP made of an
// uploaded "file" (error code and size), as JSON. It lies outside public/, as Stud.IP's lib/
// does.
header('Content-Type: application/json');
$file = $_FILES['file'] ?? null;
echo json_encode([
    'script_name' => $_SERVER['SCRIPT_NAME'],
    'path_info'   => $_SERVER['PATH_INFO'] ?? '',
    'get'         => (object) $_GET,
    'mysql_host'  => getenv('MYSQL_HOST'),
    'file'        => $file ? ['error' => $file['error'], 'size' => $file['size']] : null,
]);
