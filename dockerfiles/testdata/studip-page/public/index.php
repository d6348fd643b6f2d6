<?php
// A stand-in for Stud.IP 6's public/index.php, for studip-healthcheck --page: it loads the
// bootstrap and sends the browser on to the login page, relative to itself as Stud.IP does
// when no base URL is set (URLHelper::getURL('dispatch.php/login')).
require __DIR__ . '/../lib/bootstrap.php';
header('Location: dispatch.php/login');
