package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The edit itself is tested in package versions; these tests cover the command: what it
// prints, that it writes only a valid result, and its exit codes.
func TestRelease(t *testing.T) {
	long := "6.2.0-" + strings.Repeat("a", 130) // a pre-release whose tag no registry takes
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		golden     string // stdout, with the file's path written as versions.yaml
		wantErr    string // in stderr
		wantFile   string // in the file afterwards; "" when it must stay as it was
		badFixture bool   // start from a file with a problem at line 2
	}{
		{name: "patch release", args: []string{"6.0.4"}, golden: "release-patch.txt", wantFile: "  - version: 6.0.4   # the current line\n"},
		{name: "new minor line", args: []string{"6.1.0"}, golden: "release-new-line.txt",
			wantFile: "versions:\n  - version: 6.1.0\n    php: \"8.3\"\n    node: \"22\"\n  - version: 6.0.3"},
		{name: "new php drops a test image", args: []string{"5.5.9", "--php", "8.3"}, golden: "release-php.txt",
			wantFile: "  - version: 5.5.9\n    php: \"8.3\"\n"},
		{name: "nothing to change", args: []string{"6.0.3"}, golden: "release-unchanged.txt"},
		{name: "downgrade", args: []string{"6.0.2"}, wantCode: 2,
			wantErr: "ci release: versions.yaml: line 7: 6.0.2 is lower than 6.0.3, the current version of the 6.0 line; pass --force to go back"},
		{name: "invalid result", args: []string{long}, wantCode: 2,
			wantErr: "ci release: versions.yaml (edited, not written): planning tags: tag \"" + long + "\" of " + long + " apache is not a valid registry tag"},
		{name: "invalid file", args: []string{"6.0.4"}, badFixture: true, wantCode: 2,
			wantErr: "versions.yaml:2: unknown key \"repo\""},
		{name: "version with v", args: []string{"v6.0.4"}, wantCode: 2, wantErr: `ci release: version "v6.0.4" must not start with v (write 6.0.4)`},
		{name: "no version", args: nil, wantCode: 2, wantErr: "ci release: want one version X.Y.Z, got 0 arguments"},
		{name: "bad php", args: []string{"6.0.4", "--php", "8"}, wantCode: 2, wantErr: `ci release: --php "8" is not a PHP minor version, e.g. --php 8.3`},
		{name: "bad node", args: []string{"6.0.4", "--node", "v22"}, wantCode: 2, wantErr: `ci release: --node "v22" is not a Node major version, e.g. --node 22`},
		{name: "new lowest line", args: []string{"4.0.0"}, wantCode: 2,
			wantErr: "ci release: versions.yaml: 4.0.0 starts a new minor line and no lower line is there to take php and node from; pass --php and --node"},
		{name: "missing file", args: []string{"6.0.4", "--file", "nope.yaml"}, wantCode: 2,
			wantErr: "nope.yaml: no such file or directory\nci release: name the versions file with --file"},
	}
	fixture, err := os.ReadFile("testdata/release-versions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fixture
			if tt.badFixture {
				before = []byte(strings.Replace(string(fixture), "repository:", "repo:", 1))
			}
			path := filepath.Join(t.TempDir(), "versions.yaml")
			if err := os.WriteFile(path, before, 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runCI(t, nil, append([]string{"release", "--file", path}, tt.args...)...)
			stdout, stderr = strings.ReplaceAll(stdout, path, "versions.yaml"), strings.ReplaceAll(stderr, path, "versions.yaml")
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
			if tt.golden != "" {
				golden(t, tt.golden, stdout)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantFile == "" && string(after) != string(before):
				t.Errorf("the file changed:\n%s", after)
			case !strings.Contains(string(after), tt.wantFile):
				t.Errorf("the file lacks %q:\n%s", tt.wantFile, after)
			}
		})
	}
}
