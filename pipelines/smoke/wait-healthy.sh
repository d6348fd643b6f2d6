#!/bin/sh
# Usage: wait-healthy.sh SECONDS HOST [URL]
# Succeeds once the image's own studip-healthcheck passes against HOST (readiness: Apache
# answers GET / with a 2xx or 3xx, php-fpm answers its FastCGI ping with pong). The service
# may still be installing its database and studip-healthcheck checks once, so this asks
# again every 2 s until SECONDS have passed. With URL, it then wants URL to answer with a
# Stud.IP page (studip-page.php): studip-healthcheck does not read the page.
set -eu
seconds=$1
host=$2
url=${3-}
deadline=$(($(date +%s) + seconds))
until out=$(studip-healthcheck "$host" 2>&1); do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		echo "$host: not healthy within ${seconds}s; last check: $out" >&2
		exit 1
	fi
	sleep 2
done
echo "$out"
[ -z "$url" ] || exec php "$(dirname "$0")/studip-page.php" "$url"
