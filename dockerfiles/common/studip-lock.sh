# shellcheck shell=sh
# The setup lock of the Stud.IP images: MariaDB's GET_LOCK, held on one client connection
# that stays open for as long as the setup runs. docker-entrypoint.sh sources this file.
#
# How it works. A named lock of MariaDB belongs to the connection that took it: it is released
# by RELEASE_LOCK or when that connection ends, for whatever reason (the container is stopped
# or killed, the shell dies). So the lock needs a connection that lives as long as the setup,
# while the dumps and migrations run on connections of their own. A shell cannot keep a
# client connection open by itself, so:
#   lock_open starts one `mariadb` client in the background that reads statements from the
#   FIFO lock.in and writes answers to the FIFO lock.out, and opens both FIFOs in this shell:
#   fd 8 writes to the client, fd 9 reads from it. Opening one end of a FIFO waits for the
#   other, so the client and the shell meet there; the client answers each statement with
#   one line (--batch --skip-column-names --unbuffered), which lock_ask reads.
#   lock_close asks RELEASE_LOCK and closes fd 8: the client reads end of file and exits.
# If the client has died (the server closed the connection, or killed it), a write to fd 8
# fails and a read from fd 9 gets end of file: lock_ask fails, and the lock is gone with the
# connection; its last error is in lock.err. SIGPIPE is ignored meanwhile, so that such a
# write fails instead of killing the shell.
#
# The sourcing script defines db (runs the MariaDB client on the database, with the
# arguments it is given) and sources studip-functions.sh. The fds 8 and 9 are this file's.

# lock_open DIR: starts the lock's connection, with its FIFOs and error log in DIR (a private
# directory). Sets lock_dir and lock_pid.
lock_open() {
    lock_dir=$1
    mkfifo "$lock_dir/lock.in" "$lock_dir/lock.out"
    db --unbuffered --batch --skip-column-names <"$lock_dir/lock.in" >"$lock_dir/lock.out" 2>"$lock_dir/lock.err" &
    lock_pid=$!
    exec 8>"$lock_dir/lock.in" 9<"$lock_dir/lock.out"
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

# lock_query SQL: lock_ask, and a connection that ended stops the script.
lock_query() {
    lock_ask "$1" || studip_fail "querying database $MYSQL_DATABASE: the connection ended: $(lock_error)"
}

# lock_error: the client's last error on the lock's connection (it also echoes the statement).
lock_error() {
    grep '^ERROR' "$lock_dir/lock.err" | tail -n 1 | grep . || echo "the client exited"
}

# lock_get NAME_SQL SECONDS: asks for the lock named by the SQL expression NAME_SQL, waiting up
# to SECONDS for another connection to release it. Succeeds when this connection holds it,
# fails when the wait ran out; stops the script on any other answer.
lock_get() {
    lock_query "SELECT GET_LOCK($1, $2)"
    case $lock_answer in
        1) return 0 ;;
        0) return 1 ;;
    esac
    studip_fail "taking the setup lock of database $MYSQL_DATABASE: the server answered '$lock_answer'"
}

# lock_close NAME_SQL: releases the lock and ends the connection. Fails when the lock was no
# longer held (its connection ended during the setup): the caller says what that means.
lock_close() {
    local released=''
    if lock_ask "SELECT RELEASE_LOCK($1)" && [ "$lock_answer" = 1 ]; then
        released=1
    fi
    exec 8>&- 9<&-
    wait "$lock_pid" || :
    trap - PIPE
    [ -n "$released" ]
}
