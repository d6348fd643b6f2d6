<?php
/*
 * config/config.inc.php of the Stud.IP images: the defaults of the tree itself
 * (config.inc.php.dist), unchanged, as Stud.IP's installer would copy them. The image ships
 * this file, so that nothing is written into the tree at start; mount your own file here to
 * replace it.
 */
require __DIR__ . '/config.inc.php.dist';
