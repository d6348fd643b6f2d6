#!/bin/sh
# Entrypoint of the Stud.IP images. Before it runs the web server (apache2-foreground,
# php-fpm) or studip-cron it
#   1. links public/pictures and public/plugins_packages into the data volume and seeds them,
#   2. writes config/config_local.inc.php and config/config.inc.php where they are missing,
#   3. waits for the database (and warns when its sql_mode is strict),
#   4. under a database lock: installs Stud.IP's dumps into an empty database and, with
#      AUTO_MIGRATE, runs the migrations.
# Any other command (php -v, sh, studip-healthcheck) runs at once, with none of this.
# The variables it reads are listed in docs/image-contract.md ("Environment variables").
set -eu

studip_log_name=studip-entrypoint
# shellcheck source-path=SCRIPTDIR source=studip-functions.sh
. "$(dirname -- "$0")/studip-functions.sh"

STUDIP_CONFIG_TEMPLATE=${STUDIP_CONFIG_TEMPLATE:-/usr/local/share/studip/config_local.inc.php}
data=$STUDIP_ROOT/data
is_root=
[ "$(id -u)" != 0 ] || is_root=1

# alarm LEVEL HEADLINE DETAIL...: logs HEADLINE and DETAIL loudly, and HEADLINE on stderr as
# LEVEL: the container carries on, and this must not go unnoticed.
alarm() {
    alarm_level=$1 alarm_headline=$2
    shift 2
    studip_log "!!! $alarm_headline: $*"
    printf '%s: %s: %s\n' "$studip_log_name" "$alarm_level" "$alarm_headline" >&2
}

# --- the environment ---------------------------------------------------------------------

check_environment() {
    for name in MYSQL_HOST MYSQL_USER MYSQL_DATABASE; do
        eval "value=\${$name:-}"
        [ -n "$value" ] || studip_fail "checking the environment: $name is required"
    done
    if [ -n "${MYSQL_PASSWORD_FILE:-}" ]; then
        [ -z "${MYSQL_PASSWORD:-}" ] ||
            studip_fail "checking the environment: MYSQL_PASSWORD and MYSQL_PASSWORD_FILE are both set; set one"
        if [ ! -f "$MYSQL_PASSWORD_FILE" ] || [ ! -r "$MYSQL_PASSWORD_FILE" ]; then
            studip_fail "reading MYSQL_PASSWORD_FILE: $MYSQL_PASSWORD_FILE is not a readable file"
        fi
        db_password=$(cat -- "$MYSQL_PASSWORD_FILE")
    elif [ -n "${MYSQL_PASSWORD:-}" ]; then
        db_password=$MYSQL_PASSWORD
    else
        studip_fail "checking the environment: MYSQL_PASSWORD or MYSQL_PASSWORD_FILE is required"
    fi
    db_port=$(studip_number MYSQL_PORT 3306)
    db_wait=$(studip_number STUDIP_DB_WAIT 60)
    # Read every flag now, so that a bad value stops the container before it changes anything.
    demo_data='' auto_migrate='' migrate_strict=''
    if studip_flag DEMO_DATA; then demo_data=1; fi
    if studip_flag AUTO_MIGRATE; then auto_migrate=1; fi
    if studip_flag STUDIP_MIGRATE_STRICT; then migrate_strict=1; fi
    # Read by config_local.inc.php, which would take a typo for off: checked here.
    studip_flag AUTO_PROXY || :
    studip_flag STUDIP_CACHING_ENABLE || :
    [ -d "$STUDIP_ROOT" ] || studip_fail "checking the environment: STUDIP_ROOT $STUDIP_ROOT is not a directory"
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
    public=$STUDIP_ROOT/public/$1
    seed=$STUDIP_ROOT/seed/$1
    target=$data/$1
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
        [ -z "$is_root" ] || chown -h "$studip_web_user:$studip_web_user" "$to"
    done
    studip_log "seeded data/$1 from seed/$1 (files already there are kept)"
}

prepare_data_directory() {
    mkdir -p "$data" || studip_fail "preparing the data directory: cannot create $data"
    for dir in archiv assets_cache extern_config media_cache oer oer_logos pictures plugins_packages upload_doc; do
        mkdir -p "$data/$dir"
    done
    link_and_seed pictures
    link_and_seed plugins_packages
    if [ -z "$is_root" ]; then
        [ -w "$data" ] || studip_fail "preparing the data directory: $data is not writable by uid $(id -u)"
        return 0
    fi
    # Only the top of the volume is checked on each start: a volume whose top is owned by
    # someone else (a new bind mount, a backup restored as root) is handed over once, whole.
    if [ -n "$(find "$data" -prune ! -user "$studip_web_user")" ]; then
        studip_log "giving $data to $studip_web_user (once: its owner was not $studip_web_user)"
        chown -R "$studip_web_user:$studip_web_user" "$data"
    else
        find "$data" -mindepth 1 -maxdepth 1 ! -user "$studip_web_user" \
            -exec chown "$studip_web_user:$studip_web_user" {} +
    fi
}

