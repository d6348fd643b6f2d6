<?php
// The fixture site's front page: what a request sees of the container's environment, as JSON;
// a 500 while ../database-down exists, as Stud.IP answers while its database is down.
if (file_exists(__DIR__ . '/../database-down')) {
    http_response_code(500);
    exit;
}
header('Content-Type: application/json');
echo json_encode(['getenv' => getenv('MYSQL_HOST'), '$_ENV' => $_ENV['MYSQL_HOST'] ?? null]);
