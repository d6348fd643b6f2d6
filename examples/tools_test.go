package examples

import (
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// installHint says how to get each tool the tests run, and each file of one they load.
var installHint = map[string]string{
	"nginx":          "apt-get install nginx-light",
	"php-fpm8.2":     "apt-get install php8.2-fpm",
	"yamllint":       "apt-get install yamllint",
	nginxMimeTypes:   "apt-get install nginx-light",
	nginxFastCGIArgs: "apt-get install nginx-light",
}

// lookTool finds a tool the test needs (testutil.LookTool, with its install hint).
func lookTool(t testing.TB, name string) string {
	t.Helper()
	return testutil.LookTool(t, name, installHint[name])
}

// lookFile is lookTool for a file that is no command, such as a server's configuration.
func lookFile(t testing.TB, path string) string {
	t.Helper()
	return testutil.LookFile(t, path, installHint[path])
}
