<?php
// A stand-in for Stud.IP 6's public/index.php, for studip-healthcheck --page: it loads the
// bootstrap and sends the browser on to the login page, relative to itself as Stud.IP does
// when no base URL is set (URLHelper::getURL('dispatch.php/login')), or (?absolute) at the
// absolute address Stud.IP makes from SERVER_NAME when one is.
require __DIR__ . '/../lib/bootstrap.php';
if (isset($_GET['absolute'])) {
    header("Location: http://{$_SERVER['SERVER_NAME']}/dispatch.php/login");
    exit;
}
header('Location: dispatch.php/login');
