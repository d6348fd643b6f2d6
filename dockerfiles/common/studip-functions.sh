# shellcheck shell=sh
# Functions shared by docker-entrypoint.sh and studip-cron, which source this file from their
# own directory. Callers set studip_log_name (the prefix of every line they print) first.

: "${studip_log_name:?set by the script that sources this file}"
STUDIP_ROOT=${STUDIP_ROOT:-/var/www/studip}
# The web server's user in both bases (uid 33 on Debian, 82 on Alpine).
studip_web_user=www-data

studip_log() {
    printf '%s: %s\n' "$studip_log_name" "$*"
}

studip_fail() {
    printf '%s: error: %s\n' "$studip_log_name" "$*" >&2
    exit 1
}

# studip_flag NAME: succeeds when the variable NAME holds a true value, fails when it is unset
# or false, and stops the script on anything else (a typo must not silently mean "off").
studip_flag() {
    local value
    eval "value=\${$1:-}"
    case $value in
        1 | [Tt]rue | TRUE | [Yy]es | YES | [Oo]n | ON) return 0 ;;
        '' | 0 | [Ff]alse | FALSE | [Nn]o | NO | [Oo]ff | OFF) return 1 ;;
    esac
    studip_fail "reading $1: '$value' is neither true (1, true, yes, on) nor false (0, false, no, off)"
}

# studip_number NAME DEFAULT: prints the whole number in the variable NAME, or DEFAULT when it
# is unset or empty.
studip_number() {
    local value
    eval "value=\${$1:-$2}"
    case $value in
        '' | *[!0-9]*) studip_fail "reading $1: '$value' is not a whole number" ;;
    esac
    printf '%s\n' "$value"
}

# studip_size NAME prints the size in the variable NAME, as PHP reads one (digits, optionally
# followed by K, M or G in either case), in bytes, 0 when it is unset or empty; it stops on
# anything else, which PHP would misread.
studip_size() {
    local value number
    eval "value=\${$1:-0}"
    number=${value%[KkMmGg]}
    case $number in
        '' | *[!0-9]* | 0?*)
            studip_fail "reading $1: '$value' is not a size: want digits, optionally followed by K, M or G"
            ;;
    esac
    case ${value#"$number"} in
        '') echo "$number" ;;
        [Kk]) echo "$((number * 1024))" ;;
        [Mm]) echo "$((number * 1024 * 1024))" ;;
        [Gg]) echo "$((number * 1024 * 1024 * 1024))" ;;
    esac
}

# file_env NAME: NAME may be given as the name of a file that holds its value, in NAME_FILE
# (a Docker or Kubernetes secret), as in the official images. Then NAME is set to the file's
# contents (without trailing newlines, as $(cat) reads it) and exported, and NAME_FILE unset,
# so that what this script starts sees NAME alone. Setting both is an error.
file_env() {
    local value file
    eval "value=\${$1:-} file=\${$1_FILE:-}"
    [ -n "$file" ] || return 0
    [ -z "$value" ] || studip_fail "checking the environment: $1 and $1_FILE are both set; set one"
    if [ ! -f "$file" ] || [ ! -r "$file" ]; then
        studip_fail "reading $1_FILE: $file is not a readable file"
    fi
    value=$(cat -- "$file") || studip_fail "reading $1_FILE: cannot read $file"
    export "$1=$value"
    unset "$1_FILE"
}

# studip_console COMMAND LEGACY_SCRIPT: finds how the tree runs a console command: Stud.IP's
# console cli/studip with COMMAND where the tree has it, else the older stand-alone script
# (Stud.IP 5.0 and before). Sets studip_cli, studip_cli_command and studip_cli_line (the
# command line, for messages); fails when neither exists.
studip_console() {
    if [ -f "$STUDIP_ROOT/cli/studip" ]; then
        studip_cli=cli/studip
        studip_cli_command=$1
    elif [ -f "$STUDIP_ROOT/$2" ]; then
        studip_cli=$2
        studip_cli_command=
    else
        return 1
    fi
    # shellcheck disable=SC2034 # read by the scripts that source this file
    studip_cli_line="php $studip_cli${studip_cli_command:+ $studip_cli_command}"
}

# studip_exec_as_web_user COMMAND...: replaces the calling (sub)shell with COMMAND, run in the
# tree as the web server's user when this runs as root, so that files it writes stay
# writable by the web server; as any other user (--user, OpenShift's arbitrary uid), as that
# user: nothing needs su-exec or setpriv then.
studip_exec_as_web_user() {
    cd "$STUDIP_ROOT" || exit
    if [ "$(id -u)" != 0 ]; then
        exec "$@"
    # su-exec first: Alpine's setpriv is busybox's, which has no --reuid.
    elif command -v su-exec >/dev/null 2>&1; then
        exec su-exec "$studip_web_user" "$@"
    elif command -v setpriv >/dev/null 2>&1; then
        exec setpriv --reuid="$studip_web_user" --regid="$studip_web_user" --init-groups -- "$@"
    fi
    studip_fail "running $* as $studip_web_user: neither su-exec nor setpriv is installed"
}

# studip_exec_console: studip_exec_as_web_user with the console command found by
# studip_console.
studip_exec_console() {
    studip_exec_as_web_user php "$studip_cli" ${studip_cli_command:+"$studip_cli_command"}
}
