<?php
// The uid the server runs PHP as (TestServersConfined), from /proc: no extension needed.
preg_match('/^Uid:\s+\d+\s+(\d+)/m', (string) file_get_contents('/proc/self/status'), $m);
echo $m[1] ?? 'unknown';
