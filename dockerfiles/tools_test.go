package dockerfiles

import (
	"os"
	"os/exec"
	"testing"
)

// installHint says how to get each tool the tests run.
var installHint = map[string]string{
	"mariadbd":   "apt-get install mariadb-server",
	"mariadb":    "apt-get install mariadb-client",
	"php":        "apt-get install php8.2-cli",
	"shellcheck": "apt-get install shellcheck",
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
	if os.Getenv("CI") == "true" {
		t.Fatalf("finding %s: %v (CI must install it: %s)", name, err, installHint[name])
	}
	t.Skipf("%s is not installed (%s)", name, installHint[name])
	return ""
}
