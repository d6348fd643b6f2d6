<?php
require __DIR__ . '/../lib/answer.php';
