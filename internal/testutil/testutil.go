// Package testutil holds what the project's tests share: golden files and the guard that
// keeps Dagger out of the pure packages. Only tests import it.
package testutil

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Golden compares got with the file at path, or rewrites the file under -update.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (go test -update creates it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// ImportsNoDagger fails t if any of the packages (go list patterns), or their tests, depend
// on the Dagger SDK: those run where no engine, and no SDK download, is possible.
func ImportsNoDagger(t testing.TB, patterns ...string) {
	t.Helper()
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goCmd, append([]string{"list", "-deps", "-test"}, patterns...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatalf("go list %s listed nothing", strings.Join(patterns, " "))
	}
	for _, pkg := range deps {
		if strings.HasPrefix(pkg, "dagger.io/") {
			t.Errorf("%s depends on %s", strings.Join(patterns, " "), pkg)
		}
	}
}