# --- configuration -----------------------------------------------------------------------

# write_once FROM TO: copies FROM to TO unless TO exists; never overwrites.
write_once() {
    name=${2#"$STUDIP_ROOT"/}
    [ -e "$2" ] || [ -f "$1" ] || studip_fail "writing $name: $1 is missing"
    if [ ! -e "$2" ] && copy_new "$1" "$2"; then
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

# The client reads the credentials from an option file only this user can read: a password
# on a command line is visible to every process in the container.
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
            echo "password=$(option_value "$db_password")"
            echo 'default-character-set=utf8mb4'
        } >"$client_config"
    )
}

db() {
    mariadb --defaults-file="$client_config" --database="$MYSQL_DATABASE" "$@"
}

wait_for_database() {
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

# The setup lock is held by one client connection for as long as the setup runs: a second
# container waits for it, and a container that dies releases it with its connection.
lock_name="CONCAT('studip-setup.', DATABASE())"

lock_open() {
    mkfifo "$tmp/lock.in" "$tmp/lock.out"
    db --unbuffered --batch --skip-column-names <"$tmp/lock.in" >"$tmp/lock.out" 2>"$tmp/lock.err" &
    lock_pid=$!
    exec 8>"$tmp/lock.in" 9<"$tmp/lock.out"
    # A write to a connection that died must fail, not kill this shell.
    trap '' PIPE
    # The connection idles while the dumps and migrations run on others; a server closes
    # connections idle longer than wait_timeout (some are set to minutes), and the lock with
    # them. This one may idle for as long as the server allows (a year).
    lock_query "SET SESSION wait_timeout = 31536000; SELECT 1"
}

# lock_ask SQL: runs SQL on the lock's connection; its one-line answer lands in lock_answer.
# Fails when the connection has ended.
lock_ask() {
    printf '%s;\n' "$1" >&8 && IFS= read -r lock_answer <&9
}

# lock_query SQL: lock_ask, and a connection that ended stops the start.
lock_query() {
    lock_ask "$1" || studip_fail "querying database $MYSQL_DATABASE: the connection ended: $(lock_error)"
}

# lock_error: the client's last error on the lock's connection (it also echoes the statement).
lock_error() {
    grep '^ERROR' "$tmp/lock.err" | tail -n 1 | grep . || echo "the client exited"
}

lock_close() {
    if lock_ask "SELECT RELEASE_LOCK($lock_name)" && [ "$lock_answer" = 1 ]; then
        studip_log "released the setup lock"
    else
        alarm warning "LOST THE SETUP LOCK of database $MYSQL_DATABASE" \
            "its connection ended during the setup ($(lock_error)); another container may have set up at the same time"
    fi
    exec 8>&- 9<&-
    wait "$lock_pid" || :
    trap - PIPE
}

# choose_dumps: sets dumps to the tree's dump files, in the order they are installed.
choose_dumps() {
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
    lock_open
    # The first try does not wait, so that the log says why this start pauses.
    lock_wait=0
    while :; do
        lock_query "SELECT GET_LOCK($lock_name, $lock_wait)"
        case $lock_answer in
            1) break ;;
            0) studip_log "waiting for another container that is setting up database $MYSQL_DATABASE" ;;
            *) studip_fail "taking the setup lock of database $MYSQL_DATABASE: the server answered '$lock_answer'" ;;
        esac
        lock_wait=10
    done
    studip_log "holding the setup lock of database $MYSQL_DATABASE"
    tab=$(printf '\t')
    lock_query "SELECT COUNT(*), COUNT(NULLIF(TABLE_NAME = '$unfinished_table', 0))
        FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
    tables=${lock_answer%%"$tab"*} unfinished=${lock_answer#*"$tab"}
    installed=
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
    lock_close
}

# --- main --------------------------------------------------------------------------------

# A first argument that is an option goes to the server, as in the official PHP images.
if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
    if command -v apache2-foreground >/dev/null 2>&1; then
        set -- apache2-foreground "$@"
    else
        set -- php-fpm "$@"
    fi
fi

# Only the server and the cron runner need the setup: any other command runs at once and
# changes nothing, without a database, as in the official images (docker run IMAGE php -v).
case ${1##*/} in
    apache2-foreground | php-fpm | studip-cron) ;;
    *) exec "$@" ;;
esac

check_environment
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
