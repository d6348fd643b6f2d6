#!/bin/sh
# Usage: php-extensions.sh EXTENSION...
# Fails unless `php -m` lists every extension given, and names all that are missing.
set -eu
loaded=$(php -m)
missing=
for ext in "$@"; do
	printf '%s\n' "$loaded" | grep -qix -- "$ext" || missing="$missing $ext"
done
if [ -n "$missing" ]; then
	echo "PHP extensions missing:$missing" >&2
	exit 1
fi
echo "PHP extensions present: $*"
