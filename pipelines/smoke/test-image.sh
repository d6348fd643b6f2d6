#!/bin/sh
# Usage: test-image.sh EXTENSION...
# The test image's check: the PHP extensions given (coverage driver included) and the tools
# that Stud.IP's own CI jobs call.
set -eu
sh "$(dirname "$0")/php-extensions.sh" "$@"
composer --version
node --version
npm --version
git --version
mariadb --version
