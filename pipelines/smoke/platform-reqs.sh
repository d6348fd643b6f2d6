#!/bin/sh
# Usage: platform-reqs.sh DIR
# Runs `composer check-platform-reqs --no-dev --lock` in DIR (a Stud.IP tree with its
# composer.lock) and fails naming every PHP extension the locked packages need that this
# PHP lacks, and every requirement it fails (platform-reqs.php reads composer's report).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
report=$(mktemp)
code=0
# Run as root in a throwaway container: composer's warning about that says nothing here.
COMPOSER_ALLOW_SUPERUSER=1 composer --working-dir="$1" --no-interaction \
	check-platform-reqs --no-dev --lock --format=json >"$report" || code=$?
php "$here/platform-reqs.php" "$report" "$code"
