package testutil

import (
	"os"
	"path/filepath"
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
