#!/bin/sh
# Entrypoint of the Stud.IP images. Before it runs the web server (apache2-foreground,
# php-fpm) or studip-cron it
#   1. reads the secrets given as files (file_env),
#   2. links public/pictures and public/plugins_packages into the data volume and seeds them,
#   3. writes config/config_local.inc.php and config/config.inc.php where they are missing,
#   4. waits for the database (and warns when its sql_mode is strict),
#   5. under a database lock (studip-lock.sh): installs Stud.IP's dumps into an empty database,
#      with AUTO_MIGRATE runs the migrations, and runs the hooks in /docker-entrypoint.d.
# It runs as root (then it hands the data volume to www-data and group 0, and runs Stud.IP's
# console and the hooks as www-data) or as any other user (--user, an arbitrary uid with
# group 0 as on OpenShift), and writes nothing outside the data volume and /tmp when the tree
# is complete (the images ship both config files), so that the root filesystem may be
# read-only.
# Any other command (php -v, sh, studip-healthcheck) runs at once, with none of this.
# The variables it reads are listed in docs/image-contract.md ("Environment variables").
#
# Shaped as the official images' entrypoints: one function per step, _main at the bottom, run
# only when this file is executed; a test may source it to call the functions.
set -eu

studip_log_name=studip-entrypoint
# Beside this script. A test that sources this file does so from the scripts' directory: its
# $0 is then its own shell, whose directory is taken to be the current one.
# shellcheck source-path=SCRIPTDIR source=studip-functions.sh
. "$(dirname -- "$0")/studip-functions.sh"
# shellcheck source-path=SCRIPTDIR source=studip-lock.sh
. "$(dirname -- "$0")/studip-lock.sh"

# alarm LEVEL HEADLINE DETAIL...: logs HEADLINE and DETAIL loudly, and HEADLINE on stderr as
# LEVEL: the container carries on, and this must not go unnoticed.
alarm() {
    local level="$1" headline="$2"
    shift 2
    studip_log "!!! $headline: $*"
    printf '%s: %s: %s\n' "$studip_log_name" "$level" "$headline" >&2
}

# --- the environment ---------------------------------------------------------------------

# read_secrets: every variable that may hold a secret can come from a file instead (NAME_FILE,
# a Docker or Kubernetes secret): the database's, and every STUDIP_CONFIG_<NAME> of Stud.IP.
read_secrets() {
    local name
    for name in MYSQL_HOST MYSQL_USER MYSQL_PASSWORD MYSQL_DATABASE $(studip_config_file_names); do
        file_env "$name"
    done
}

# studip_config_file_names: the NAME of every STUDIP_CONFIG_NAME_FILE in the environment.
# envvars: STUDIP_CONFIG_<NAME>_FILE STUDIP_CONFIG_<NAME>
studip_config_file_names() {
    env | sed -n 's/^\(STUDIP_CONFIG_[A-Za-z0-9_]*\)_FILE=.*/\1/p'
}

# check_environment: reads and checks every setting, so that a bad value stops the container
# before it changes anything. Sets STUDIP_CONFIG_TEMPLATE, data, hooks, is_root, db_port,
# db_wait and the flags demo_data, auto_migrate and migrate_strict.
check_environment() {
    local name value
    read_secrets
    for name in MYSQL_HOST MYSQL_USER MYSQL_DATABASE; do
        eval "value=\${$name:-}"
        [ -n "$value" ] || studip_fail "checking the environment: $name is required"
    done
    [ -n "${MYSQL_PASSWORD:-}" ] ||
        studip_fail "checking the environment: MYSQL_PASSWORD or MYSQL_PASSWORD_FILE is required"
    db_port=$(studip_number MYSQL_PORT 3306)
    db_wait=$(studip_number STUDIP_DB_WAIT 60)
    demo_data='' auto_migrate='' migrate_strict=''
    if studip_flag DEMO_DATA; then demo_data=1; fi
    if studip_flag AUTO_MIGRATE; then auto_migrate=1; fi
    if studip_flag STUDIP_MIGRATE_STRICT; then migrate_strict=1; fi
    # Read by config_local.inc.php, which would take a typo for off: checked here.
    studip_flag AUTO_PROXY || :
    studip_flag STUDIP_CACHING_ENABLE || :
    # Read by studip.ini and (in bytes) by Apache: checked here, before Apache's start.
    studip_size PHP_UPLOAD_LIMIT >/dev/null
    [ -d "$STUDIP_ROOT" ] || studip_fail "checking the environment: STUDIP_ROOT $STUDIP_ROOT is not a directory"
    STUDIP_CONFIG_TEMPLATE=${STUDIP_CONFIG_TEMPLATE:-/usr/local/share/studip/config_local.inc.php}
    data=$STUDIP_ROOT/data
    hooks=${STUDIP_HOOKS_DIR:-/docker-entrypoint.d}
    is_root=
    [ "$(id -u)" != 0 ] || is_root=1
}

