#!/bin/sh
# Usage: debian-php-extensions.sh [PECL_EXTENSION...]
# build-php-extensions.sh (beside this script) in an official Debian PHP image: installs the
# headers of the libraries the extensions link against, builds them (and the PECL extensions
# given), then removes the headers again and keeps the libraries. The apache and tests
# Dockerfiles run it at build time (bind-mounted, not part of the images).
set -eux
here=$(dirname "$0")
saved="$(apt-mark showmanual)"
apt-get update
# LDAP's headers are libldap2-dev up to bullseye (the PHP 7.4 images) and libldap-dev since
# bookworm, where libldap2-dev is a transitional package.
ldap_dev=libldap-dev
apt-cache show libldap-dev 2>/dev/null | grep -qx 'Package: libldap-dev' || ldap_dev=libldap2-dev
apt-get install -y --no-install-recommends \
    libfreetype-dev \
    libicu-dev \
    libjpeg62-turbo-dev \
    "$ldap_dev" \
    libpng-dev \
    libwebp-dev \
    libxslt1-dev \
    libzip-dev
sh "$here/build-php-extensions.sh" "$@"
# Everything installed here goes again but the libraries that the extensions link against.
apt-mark auto '.*' >/dev/null
# shellcheck disable=SC2086 # a list of package names
apt-mark manual $saved
find "$(php-config --extension-dir)" -name '*.so' -exec ldd {} + \
    | awk '$2 == "=>" && $3 ~ /^\// && $3 !~ /^\/usr\/local\// { print $3 }' \
    | sed -e 's,^/usr/,/,' -e 's,^,*,' | sort -u \
    | xargs -r dpkg-query --search | cut -d: -f1 | sort -u \
    | xargs -r apt-mark manual
apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false
rm -rf /var/lib/apt/lists/*
