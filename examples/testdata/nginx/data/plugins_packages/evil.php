<?php
// An uploaded plugin's script: nginx must neither run it nor show it.
echo 'evil.php ran';