# check_http_port COMMAND: for Apache (the apache image's server), STUDIP_HTTP_PORT must be a
# port; as a user other than root, Apache cannot bind one below the kernel's first
# unprivileged port (1024, unless the runtime lowers it, as Docker does): say what to set.
check_http_port() {
    local port first
    [ "${1##*/}" = apache2-foreground ] || return 0
    port=$(studip_number STUDIP_HTTP_PORT 80)
    if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
        studip_fail "reading STUDIP_HTTP_PORT: $port is not a port (1 to 65535)"
    fi
    [ -z "$is_root" ] || return 0
    # STUDIP_TEST_UNPRIVILEGED_PORT_START is for the tests alone: a file standing in for the
    # kernel's, so that they see both answers on any machine. No image sets it.
    first=$(cat "${STUDIP_TEST_UNPRIVILEGED_PORT_START:-/proc/sys/net/ipv4/ip_unprivileged_port_start}" 2>/dev/null) ||
        first=1024
    [ "$port" -lt "$first" ] || return 0
    alarm warning "APACHE CANNOT LISTEN ON PORT $port" "it runs as uid $(id -u), and ports below $first need root" \
        "here: set STUDIP_HTTP_PORT=8080 (and send the Service or the published port there)"
}

# copy_new FROM TO: copies FROM to TO unless TO exists, and never replaces a file: the copy goes
# through a temporary file and a hard link, since containers that share the tree or the data
# volume may copy at the same time. Returns 1 when TO was there.
copy_new() {
    cp -P -p "$1" "$2.new.$$"
    if ln "$2.new.$$" "$2" 2>/dev/null; then
        rm -f "$2.new.$$"
        return 0
    fi
    rm -f "$2.new.$$"
    [ -e "$2" ] || [ -L "$2" ] || studip_fail "copying $1: cannot link $2.new.$$ to $2"
    return 1
}

# --- the data directory ------------------------------------------------------------------

