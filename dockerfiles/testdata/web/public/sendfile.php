<?php
// The fixture site's download script: the parameters of the request, as Stud.IP reads them.
header('Content-Type: application/json');
echo json_encode($_GET);
