<?php
// A script among the uploaded pictures: nginx must neither run it nor show it.
echo 'upload.php ran';
