<?php
// The fixture site's upload target: what PHP made of each uploaded file (error code and size),
// as JSON; an empty object when PHP took no file.
header('Content-Type: application/json');
echo json_encode((object) array_map(fn ($file) => ['error' => $file['error'], 'size' => $file['size']], $_FILES));
