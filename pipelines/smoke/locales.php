<?php
// Usage: php locales.php LOCALE...
// Succeeds if setlocale(LC_ALL, LOCALE) succeeds for every LOCALE, as Stud.IP switches
// language (lib/language.inc.php, setLocaleEnv); names every one that fails.
// Runs on every PHP from 7.2.

$missing = [];
foreach (array_slice($argv, 1) as $locale) {
    if (setlocale(LC_ALL, $locale) === false) {
        $missing[] = $locale;
    }
}
setlocale(LC_ALL, 'C');
if ($missing !== []) {
    fwrite(STDERR, 'locales missing (setlocale fails): ' . implode(' ', $missing) . "\n");
    exit(1);
}
echo 'locales present: ' . implode(' ', array_slice($argv, 1)) . "\n";
