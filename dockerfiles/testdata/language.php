<?php
// Usage: php language.php LANGUAGE LOCALE_DIR MSGID
// Switches language as Stud.IP does (lib/language.inc.php, setLocaleEnv: LC_ALL in the
// environment, setlocale(LC_ALL, '<lang>.UTF-8'), the text domain "studip" bound to its
// locale folder) and prints what setlocale returned and the translation of MSGID.

[, $language, $localeDir, $msgid] = $argv;
putenv('LANGUAGE');
putenv("LC_ALL=$language.UTF-8");
$locale = setlocale(LC_ALL, "$language.UTF-8");
bindtextdomain('studip', $localeDir);
textdomain('studip');
bind_textdomain_codeset('studip', 'utf-8');
echo json_encode(['setlocale' => $locale, 'text' => gettext($msgid)]), "\n";
