<?php
// Usage: php locales.php LOCALE...
// Succeeds if setlocale(LC_ALL, LOCALE) switches to LOCALE for every LOCALE, as Stud.IP
// switches language (lib/language.inc.php, setLocaleEnv); names every one that fails.
// glibc fails without the locale; musl never fails, but falls back to C.UTF-8 for a name it
// does not take, so the name it returns must be LOCALE.
// Runs on every PHP from 7.2.

$missing = [];
foreach (array_slice($argv, 1) as $locale) {
    $got = setlocale(LC_ALL, $locale);
    if ($got !== $locale) {
        $missing[] = $got === false ? $locale : "$locale (got $got)";
    }
}
setlocale(LC_ALL, 'C');
if ($missing !== []) {
    fwrite(STDERR, 'locales missing (setlocale does not switch to them): ' . implode(' ', $missing) . "\n");
    exit(1);
}
echo 'locales present: ' . implode(' ', array_slice($argv, 1)) . "\n";
