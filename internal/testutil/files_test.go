package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "file.txt")
	WriteFile(t, path, "content\n")
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "content\n" {
		t.Errorf("read back %q, %v; want the content", got, err)
	}
}

// Git commits as the test's committer on main, whatever the user's configuration says.
func TestGit(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	WriteFile(t, filepath.Join(dir, "f"), "x\n")
	Git(t, dir, "init", "-q")
	Git(t, dir, "add", "f")
	Git(t, dir, "commit", "-q", "-m", "first")
	cmd := exec.Command(LookTool(t, "git"), "log", "--format=%an <%ae> %D")
	cmd.Dir = dir
	out, err := cmd.Output()
	if got, want := strings.TrimSpace(string(out)), "test <test@example.org> HEAD -> main"; err != nil || got != want {
		t.Errorf("git log: %q, %v; want %q", got, err, want)
	}
}
