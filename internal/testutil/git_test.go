package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// Git commits as the test's committer on main, whatever the user's configuration says.
func TestGit(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	WriteFile(t, filepath.Join(dir, "f"), "x\n")
	Git(t, dir, "init", "-q")
	Git(t, dir, "add", "f")
	Git(t, dir, "commit", "-q", "-m", "first")
	if got, want := Git(t, dir, "log", "--format=%an <%ae> %D"), "test <test@example.org> HEAD -> main"; got != want {
		t.Errorf("git log: %q, want %q", got, want)
	}
}
