#!/bin/sh
# Usage: build-php-extensions.sh [PECL_EXTENSION...]
# Builds the PHP extensions Stud.IP needs (its config/studip-requirements.php) in an official
# PHP image whose distribution's build dependencies are installed. The Dockerfiles run it at
# build time (bind-mounted, not part of the images), so the list is kept in one place. The
# PECL extensions given (the test images' coverage driver) are built and enabled too.
set -eux
docker-php-ext-configure gd --with-freetype --with-jpeg --with-webp
# Debian keeps libldap in its multiarch folder, where ldap's configure does not look on its
# own (the way docker-library documents); Alpine keeps it in /usr/lib, where it does.
if [ -f /etc/debian_version ]; then
    docker-php-ext-configure ldap --with-libdir="lib/$(dpkg-architecture --query DEB_BUILD_MULTIARCH)"
fi
docker-php-ext-install -j "$(nproc)" gd gettext intl ldap mysqli pdo_mysql xsl zip
# opcache ships with every PHP; since 8.5 it is built in and loaded already.
php -m | grep -qx 'Zend OPcache' || docker-php-ext-enable opcache
# The official images ship pecl up to PHP 8.5; docker-library drops it with 8.6.
if [ $# -gt 0 ] && ! command -v pecl >/dev/null; then
    echo "build-php-extensions.sh: building $*: this PHP image has no pecl" >&2
    exit 1
fi
for ext in "$@"; do
    pecl install "$ext"
    docker-php-ext-enable "$ext"
done
rm -rf /tmp/pear
