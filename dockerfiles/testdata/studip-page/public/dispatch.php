<?php
// A stand-in for Stud.IP's front controller: routes by PATH_INFO, as Stud.IP's does, and
// answers /login with a page that names Stud.IP, once the session cookie that /login sets is
// sent back (a browser does); /loop sends the browser back to itself; anything else is a 404.
require __DIR__ . '/../lib/bootstrap.php';
$route = $_SERVER['PATH_INFO'] ?? '';
if ($route === '/loop') {
    header('Location: /dispatch.php/loop');
    exit;
}
if ($route !== '/login' || $_SERVER['REQUEST_URI'] !== '/dispatch.php/login') {
    http_response_code(404);
    echo "no route for '$route' (REQUEST_URI {$_SERVER['REQUEST_URI']})\n";
    exit;
}
if (!isset($_COOKIE['Seminar_Session'])) {
    setcookie('Seminar_Session', 'fixture', 0, '/');
    header('Location: /dispatch.php/login');
    exit;
}
echo "<!DOCTYPE html>\n<title>Login - Stud.IP</title>\n<h1>Stud.IP</h1>\n";
