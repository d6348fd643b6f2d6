#!/bin/sh
# Usage: test-image.sh PORT COMMAND...
# The test image's check of the tools Stud.IP's own CI jobs call: runs each COMMAND (a tool
# and its version option, as one argument: "zip -v") and fails naming every tool that is
# missing or fails; then `php -S` on PORT must serve a file, fetched with curl, as the
# end-to-end jobs use PHP's built-in server.
set -eu
port=$1
shift

failed=
for command in "$@"; do
	tool=${command%% *}
	# shellcheck disable=SC2086 # the tool and its options
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$tool: not found" >&2
		failed="$failed $tool"
	elif ! out=$($command 2>&1); then
		printf '%s: %s failed:\n%s\n' "$tool" "$command" "$out" >&2
		failed="$failed $tool"
	else
		printf '%s: %s\n' "$tool" "$(printf '%s\n' "$out" | head -n 1)"
	fi
done
if [ -n "$failed" ]; then
	echo "tools missing or failing:$failed" >&2
	exit 1
fi

# php -S: serves a file from a folder of its own; asked until it answers.
dir=$(mktemp -d)
echo "served by php -S" >"$dir/smoke.txt"
php -S "127.0.0.1:$port" -t "$dir" >"$dir/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
tries=0
until body=$(curl -fsS "http://127.0.0.1:$port/smoke.txt" 2>&1); do
	tries=$((tries + 1))
	if ! kill -0 "$server" 2>/dev/null || [ "$tries" -ge 50 ]; then
		echo "php -S 127.0.0.1:$port served nothing; last answer: $body" >&2
		sed 's/^/  /' "$dir/server.log" >&2
		exit 1
	fi
	sleep 0.2
done
if [ "$body" != "served by php -S" ]; then
	echo "php -S 127.0.0.1:$port served '$body' instead of the file" >&2
	exit 1
fi
echo "php -S: served a file"
