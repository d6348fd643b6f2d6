<?php
/*
 * config/config_local.inc.php of the Stud.IP container images, in place in the image's tree
 * (the entrypoint copies it into a tree that lacks it, and never overwrites it): mount your
 * own file there to replace it.
 *
 * Every value comes from the container's environment (docs/image-contract.md lists the variables).
 * Stud.IP loads this file after config_defaults.inc.php, so what is set here wins.
 * Keep it valid for PHP 7.4: the Stud.IP 5.4 images run that old a PHP.
 */

// getenv() gives false for an unset variable: an empty value counts as unset too.
$studip_image_env = static function ($name) {
    $value = getenv($name);
    return $value === false || $value === '' ? null : $value;
};
$studip_image_flag = static function ($name) use ($studip_image_env) {
    return filter_var($studip_image_env($name), FILTER_VALIDATE_BOOLEAN);
};

// A secret may be given as the name of a file that holds it (NAME_FILE: a Docker or Kubernetes
// secret), by the rule of the entrypoint's file_env (studip-functions.sh): the entrypoint hands
// the server NAME itself; this covers the consoles started beside it (docker exec ... cli/studip),
// which get the container's own environment. The same names: the database's, STUDIP_CONFIG_*.
// envvars: MYSQL_HOST_FILE MYSQL_USER_FILE MYSQL_PASSWORD_FILE MYSQL_DATABASE_FILE STUDIP_CONFIG_<NAME>_FILE
foreach (getenv() as $studip_image_name => $studip_image_file) {
    // envvars: MYSQL_HOST MYSQL_USER MYSQL_PASSWORD MYSQL_DATABASE STUDIP_CONFIG_<NAME>
    if (preg_match('/^(MYSQL_(?:HOST|USER|PASSWORD|DATABASE)|STUDIP_CONFIG_\w+)_FILE$/', $studip_image_name, $studip_image_match)
        && $studip_image_file !== '' && $studip_image_env($studip_image_match[1]) === null) {
        // As file_env: a file that cannot be read stops here, rather than giving an empty value.
        $studip_image_value = is_file($studip_image_file) && is_readable($studip_image_file)
            ? @file_get_contents($studip_image_file) : false;
        if ($studip_image_value === false) {
            throw new RuntimeException("reading {$studip_image_name}: {$studip_image_file} is not a readable file");
        }
        // Trailing newlines dropped, as the entrypoint's shell does.
        $studip_image_value = rtrim($studip_image_value, "\n");
        putenv($studip_image_match[1] . '=' . $studip_image_value);
        $_ENV[$studip_image_match[1]] = $studip_image_value;
    }
}

// The database. Stud.IP puts the host into a PDO DSN ("mysql:host=...;dbname=..."), which
// takes a port only as a parameter of its own.
$DB_STUDIP_HOST = (string) $studip_image_env('MYSQL_HOST');
$studip_image_port = $studip_image_env('MYSQL_PORT');
if ($studip_image_port !== null && $studip_image_port !== '3306') {
    $DB_STUDIP_HOST .= ';port=' . $studip_image_port;
}
$DB_STUDIP_USER = (string) $studip_image_env('MYSQL_USER');
$DB_STUDIP_PASSWORD = (string) $studip_image_env('MYSQL_PASSWORD');
$DB_STUDIP_DATABASE = (string) $studip_image_env('MYSQL_DATABASE');

// ENV names the environment; Stud.IP 6's own STUDIP_ENV is honoured where ENV is not set.
if (!defined('Studip\ENV')) {
    define('Studip\ENV', $studip_image_env('ENV') ?? $studip_image_env('STUDIP_ENV') ?? 'production');
}

// Stud.IP 6 reads STUDIP_CACHING_ENABLE itself, but takes "false" for true; read it as a flag,
// for Stud.IP 5 too.
if ($studip_image_env('STUDIP_CACHING_ENABLE') !== null) {
    $CACHING_ENABLE = $studip_image_flag('STUDIP_CACHING_ENABLE');
}

// Behind a reverse proxy: the address users see. PROXY_URL names it; AUTO_PROXY takes it from
// the X-Forwarded-* headers of each request, which the proxy must set (clients can send them).
$studip_image_url = $studip_image_env('PROXY_URL');
if ($studip_image_url === null && $studip_image_flag('AUTO_PROXY') && isset($_SERVER['HTTP_X_FORWARDED_HOST'])) {
    // Each header may list several proxies: the first is the one the user talked to.
    $studip_image_first = static function ($header, $default) {
        return isset($_SERVER[$header]) ? trim(explode(',', $_SERVER[$header])[0]) : $default;
    };
    $studip_image_url = $studip_image_first('HTTP_X_FORWARDED_PROTO', 'http') . '://'
        . $studip_image_first('HTTP_X_FORWARDED_HOST', '')
        . $studip_image_first('HTTP_X_FORWARDED_PREFIX', '')
        . ($CANONICAL_RELATIVE_PATH_STUDIP ?? '/');
    unset($studip_image_first);
}
if ($studip_image_url !== null) {
    $ABSOLUTE_URI_STUDIP = rtrim($studip_image_url, '/') . '/';
    $CANONICAL_RELATIVE_PATH_STUDIP = rtrim((string) parse_url($ABSOLUTE_URI_STUDIP, PHP_URL_PATH), '/') . '/';
    // Both were derived from the internal address before this file was loaded.
    $ASSETS_URL = $ABSOLUTE_URI_STUDIP . 'assets/';
    $DYNAMIC_CONTENT_URL = $ABSOLUTE_URI_STUDIP . 'pictures';
    if (parse_url($ABSOLUTE_URI_STUDIP, PHP_URL_SCHEME) === 'https') {
        $_SERVER['HTTPS'] = 'on';
    }
}

// Stud.IP turns every variable this file leaves behind into a global.
unset($studip_image_env, $studip_image_flag, $studip_image_name, $studip_image_file, $studip_image_match, $studip_image_value,
    $studip_image_port, $studip_image_url);
