<?php
/*
 * Loads the config template the way Stud.IP loads config_defaults.inc.php and
 * config_local.inc.php: in one function scope whose new variables become globals. The
 * defaults are those of Stud.IP 6 that the template changes; $_SERVER gets the request
 * headers given as JSON in $FIXTURE_SERVER. Prints the results as JSON; any PHP warning or
 * notice is a failure.
 */
set_error_handler(static function ($level, $message, $file, $line) {
    fwrite(STDERR, "PHP message: $message in $file:$line\n");
    exit(3);
});
$_SERVER = array_merge($_SERVER, json_decode(getenv('FIXTURE_SERVER') ?: 'null', true) ?? []);

$load = static function ($STUDIP_BASE_PATH, $ABSOLUTE_URI_STUDIP, $CANONICAL_RELATIVE_PATH_STUDIP) {
    $CACHING_ENABLE = $_ENV['STUDIP_CACHING_ENABLE'] ?? true;
    $DYNAMIC_CONTENT_URL = $ABSOLUTE_URI_STUDIP . 'pictures';
    $before = array_keys(get_defined_vars());
    require $_SERVER['argv'][1];
    $vars = get_defined_vars();
    $vars['left_behind'] = array_values(array_diff(array_keys($vars), $before, ['before']));
    return $vars;
};
$vars = $load('/var/www/studip', 'http://internal:8080/', '/');
$vars['ENV'] = \Studip\ENV;
$vars['HTTPS'] = $_SERVER['HTTPS'] ?? null;
$vars['env_STUDIP_CONFIG_UNI_NAME_CLEAN'] = $_ENV['STUDIP_CONFIG_UNI_NAME_CLEAN'] ?? null;
echo json_encode($vars, JSON_UNESCAPED_SLASHES);
