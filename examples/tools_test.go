package examples

import (
	"os"
	"os/exec"
	"testing"
)

// installHint says how to get each tool the tests run, and each file of one they load.
var installHint = map[string]string{
	"nginx":          "apt-get install nginx-light",
	"php-fpm8.2":     "apt-get install php8.2-fpm",
	"yamllint":       "apt-get install yamllint",
	nginxMimeTypes:   "apt-get install nginx-light",
	nginxFastCGIArgs: "apt-get install nginx-light",
}

// lookTool finds a tool the test needs. Without it the test is skipped with the install hint,
// except under CI=true, where CI must have installed it and its absence is a failure.
func lookTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	// Servers live in /usr/sbin, which not every PATH has.
	if _, statErr := os.Stat("/usr/sbin/" + name); statErr == nil {
		return "/usr/sbin/" + name
	}
	missing(t, name, err)
	return ""
}

// lookFile is lookTool for a file that is no command, such as a server's configuration.
func lookFile(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, path, err)
	}
	return path
}

func missing(t testing.TB, name string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("finding %s: %v (CI must install it: %s)", name, err, installHint[name])
	}
	t.Skipf("%s is not installed (%s)", name, installHint[name])
}
