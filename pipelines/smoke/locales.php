<?php
// Usage: php locales.php [--catalogs=DIR] LOCALE...
// Switches to each LOCALE as Stud.IP switches language (lib/language.inc.php, setLocaleEnv:
// LANGUAGE unset, LC_ALL=LOCALE in the environment, setlocale(LC_ALL, LOCALE), its text
// domain bound to the tree's locale folder) and fails naming every LOCALE that does not work:
// - setlocale must switch to LOCALE. glibc fails without the locale; musl never fails, but
//   falls back to C.UTF-8 for a name it does not take, so the name it returns must be LOCALE.
// - With DIR, a Stud.IP tree's locale folder: gettext must return the translation that the
//   LOCALE's catalog (DIR/<lang>/LC_MESSAGES/studip.mo, found as gettext finds it: en_GB.UTF-8,
//   en_GB, en) has for one of its messages, taken from the .mo file itself, so that no version's
//   message is written down here; under a LOCALE without a catalog (de_DE: German is Stud.IP's
//   source language), the message itself. On musl setlocale cannot fail: only this shows
//   that Stud.IP in English shows English.
// Runs on every PHP from 7.2.

// Stud.IP's text domain ($_language_domain in config/config_defaults.inc.php).
const DOMAIN = 'studip';

// switchTo switches to $locale as Stud.IP does and returns what setlocale returned.
function switchTo($locale, $dir)
{
    putenv('LANGUAGE');
    putenv("LC_ALL=$locale");
    $got = setlocale(LC_ALL, $locale);
    if ($dir !== null) {
        bindtextdomain(DOMAIN, $dir);
        textdomain(DOMAIN);
        bind_textdomain_codeset(DOMAIN, 'utf-8');
    }
    return $got;
}

// catalogFor is the catalog gettext reads under $locale (ll_CC.codeset), or null: it drops
// the codeset, then the territory.
function catalogFor($dir, $locale)
{
    $names = [$locale, preg_replace('/\..*/', '', $locale), preg_replace('/[_.].*/', '', $locale)];
    foreach (array_unique($names) as $name) {
        $file = "$dir/$name/LC_MESSAGES/" . DOMAIN . '.mo';
        if (is_file($file)) {
            return $file;
        }
    }
    return null;
}

// moEntries reads a GNU .mo catalog: a header (magic number 0x950412de in the writer's byte
// order, revision, number of strings N, offset of the table of msgids, offset of the table
// of msgstrs), then the two tables of N (length, offset) pairs. Returns its [msgid, msgstr]
// pairs in the file's order.
function moEntries($file)
{
    $data = @file_get_contents($file);
    if ($data === false) {
        throw new RuntimeException("reading $file: cannot read it");
    }
    $size = strlen($data);
    $magic = substr($data, 0, 4);
    if ($magic === "\xde\x12\x04\x95") {
        $word = 'V'; // little-endian
    } elseif ($magic === "\x95\x04\x12\xde") {
        $word = 'N'; // big-endian
    } else {
        throw new RuntimeException("reading $file: not a .mo catalog (no magic number 0x950412de)");
    }
    if ($size < 20) {
        throw new RuntimeException("reading $file: cut short: $size bytes, less than the header's 20");
    }
    $header = array_values(unpack("{$word}4", substr($data, 4, 16)));
    list($revision, $n, $msgids, $msgstrs) = $header;
    if ($revision >> 16 > 1) {
        throw new RuntimeException(sprintf('reading %s: revision %d.%d, which gettext does not read', $file, $revision >> 16, $revision & 0xffff));
    }
    $string = function ($table, $i) use ($data, $size, $word, $file) {
        $at = $table + 8 * $i;
        if ($at + 8 > $size) {
            throw new RuntimeException("reading $file: cut short: string table entry $i at $at, beyond its $size bytes");
        }
        list($length, $offset) = array_values(unpack("{$word}2", substr($data, $at, 8)));
        if ($offset + $length > $size) {
            throw new RuntimeException("reading $file: cut short: string $i at $offset+$length, beyond its $size bytes");
        }
        return (string) substr($data, $offset, $length);
    };
    $entries = [];
    for ($i = 0; $i < $n; $i++) {
        $entries[] = [$string($msgids, $i), $string($msgstrs, $i)];
    }
    return $entries;
}

