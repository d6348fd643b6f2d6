#!/bin/sh
# Usage: serve.sh [-a HOST:PORT] [-p PATH] SECONDS GRACE COMMAND...
# Starts COMMAND (the image's entrypoint and server) in the background, its output in a log
# file, and succeeds once the image's own studip-healthcheck passes against it (at HOST:PORT,
# default the base's port on 127.0.0.1) and, with PATH, the server serves Stud.IP: its answer
# for PATH, after redirects, is a Stud.IP page (studip-healthcheck --page: over HTTP from
# Apache, over FastCGI from php-fpm, whose health check asks /ping, which answers while
# Stud.IP fails). It fails, with the server's answer and the end of its log, as soon as the
# outcome is clear:
# - the server stops: at once;
# - no answer at all: still installing (the entrypoint installs the database before it starts
#   the server), so it waits up to SECONDS for a first answer;
# - an answer that is not ready (a 5xx, or no Stud.IP page for PATH): the install is over
#   and only the server's warm-up is left, so it gives the server GRACE seconds more, then
#   calls the image broken.
set -eu

health_address=
page=
while getopts a:p: opt; do
	case $opt in
		a) health_address=$OPTARG ;;
		p) page=$OPTARG ;;
		*) echo "usage: serve.sh [-a HOST:PORT] [-p PATH] SECONDS GRACE COMMAND..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
seconds=$1
grace=$2
shift 2
log=$(mktemp)
server_command=$*

"$@" </dev/null >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

# fail MESSAGE: says why (MESSAGE ends with the last check, and so with the server's answer
# to --page), shows the end of the server's log, and fails.
fail() {
	echo "$1" >&2
	# 10 lines: the pipeline's report of a failed check keeps the last 20 lines of its output,
	# which leaves room for the reason and the answer (--page: at most 7 lines).
	echo "the end of the server's log ($server_command):" >&2
	tail -n 10 "$log" | sed 's/^/  /' >&2
	exit 1
}

# check [--live | --page PATH]: the image's health check, readiness or (--live) any answer at
# all, or (--page) whether the server's answer for PATH is a Stud.IP page.
check() {
	# shellcheck disable=SC2086 # no address: the check's default
	studip-healthcheck "$@" $health_address 2>&1
}

# still_running: fails the smoke test when the server has stopped.
still_running() {
	kill -0 "$server" 2>/dev/null && return 0
	code=0
	wait "$server" || code=$?
	fail "the server stopped with exit code $code before it was ready"
}

# poll DEADLINE [--live | --page PATH]: runs check every 2 s until it passes (and prints its
# output) or DEADLINE (seconds since the epoch) has come (and fails); the last check's
# output stays in out. Stops the smoke test when the server stops.
poll() {
	deadline=$1
	shift
	until out=$(check "$@"); do
		still_running
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 2
	done
	echo "$out"
}

poll "$(($(date +%s) + seconds))" --live ||
	fail "no answer within ${seconds}s (the install may hang); last check: $out"

broken_at=$(($(date +%s) + grace))
if ! poll "$broken_at"; then
	# The health check names only the status; the page's check shows the answer.
	if [ -n "$page" ]; then
		out="$out
$(check --page "$page" || true)"
	fi
	fail "broken: the server answers, but not ready, for ${grace}s; last check: $out"
fi

# The health check passes on a redirect (Apache) or php-fpm's /ping, before, and whether or
# not, Stud.IP's pages work: the page gets what is left of the warm-up.
if [ -n "$page" ]; then
	poll "$broken_at" --page "$page" ||
		fail "broken: the server answers, but $page is no Stud.IP page ${grace}s after its first answer; last check: $out"
fi
