package main

import (
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
)

// A maintainer smoke-tests their own checkout: ci test --source builds it as ci build
// --source does, instead of the version's git ref.
func TestTestLocalSource(t *testing.T) {
	checkout := t.TempDir()
	engine := daggertest.New("linux/amd64")
	engine.HostFile(checkout, "package.json", `{"scripts": {"build": "rspack build"}}`)
	code, stdout, stderr := runOn(t, engine, map[string]string{"SOURCE_DATE_EPOCH": epoch},
		"test", "--version", "6.0", "--base", "apache", "--source", checkout)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "passed 6.0.3 apache (built for linux/amd64, linux/arm64)\n") {
		t.Errorf("stdout does not report the smoke test:\n%s", stdout)
	}
	if refs := engine.Resolved(); len(refs) != 0 {
		t.Errorf("resolved %d git refs, want none: the checkout replaces the ref", len(refs))
	}
	read := 0
	for _, n := range engine.Reached() {
		if n.Field == "directory" && n.Parent != nil && n.Parent.Field == "host" && n.Str("path") == checkout {
			read++
		}
	}
	if read != 1 {
		t.Errorf("the checkout is read %d times, want once", read)
	}
	// The checkout's own package.json chose the asset command.
	if runs := engine.Runs("npm", "run", "build", "--", "--mode=production"); len(runs) != 1 {
		t.Errorf("the checkout's assets are built %d times with npm run build, want once", len(runs))
	}
}

// --source is checked as ci build checks it, and publish refuses it: a release is built from
// its git ref. Both exit 2 before the engine is asked anything.
func TestSourceUsage(t *testing.T) {
	creds := map[string]string{"REGISTRY_USERNAME": "bot", "REGISTRY_PASSWORD": password}
	tests := []usageCase{
		{name: "test of two versions", args: []string{"test", "--version", "6.0", "--version", "nightly", "--source", "."},
			wantErr: "ci test: --source replaces the source of one Stud.IP version, but 2 are selected (nightly, 6.0.3); narrow with --version"},
		{name: "test of no Stud.IP tree", args: []string{"test", "--source", "."},
			wantErr: "ci test: --source .: neither VERSION nor lib/bootstrap.php is there: not a Stud.IP tree; pass --version"},
		{name: "test of a test image", args: []string{"test", "--version", "tests-php8.3", "--source", "."},
			wantErr: "ci test: --source: tests-php8.3 is a test image, which holds no Stud.IP tree"},
		{name: "test of no directory", args: []string{"test", "--version", "6.0", "--source", "nope"},
			wantErr: "ci test: --source: nope is not a directory"},
		{name: "publish", vars: creds, args: []string{"publish", "--version", "6.0", "--source", "."},
			wantErr: "ci publish: --source: publish builds every release from its git ref"},
		{name: "publish dry run", args: []string{"publish", "--dry-run", "--version", "6.0", "--source", "."},
			wantErr: "ci publish: --source: publish builds every release from its git ref"},
	}
	checkUsage(t, tests)
}
