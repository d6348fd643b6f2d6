# shellcheck shell=sh
# Read by Apache's envvars, so by every start of Apache (apache2-foreground, apache2ctl):
# studip.conf's LimitRequestBody takes bytes, PHP_UPLOAD_LIMIT is a size as PHP reads it
# (128M), and Apache has no arithmetic. 0 (or empty) is no limit to both.

# studip_size_bytes SIZE prints PHP's size SIZE (digits, optionally followed by K, M or G in
# either case) in bytes; it fails on anything else, as PHP would misread it. A subshell: its
# variables stay its own.
studip_size_bytes() (
    number="${1%[KkMmGg]}"
    unit="${1#"$number"}"
    case "$number" in
        '' | *[!0-9]* | 0?*) return 1 ;;
    esac
    case "$unit" in
        '') echo "$number" ;;
        [Kk]) echo "$((number * 1024))" ;;
        [Mm]) echo "$((number * 1024 * 1024))" ;;
        [Gg]) echo "$((number * 1024 * 1024 * 1024))" ;;
    esac
)

if ! APACHE_LIMIT_REQUEST_BODY="$(studip_size_bytes "${PHP_UPLOAD_LIMIT:-0}")"; then
    echo >&2 "starting Apache: PHP_UPLOAD_LIMIT=$PHP_UPLOAD_LIMIT is not a size: want digits, optionally followed by K, M or G (0: no limit)"
    exit 1
fi
export APACHE_LIMIT_REQUEST_BODY
