package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A dagger CLI on PATH starts the engine: the command gets past "no Dagger engine" and
// reports what the CLI said when it fails.
func TestConnectUsesDaggerOnPath(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\necho 'fake dagger: cannot reach docker' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dagger"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("_EXPERIMENTAL_DAGGER_CLI_BIN", "") // connect sets it for the SDK; restored after
	code, _, stderr := runCI(t, map[string]string{"PATH": bin + string(filepath.ListSeparator) + "/usr/bin:/bin"},
		"build", "--file", "testdata/pipelines.yaml", "--dockerfiles", "../dockerfiles", "--version", "6.0", "--base", "apache")
	if code != 1 || strings.Contains(stderr, "no Dagger engine") || !strings.Contains(stderr, "connecting to the Dagger engine") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and a failed connection through the fake CLI", code, stderr)
	}
	if got := os.Getenv("_EXPERIMENTAL_DAGGER_CLI_BIN"); got != filepath.Join(bin, "dagger") {
		t.Errorf("_EXPERIMENTAL_DAGGER_CLI_BIN = %q, want the dagger on PATH", got)
	}
}
