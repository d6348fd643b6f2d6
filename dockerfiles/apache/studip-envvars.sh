# shellcheck shell=sh
# Read by Apache's envvars, so by every start of Apache (apache2-foreground, apache2ctl), after
# studip-functions.sh (the Dockerfile has envvars source both): studip.conf's LimitRequestBody
# takes bytes, PHP_UPLOAD_LIMIT is a size as PHP reads it (128M), and Apache has no arithmetic.
# 0 (or empty) is no limit to both. The entrypoint checks the same value before it changes
# anything; this stops an apache2ctl started by hand with a bad one.

APACHE_LIMIT_REQUEST_BODY=$(studip_size PHP_UPLOAD_LIMIT) || exit 1
export APACHE_LIMIT_REQUEST_BODY
