<?php
/*
 * Stand-in for Stud.IP's console in the tests, installed into fixture trees as cli/studip, or
 * as the older cli/migrate.php and cli/cronjob-worker.php. Like Stud.IP, it reaches the
 * database through config/config_local.inc.php. It appends each command's start and end,
 * with time, pid and effective uid, to the file $FIXTURE_LOG, for the tests to read.
 *   migrate          applies the tree's db/migrations/NNN_*.sql that schema_version lacks
 *   cronjobs:worker  takes $FIXTURE_WORKER_SECONDS (default 0); fails once for each
 *                    $FIXTURE_LOG.fail file there is; with $FIXTURE_WORKER_LOSE_TERM set it
 *                    ignores the first SIGTERM, as a signal lost between fork and exec
 */
$legacy = ['migrate.php' => 'migrate', 'cronjob-worker.php' => 'cronjobs:worker'];
$command = $legacy[basename($argv[0])] ?? ($argv[1] ?? '');
// Each line: command, event (start or end), time, pid, effective uid, exit status ("-" at the start).
$record = static function ($event, $status = '-') use ($command) {
    $line = sprintf("%s %s %.6f %d %d %s\n", $command, $event, microtime(true), getmypid(), posix_geteuid(), $status);
    file_put_contents(getenv('FIXTURE_LOG'), $line, FILE_APPEND | LOCK_EX);
};

// sql runs statements with the credentials of config_local.inc.php and returns the output.
$sql = static function ($statements) {
    require dirname(__DIR__) . '/config/config_local.inc.php';
    $host = explode(';port=', $DB_STUDIP_HOST);
    $options = tempnam(sys_get_temp_dir(), 'console');
    file_put_contents($options, sprintf(
        "[client]\nhost=\"%s\"\nport=%d\nuser=\"%s\"\npassword=\"%s\"\ndefault-character-set=utf8mb4\n",
        addcslashes($host[0], '\\"'), $host[1] ?? 3306, addcslashes($DB_STUDIP_USER, '\\"'), addcslashes($DB_STUDIP_PASSWORD, '\\"')
    ));
    $client = proc_open(
        ['mariadb', "--defaults-file=$options", '--batch', '--skip-column-names', "--database=$DB_STUDIP_DATABASE"],
        [['pipe', 'r'], ['pipe', 'w'], STDERR],
        $pipes
    );
    fwrite($pipes[0], $statements);
    fclose($pipes[0]);
    $output = stream_get_contents($pipes[1]);
    $status = proc_close($client);
    unlink($options);
    if ($status !== 0) {
        exit(1);
    }
    return $output;
};

$record('start');
if ($command === 'migrate') {
    // Long enough for two unlocked runs to overlap.
    usleep(300000);
    $applied = explode("\n", trim($sql('SELECT version FROM schema_version;')));
    foreach (glob(dirname(__DIR__) . '/db/migrations/*.sql') as $file) {
        $version = (int) basename($file);
        if (!in_array((string) $version, $applied, true)) {
            echo 'applying ', basename($file), "\n";
            $sql(file_get_contents($file) . ";\nINSERT INTO schema_version VALUES ($version);");
        }
    }
} elseif ($command === 'cronjobs:worker') {
    if (getenv('FIXTURE_WORKER_LOSE_TERM')) {
        $terms = 0;
        pcntl_async_signals(true);
        pcntl_signal(SIGTERM, static function () use (&$terms) {
            if (++$terms > 1) {
                exit(143);
            }
        });
    }
    // A signal cuts usleep short: sleep until the deadline.
    $until = microtime(true) + (float) getenv('FIXTURE_WORKER_SECONDS');
    while (($left = $until - microtime(true)) > 0) {
        usleep((int) (1e6 * min($left, 0.05)));
    }
    $fail = getenv('FIXTURE_LOG') . '.fail';
    if (file_exists($fail)) {
        unlink($fail);
        $record('end', 1);
        fwrite(STDERR, "console: failing as asked\n");
        exit(1);
    }
} else {
    fwrite(STDERR, "console: unknown command '$command'\n");
    exit(2);
}
$record('end', 0);
