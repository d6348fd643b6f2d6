package versions_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/versions"
)

const header = "repository: docker.io/studip/studip\nsource: https://gitlab.studip.de/studip/studip.git\n" +
	"platforms: [linux/amd64]\nbases: [apache]\nversions:\n"

// entries is a versions list of n entries, each of a minor line of its own; broken entries
// lack their node, a problem per entry if entries were checked.
func entries(n int, broken bool) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  - version: %d.%d.0\n    php: \"8.3\"\n", i/100+1, i%100)
		if !broken {
			b.WriteString("    node: \"22\"\n")
		}
	}
	return b.String()
}

// A file that is not a versions file is refused with what it is, at once.
func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	tooLarge := header + entries(1, false)
	tooLarge += "#" + strings.Repeat("x", versions.MaxFileSize-len(tooLarge)) + "\n" // one byte over
	tests := []struct {
		name     string
		path     string
		content  string // written to path if set
		wantErr  string
		wantType any // a pointer to the error type wanted
		wantIs   error
	}{
		{name: "missing file", path: "nope.yaml",
			wantErr: "/nope.yaml: no such file or directory", wantType: new(*versions.FileError), wantIs: os.ErrNotExist},
		{name: "directory", path: ".",
			wantErr: ": is a directory, not a versions file", wantType: new(*versions.FileError), wantIs: versions.ErrIsDir},
		{name: "larger than 1 MiB", path: "large.yaml", content: tooLarge,
			wantErr: "/large.yaml: the file is larger than 1024 KiB, the most a versions file may be; is it the right file?", wantType: new(*versions.Error)},
		{name: "more than 1000 entries, none of them checked", path: "long.yaml", content: header + entries(versions.MaxEntries+1, true),
			wantErr: "/long.yaml:6: versions lists 1001 entries, more than the 1000 a versions file may hold; is it the right file?", wantType: new(*versions.Error)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.path)
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f, err := versions.Load(path)
			if f != nil || err == nil {
				t.Fatalf("Load accepted %s", tt.path)
			}
			if !errors.As(err, tt.wantType) {
				t.Errorf("error %v is a %T, want %T", err, err, tt.wantType)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tt.wantIs)
			}
			if got := err.Error(); !strings.HasPrefix(got, dir) || !strings.HasSuffix(got, tt.wantErr) || strings.Contains(got, "\n") {
				t.Errorf("error:\n  %s\nwant the one line %s%s", got, dir, tt.wantErr)
			}
		})
	}
}

// The bounds themselves are allowed.
func TestLoadAtTheLimits(t *testing.T) {
	long := header + entries(versions.MaxEntries, false)
	large := header + entries(1, false)
	large += "#" + strings.Repeat("x", versions.MaxFileSize-len(large)-2) + "\n"
	for name, content := range map[string]string{"1000 entries": long, "1 MiB": large} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "versions.yaml")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := versions.Load(path); err != nil {
				t.Error(err)
			}
		})
	}
}

// endless is a reader that never ends, as a pipe from a runaway generator would.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '#'
	}
	return len(p), nil
}

// Parse stops reading at the bound: it returns for a reader that never ends.
func TestParseReadsNoMoreThanTheBound(t *testing.T) {
	_, err := versions.Parse(io.MultiReader(strings.NewReader(header), endless{}))
	want := "versions file: the file is larger than 1024 KiB, the most a versions file may be; is it the right file?"
	if _, ok := errors.AsType[*versions.Error](err); !ok || err.Error() != want {
		t.Errorf("err = %v, want the *versions.Error %q", err, want)
	}
}
