<?php
// Usage: php platform-reqs.php REPORT EXIT_CODE
// Reads the JSON report of `composer check-platform-reqs --format=json` (a list of
// {name, version, status: success|missing|failed, failed_requirement: {source, type,
// target, constraint}}) and composer's exit code. Fails naming each missing extension and
// each failed requirement with the package that asks for it; fails too when composer did
// not give a report. Runs on every PHP from 7.2.

[, $file, $code] = $argv;
$report = json_decode((string) file_get_contents($file), true);
if (!is_array($report)) {
    fwrite(STDERR, "composer check-platform-reqs (exit code $code) gave no report: "
        . substr(trim((string) file_get_contents($file)), 0, 500) . "\n");
    exit(1);
}

$missing = $failed = [];
foreach ($report as $req) {
    $by = $req['failed_requirement'] ?? null;
    $why = $by === null ? '' : sprintf(' (%s %s %s %s)', $by['source'], $by['type'], $by['target'], $by['constraint']);
    if ($req['status'] === 'missing') {
        $missing[] = $req['name'] . $why;
    } elseif ($req['status'] !== 'success') {
        $failed[] = sprintf('%s %s%s', $req['name'], $req['version'], $why);
    }
}
if ($missing !== []) {
    fwrite(STDERR, "PHP extensions missing for the locked packages:\n  " . implode("\n  ", $missing) . "\n");
}
if ($failed !== []) {
    fwrite(STDERR, "platform requirements not met:\n  " . implode("\n  ", $failed) . "\n");
}
if ($missing !== [] || $failed !== []) {
    exit(1);
}
if ($code !== '0') {
    fwrite(STDERR, "composer check-platform-reqs failed with exit code $code, naming no requirement\n");
    exit(1);
}
printf("platform requirements met: %d checked\n", count($report));