# link_and_seed NAME: makes public/NAME the link ../data/NAME and copies what the tree ships
# for it (seed/NAME) into data/NAME, file by file, keeping every file that is already there.
link_and_seed() {
    local public="$STUDIP_ROOT/public/$1" seed="$STUDIP_ROOT/seed/$1" target="$data/$1" path from to
    if [ -d "$public" ] && [ ! -L "$public" ]; then
        # A tree in the plain layout: its shipped folder becomes the seed.
        [ ! -e "$seed" ] || studip_fail "linking public/$1: the tree has both public/$1 and seed/$1"
        mkdir -p "$STUDIP_ROOT/seed"
        mv "$public" "$seed"
        studip_log "moved public/$1 to seed/$1"
    fi
    if [ ! -L "$public" ]; then
        mkdir -p "$STUDIP_ROOT/public"
        # -n: never a link inside the folder a link made meanwhile points to.
        ln -sn "../data/$1" "$public"
        studip_log "linked public/$1 to data/$1"
    fi
    [ -d "$seed" ] || return 0
    # find lists each folder before its contents, so folders exist before their files.
    (cd "$seed" && find . ! -name .) | while IFS= read -r path; do
        from=$seed/${path#./}
        to=$target/${path#./}
        if [ -e "$to" ] || [ -L "$to" ]; then
            continue
        elif [ -d "$from" ] && [ ! -L "$from" ]; then
            # -p: replicas sharing the volume may seed at the same time.
            mkdir -p "$to"
        elif ! copy_new "$from" "$to"; then
            continue
        fi
        [ -z "$is_root" ] || chown -h "$studip_web_user:0" "$to"
    done
    studip_log "seeded data/$1 from seed/$1 (files already there are kept)"
}

# The folders of the data volume that Stud.IP writes.
data_dirs='archiv assets_cache extern_config media_cache oer oer_logos pictures plugins_packages upload_doc'

prepare_data_directory() {
    local dir
    # As on OpenShift, where the uid is arbitrary and the group 0: what this start and the
    # server create in the volume is writable by the group, and so by the next uid of group 0.
    umask 0002
    mkdir -p "$data" || studip_fail "preparing the data directory: cannot create $data"
    if [ -z "$is_root" ]; then
        [ -w "$data" ] || studip_fail "preparing the data directory: $data is not writable by uid $(id -u)" \
            "(gid $(id -g)); make it writable by that user or group (Kubernetes: fsGroup)"
    fi
    for dir in $data_dirs; do
        mkdir -p "$data/$dir"
        # A folder made by a container that ran as root under an older image is www-data's alone.
        if [ -z "$is_root" ] && { [ ! -w "$data/$dir" ] || [ ! -x "$data/$dir" ]; }; then
            studip_fail "preparing the data directory: $data/$dir is not writable by uid $(id -u) (gid $(id -g));" \
                "as root, run chgrp -R 0 $data && chmod -R g+rwX $data once (or start once as root with this image)"
        fi
    done
    link_and_seed pictures
    link_and_seed plugins_packages
    [ -n "$is_root" ] || return 0
    # As root, the volume goes to www-data with group 0, group-writable, its folders setgid so
    # that what the server (www-data) makes in them is group 0's too: a later start as an
    # arbitrary uid with group 0 may write all of it. Only the top of the volume is checked on
    # each start: a volume whose top is not so (a new bind mount, a backup restored as root,
    # one of an older image, whose folders were www-data's alone) is handed over once, whole.
    if [ -n "$(find "$data" -prune \( ! -user "$studip_web_user" -o ! -group 0 -o ! -perm -2020 \))" ]; then
        studip_log "giving $data to $studip_web_user and group 0, group-writable (once: it was not)"
        chown -R "$studip_web_user:0" "$data"
        chmod -R g+rwX "$data"
        find "$data" -type d -exec chmod g+s {} +
    else
        find "$data" -mindepth 1 -maxdepth 1 \( ! -user "$studip_web_user" -o ! -group 0 \) \
            -exec chown "$studip_web_user:0" {} +
        find "$data" -mindepth 1 -maxdepth 1 -type d ! -perm -2070 -exec chmod g+rwxs {} +
    fi
}

# --- configuration -----------------------------------------------------------------------

# write_once FROM TO: copies FROM to TO unless TO exists; never overwrites. The images' trees
# have both files: this is for trees that lack them.
write_once() {
    local name="${2#"$STUDIP_ROOT"/}"
    if [ -e "$2" ]; then
        studip_log "keeping $name"
        return 0
    fi
    [ -f "$1" ] || studip_fail "writing $name: $1 is missing"
    [ -w "${2%/*}" ] ||
        studip_fail "writing $name: ${2%/*} is not writable by uid $(id -u) (a read-only tree?); mount the file there"
    # copy_new fails when another container wrote it meanwhile: that one is kept.
    if copy_new "$1" "$2"; then
        chmod 0644 "$2"
        studip_log "wrote $name from $1"
    else
        studip_log "keeping $name"
    fi
}

write_config() {
    write_once "$STUDIP_CONFIG_TEMPLATE" "$STUDIP_ROOT/config/config_local.inc.php"
    write_once "$STUDIP_ROOT/config/config.inc.php.dist" "$STUDIP_ROOT/config/config.inc.php"
}

# --- the database ------------------------------------------------------------------------

# option_value TEXT: TEXT quoted for a MariaDB option file.
option_value() {
    printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

# write_client_config: makes the private directory tmp (removed on exit) and in it the client's
# option file client_config. The client reads the credentials from there, readable by this
# user alone: a password on a command line is visible to every process in the container.
write_client_config() {
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    client_config=$tmp/client.cnf
    (
        umask 077
        {
            echo '[client]'
            echo "host=$(option_value "$MYSQL_HOST")"
            echo "port=$db_port"
            echo "user=$(option_value "$MYSQL_USER")"
            echo "password=$(option_value "$MYSQL_PASSWORD")"
            echo 'default-character-set=utf8mb4'
        } >"$client_config"
    )
}

# db ARGS...: the MariaDB client on the site's database.
db() {
    mariadb --defaults-file="$client_config" --database="$MYSQL_DATABASE" "$@"
}

wait_for_database() {
    local deadline error
    studip_log "waiting up to $db_wait s for database $MYSQL_DATABASE at $MYSQL_HOST:$db_port"
    # date counts whole seconds: one more, so that the wait is never shorter than db_wait.
    deadline=$(($(date +%s) + db_wait + 1))
    while ! error=$(db --connect-timeout=3 --execute='SELECT 1' 2>&1 >/dev/null); do
        case $error in
            # Wrong credentials or database: waiting will not help.
            *'ERROR 1044'* | *'ERROR 1045'* | *'ERROR 1049'* | *'ERROR 1698'*)
                studip_fail "connecting to database $MYSQL_DATABASE at $MYSQL_HOST:$db_port as $MYSQL_USER: $error"
                ;;
        esac
        [ "$(date +%s)" -lt "$deadline" ] ||
            studip_fail "waiting for the database: $MYSQL_HOST:$db_port did not answer within $db_wait s: $error"
        sleep 1
    done
    studip_log "database $MYSQL_DATABASE at $MYSQL_HOST:$db_port is up"
}

# Stud.IP does not support strict SQL modes (its config/studip-requirements.php), and MariaDB
# enables STRICT_TRANS_TABLES by default. A site may run so for now: warn, and start.
check_sql_mode() {
    local sql_mode
    sql_mode=$(db --batch --skip-column-names --execute='SELECT @@GLOBAL.sql_mode') ||
        studip_fail "reading the sql_mode of the database server at $MYSQL_HOST:$db_port failed"
    case ,$sql_mode, in
        *,STRICT_TRANS_TABLES,* | *,STRICT_ALL_TABLES,*)
            alarm warning "STRICT SQL MODE on the database server ($sql_mode)" \
                "Stud.IP does not support STRICT_TRANS_TABLES or STRICT_ALL_TABLES" \
                "(config/studip-requirements.php): some of its writes fail. Start MariaDB with" \
                "--sql-mode=NO_ENGINE_SUBSTITUTION, or run SET GLOBAL sql_mode = 'NO_ENGINE_SUBSTITUTION'" \
                "and keep it with sql_mode = NO_ENGINE_SUBSTITUTION under [mysqld] in my.cnf. Starting anyway."
            ;;
    esac
}

# The setup lock (studip-lock.sh), one per database: a second container waits for it, and a
# container that dies releases it with its connection.
setup_lock="CONCAT('studip-setup.', DATABASE())"

# take_setup_lock: waits for the setup lock, saying so while another container holds it.
take_setup_lock() {
    # The first try does not wait, so that the log says why this start pauses.
    local seconds=0
    until lock_get "$setup_lock" "$seconds"; do
        studip_log "waiting for another container that is setting up database $MYSQL_DATABASE"
        seconds=10
    done
    studip_log "holding the setup lock of database $MYSQL_DATABASE"
}

release_setup_lock() {
    if lock_close "$setup_lock"; then
        studip_log "released the setup lock"
    else
        alarm warning "LOST THE SETUP LOCK of database $MYSQL_DATABASE" \
            "its connection ended during the setup ($(lock_error)); another container may have set up at the same time"
    fi
}

# choose_dumps: sets dumps to the tree's dump files, in the order they are installed.
choose_dumps() {
    local dump
    dumps=
    if [ -f "$STUDIP_ROOT/db/studip-base-installation.sql" ] || [ -f "$STUDIP_ROOT/db/studip-demo-installation.sql" ]; then
        # Stud.IP 6: the demo installation is complete on its own and has the root user.
        if [ -n "$demo_data" ]; then
            need_dump db/studip-demo-installation.sql
        else
            need_dump db/studip-base-installation.sql
            need_dump db/studip-root-user.sql
        fi
    elif [ -f "$STUDIP_ROOT/db/studip.sql" ]; then
        need_dump db/studip.sql
        need_dump db/studip_default_data.sql
        need_dump db/studip_resources_default_data.sql
        need_dump db/studip_root_user.sql
        if [ -n "$demo_data" ]; then
            for dump in db/studip_demo_data.sql db/studip_mvv_demo_data.sql db/studip_resources_demo_data.sql; do
                [ ! -f "$STUDIP_ROOT/$dump" ] || dumps="$dumps $dump"
            done
        fi
    else
        studip_fail "installing the database: $STUDIP_ROOT has no Stud.IP dumps; looked for" \
            "db/studip-base-installation.sql, db/studip-demo-installation.sql (Stud.IP 6) and db/studip.sql (Stud.IP 5)"
    fi
}

need_dump() {
    [ -f "$STUDIP_ROOT/$1" ] || studip_fail "installing the database: $STUDIP_ROOT/$1 is missing"
    dumps="$dumps $1"
}

# A first install that does not finish (its container is stopped, or a dump fails) leaves this
# table beside the partial one. The next start, under the same lock, finds it: no site has run
# on those tables, so it drops them and installs again.
unfinished_table=studip_image_unfinished_install

install_dumps() {
    local dump
    choose_dumps
    lock_query "CREATE TABLE $unfinished_table (started TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)
        COMMENT 'Stud.IP image: a first install is running or did not finish; the next start installs again'; SELECT 1"
    for dump in $dumps; do
        studip_log "installing $dump"
        db <"$STUDIP_ROOT/$dump" ||
            studip_fail "installing $dump into database $MYSQL_DATABASE failed; the next start drops" \
                "the partial installation and installs again"
    done
    lock_query "DROP TABLE $unfinished_table; SELECT 1"
    studip_log "installed Stud.IP into database $MYSQL_DATABASE"
}

# drop_unfinished_install: drops every table and view of the database, the marker last, so that
# an interrupted drop is taken up again by the next start.
drop_unfinished_install() {
    lock_query "SET SESSION group_concat_max_len = 16777216; SELECT 1"
    lock_query "SELECT GROUP_CONCAT(IF(TABLE_TYPE = 'VIEW', 'DROP VIEW ', 'DROP TABLE '), '\`', REPLACE(TABLE_NAME, '\`', '\`\`'), '\`'
        ORDER BY TABLE_NAME = '$unfinished_table', TABLE_NAME SEPARATOR '; ')
        FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
    lock_query "SET SESSION FOREIGN_KEY_CHECKS = 0; $lock_answer; SET SESSION FOREIGN_KEY_CHECKS = 1; SELECT 1"
}