// translated is the first entry of $entries that gettext() looks up and that translates its
// message into something else, or null. Skipped: the header (the empty msgid), messages with
// a context (msgctxt EOT msgid) or a plural (msgid NUL plural), which gettext() does not
// look up, and messages the catalog leaves as they are.
function translated(array $entries)
{
    foreach ($entries as $entry) {
        list($msgid, $msgstr) = $entry;
        if ($msgid !== '' && $msgstr !== '' && $msgstr !== $msgid && strpbrk($msgid, "\0\4") === false) {
            return $entry;
        }
    }
    return null;
}

// quoted is $s in single quotes, on one line.
function quoted($s)
{
    return "'" . addcslashes($s, "\0..\37'\\") . "'";
}

// checkGettext switches to each of $locales with the text domain bound to $dir and checks
// gettext with a message of the locale's catalog, or without one, of another's. Returns the
// problems and, for each locale checked, what gettext returned.
function checkGettext($dir, array $locales)
{
    $problems = $done = $catalogs = $samples = [];
    foreach ($locales as $locale) {
        $file = $catalogs[$locale] = catalogFor($dir, $locale);
        if ($file === null) {
            continue;
        }
        try {
            $samples[$locale] = translated(moEntries($file));
        } catch (RuntimeException $e) {
            $problems[] = $e->getMessage();
            continue;
        }
        if ($samples[$locale] === null) {
            unset($samples[$locale]);
            $problems[] = "reading $file: no message that it translates into something else";
        }
    }
    if ($samples === []) {
        if ($problems === []) {
            $problems[] = sprintf('no catalog %s.mo for %s in %s', DOMAIN, implode(' ', $locales), $dir);
        }
        return [$problems, $done];
    }
    $source = reset($samples)[0];
    foreach ($locales as $locale) {
        $file = $catalogs[$locale];
        if ($file === null) {
            $msgid = $want = $source;
        } elseif (isset($samples[$locale])) {
            list($msgid, $want) = $samples[$locale];
        } else {
            continue; // an unreadable catalog, named above
        }
        switchTo($locale, $dir);
        $got = gettext($msgid);
        if ($got === $want) {
            $done[] = $file === null
                ? "$locale: gettext returns the source " . quoted($msgid) . ' (no catalog)'
                : "$locale: gettext translates " . quoted($msgid) . ' into ' . quoted($want) . " ($file)";
        } elseif ($file === null) {
            $problems[] = 'gettext returned ' . quoted($got) . ' for the source ' . quoted($msgid) . " under $locale, which has no catalog: want the source";
        } elseif ($got === $msgid) {
            $problems[] = 'gettext returned the German source ' . quoted($msgid) . " for $locale, not the catalog's " . quoted($want) . " ($file): "
                . 'the system has no ' . preg_replace('/\..*/', '', $locale) . " locale, or PHP's gettext does not follow it";
        } else {
            $problems[] = 'gettext returned ' . quoted($got) . ' for ' . quoted($msgid) . " under $locale, not the catalog's " . quoted($want) . " ($file)";
        }
    }
    return [$problems, $done];
}

$dir = null;
$wanted = [];
foreach (array_slice($argv, 1) as $arg) {
    if (strpos($arg, '--catalogs=') === 0) {
        $dir = substr($arg, strlen('--catalogs='));
    } else {
        $wanted[] = $arg;
    }
}
if ($wanted === []) {
    fwrite(STDERR, "usage: php locales.php [--catalogs=DIR] LOCALE...\n");
    exit(2);
}

$problems = $done = $missing = [];
foreach ($wanted as $locale) {
    $got = switchTo($locale, null);
    if ($got !== $locale) {
        $missing[] = $got === false ? $locale : "$locale (got $got)";
    }
}
if ($missing !== []) {
    $problems[] = 'locales missing (setlocale does not switch to them): ' . implode(' ', $missing);
}
if ($dir !== null) {
    list($more, $done) = checkGettext($dir, $wanted);
    $problems = array_merge($problems, $more);
}
setlocale(LC_ALL, 'C');
if ($problems !== []) {
    fwrite(STDERR, implode("\n", $problems) . "\n");
    exit(1);
}
echo 'locales present: ' . implode(' ', $wanted) . "\n";
foreach ($done as $line) {
    echo "$line\n";
}
