package dockerfiles

import (
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// installHint says how to get each tool the tests run, and each file of one they load.
var installHint = map[string]string{
	"apache2":    "apt-get install apache2-bin",
	"busybox":    "apt-get install busybox",
	"cgi-fcgi":   "apt-get install libfcgi-bin",
	"mariadbd":   "apt-get install mariadb-server",
	"mariadb":    "apt-get install mariadb-client",
	"php":        "apt-get install php8.2-cli",
	"php-fpm8.2": "apt-get install php8.2-fpm",
	"shellcheck": "apt-get install shellcheck",
	phpModule:    "apt-get install libapache2-mod-php8.2",
}

// lookTool finds a tool the test needs (testutil.LookTool, with its install hint).
func lookTool(t testing.TB, name string) string {
	t.Helper()
	return testutil.LookTool(t, name, installHint[name])
}

// lookFile is lookTool for a file that is no command, such as a server's module.
func lookFile(t testing.TB, path string) string {
	t.Helper()
	return testutil.LookFile(t, path, installHint[path])
}
