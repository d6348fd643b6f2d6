#!/bin/sh
# Usage: build-locales.sh [DIR]
# Gives the image a system locale for every language Stud.IP ships a catalog for. Stud.IP
# switches language with setlocale(LC_ALL, '<lang>.UTF-8') (lib/language.inc.php,
# setLocaleEnv) before gettext; where that locale is missing, setlocale fails, gettext stays
# in the C locale and the English UI shows the German source strings. Its catalogs are
# locale/en (en_GB) and the German of the source (de_DE), as Stud.IP's own Dockerfile
# generates them. The Dockerfiles run this at build time (bind-mounted, not in the images).
#
# Debian (glibc): locales are compiled from the definitions of the locales package, which
# goes again afterwards: the compiled archive (/usr/lib/locale/locale-archive) is all that
# setlocale reads. With DIR, the locales are compiled into DIR instead (a LOCPATH, for tests;
# the locales package must be installed).
#
# Alpine (musl): nothing to do. musl's setlocale takes every well-formed name without a
# locale file (its locales are all UTF-8 with C conventions), so en_GB.UTF-8 and
# de_DE.UTF-8 always succeed (dockerfiles/locale_test.go shows it with musl-gcc). The
# image's PHP gettext is GNU libintl (built against gettext-dev), which outside glibc finds
# the language in the locale's name or in LC_ALL; Stud.IP sets both (putenv LC_ALL, then
# setlocale). The smoke test checks setlocale in every image, and gettext with the tree's
# English catalog in every Stud.IP image: on musl only that can fail.
set -eu

# The locales, as localedef's input names; each is generated with the UTF-8 charmap.
studip_locales='de_DE en_GB'

# generate_locales [DIR]: compiles each locale into the system's archive, or into DIR.
generate_locales() {
    for locale in $studip_locales; do
        localedef --inputfile="$locale" --charmap=UTF-8 "${1:+$1/}$locale.UTF-8"
    done
}

if [ $# -gt 0 ]; then
    generate_locales "$1"
elif [ -f /etc/debian_version ]; then
    apt-get update
    apt-get install -y --no-install-recommends locales
    generate_locales
    apt-get purge -y --auto-remove locales
    rm -rf /var/lib/apt/lists/*
fi