run_migrations() {
    local status
    studip_console migrate cli/migrate.php ||
        studip_fail "running the migrations: the tree has neither cli/studip nor cli/migrate.php"
    studip_log "running the migrations: $studip_cli_line"
    if (studip_exec_console); then
        studip_log "migrations done"
        return 0
    else
        status=$?
    fi
    [ -z "$migrate_strict" ] ||
        studip_fail "MIGRATIONS FAILED (exit code $status); STUDIP_MIGRATE_STRICT is set: not starting"
    alarm error "MIGRATIONS FAILED (exit code $status)" "Stud.IP may not work until they succeed." \
        "Starting anyway; set STUDIP_MIGRATE_STRICT=1 to stop instead."
}

migration_hint() {
    if studip_console migrate cli/migrate.php; then
        studip_log "AUTO_MIGRATE is off: if this image is newer than the database, migrations are" \
            "pending; run them once, as $studip_web_user in $STUDIP_ROOT: $studip_cli_line" \
            "(or start one container with AUTO_MIGRATE=1)"
    fi
}

setup_database() {
    local tab tables unfinished installed=''
    lock_open "$tmp"
    take_setup_lock
    tab=$(printf '\t')
    lock_query "SELECT COUNT(*), COUNT(NULLIF(TABLE_NAME = '$unfinished_table', 0))
        FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
    tables=${lock_answer%%"$tab"*} unfinished=${lock_answer#*"$tab"}
    if [ "$unfinished" != 0 ]; then
        alarm warning "AN EARLIER INSTALL DID NOT FINISH" "database $MYSQL_DATABASE holds the $tables tables of" \
            "a first install that stopped half-way ($unfinished_table is there); no site has run on them:" \
            "dropping them and installing again"
        drop_unfinished_install
        tables=0
    fi
    if [ "$tables" = 0 ]; then
        install_dumps
        installed=1
    else
        studip_log "database $MYSQL_DATABASE has $tables tables: installing nothing"
    fi
    if [ -n "$auto_migrate" ]; then
        run_migrations
    elif [ -z "$installed" ]; then
        migration_hint
    fi
    run_hooks
    release_setup_lock
}

# run_hooks: runs the executable *.sh files in the hooks directory (/docker-entrypoint.d,
# mounted or added by a derived image), in the order of their names, as the web server's user
# in the tree, with the database installed and migrated. They run under the setup lock: one
# container at a time, so that two replicas do not install the same plugin at once. A hook
# that fails stops the start.
run_hooks() {
    local hook status
    [ -d "$hooks" ] || return 0
    for hook in "$hooks"/*.sh; do
        # The pattern itself when nothing matched.
        [ -e "$hook" ] || continue
        if [ ! -x "$hook" ]; then
            studip_log "skipping hook $hook: it is not executable"
            continue
        fi
        studip_log "running hook $hook"
        if (studip_exec_as_web_user "$hook"); then
            continue
        else
            status=$?
        fi
        studip_fail "running hook $hook: exit code $status; not starting"
    done
}

# --- main --------------------------------------------------------------------------------

# needs_setup COMMAND: only the servers and the cron runner need the setup; any other command
# runs at once and changes nothing, without a database, as in the official images (docker
# run IMAGE php -v).
needs_setup() {
    case ${1##*/} in
        apache2-foreground | php-fpm | studip-cron) return 0 ;;
    esac
    return 1
}

# default_server: the image's server: apache2-foreground in the apache image, else php-fpm.
default_server() {
    if command -v apache2-foreground >/dev/null 2>&1; then
        echo apache2-foreground
    else
        echo php-fpm
    fi
}

_main() {
    # A first argument that is an option goes to the server, as in the official PHP images.
    if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
        set -- "$(default_server)" "$@"
    fi
    needs_setup "$1" || exec "$@"

    check_environment
    check_http_port "$1"
    prepare_data_directory
    write_config
    write_client_config
    wait_for_database
    check_sql_mode
    setup_database
    rm -rf "$tmp"
    trap - EXIT TERM INT
    studip_log "starting $1"
    exec "$@"
}

# Run when executed, not when sourced (a test's shell has another name).
if [ "${0##*/}" = docker-entrypoint.sh ]; then
    _main "$@"
fi
