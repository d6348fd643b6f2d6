package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/plan"
)

// build --push: one target, pushed as the reference given and nothing else, with the
// password as a secret only (how a merge request's review image is pushed).
func TestBuildPush(t *testing.T) {
	const ref = "registry.example/studip/studip/review:feature-x"
	engine := daggertest.New("linux/amd64")
	checkout := t.TempDir()
	engine.HostFile(checkout, "package.json", `{"scripts": {"webpack-prod": "webpack"}}`)
	creds := map[string]string{"SOURCE_DATE_EPOCH": epoch, "REGISTRY_USERNAME": "gitlab-ci-token", "REGISTRY_PASSWORD": password}
	code, stdout, stderr := runOn(t, engine, creds, "build", "--version", "6.0", "--base", "apache", "--platform", "linux/amd64",
		"--source", checkout, "--push", ref)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	pushes := engine.Pushes()
	if len(pushes) != 1 {
		t.Fatalf("%d pushes, want one", len(pushes))
	}
	push := pushes[0]
	if push.Ref != ref {
		t.Errorf("pushed as %s, want %s", push.Ref, ref)
	}
	if !slices.Equal(push.Platforms, []string{"linux/amd64"}) {
		t.Errorf("pushed platforms %v, want the one selected", push.Platforms)
	}
	if got := push.Image.Labels()[plan.LabelVersion]; got != "6.0.3" {
		t.Errorf("pushed an image labelled version %q, want 6.0.3", got)
	}
	if !strings.Contains(stdout, "\npushed "+push.Digest+"\n") || !strings.HasPrefix(push.Digest, ref+"@sha256:") {
		t.Errorf("stdout does not report the push with its digest %s:\n%s", push.Digest, stdout)
	}
	if sent := len(engine.Requests(password)); sent != 1 || len(engine.Secrets()) != 1 {
		t.Errorf("REGISTRY_PASSWORD went out in %d requests as %d secrets, want one", sent, len(engine.Secrets()))
	}
	if strings.Contains(stdout+stderr, password) {
		t.Error("the password appears in the output")
	}
}

func TestBuildPushUsage(t *testing.T) {
	creds := map[string]string{"REGISTRY_USERNAME": "bot", "REGISTRY_PASSWORD": password}
	tests := []usageCase{
		{name: "two targets", vars: creds, args: []string{"build", "--version", "6.0", "--push", "registry.example/r:t"},
			wantErr: "ci build: --push pushes one target's images, but 2 are selected (6.0.3 apache, 6.0.3 fpm-alpine); narrow with --version and --base"},
		{name: "no credentials", args: []string{"build", "--version", "6.0", "--base", "apache", "--push", "registry.example/r:t"},
			wantErr: "ci build: --push: REGISTRY_USERNAME and REGISTRY_PASSWORD must both be set"},
		{name: "no tag", vars: creds, args: []string{"build", "--version", "6.0", "--base", "apache", "--push", "registry.example/r"},
			wantErr: `ci build: --push "registry.example/r" has no tag`},
		{name: "a digest", vars: creds, args: []string{"build", "--version", "6.0", "--base", "apache", "--push", "registry.example/r@sha256:" + strings.Repeat("a", 64)},
			wantErr: "a digest names existing content"},
		{name: "not a reference", vars: creds, args: []string{"build", "--version", "6.0", "--base", "apache", "--push", "Registry/R:T"},
			wantErr: `ci build: --push "Registry/R:T"`},
	}
	checkUsage(t, tests)
}

// build and test --source without --version build the checkout as the line its VERSION
// names.
func TestSourceFindsItsLine(t *testing.T) {
	tests := []struct {
		version  string // the tree's VERSION
		wantCode int
		want     string // the target built, or the error
	}{
		{"RELEASE 6.0.9", 0, "6.0.3 apache"},
		{"RELEASE 5.5", 0, "5.5.8 apache"},
		{"RELEASE 6.3.alpha", 0, "nightly apache"}, // main, or a merge request into it
		{"RELEASE 5.3.12", 2, "--source TREE is Stud.IP 5.3.12, whose line 5.3 the versions file does not build; pass --version"},
		{"6.0", 2, `--source TREE: VERSION: "6.0" is not RELEASE X.Y[.Z]; pass --version`},
	}
	for _, command := range []struct{ name, verb string }{{"build", "built"}, {"test", "passed"}} {
		for _, tt := range tests {
			t.Run(command.name+" "+tt.version, func(t *testing.T) {
				tree := t.TempDir()
				if err := os.WriteFile(filepath.Join(tree, "VERSION"), []byte(tt.version+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				engine := daggertest.New("linux/amd64")
				engine.HostFile(tree, "package.json", `{"scripts": {"webpack-prod": "webpack"}}`)
				code, stdout, stderr := runOn(t, engine, map[string]string{"SOURCE_DATE_EPOCH": epoch},
					command.name, "--source", tree, "--base", "apache", "--platform", "linux/amd64")
				stderr = strings.ReplaceAll(stderr, tree, "TREE")
				if code != tt.wantCode {
					t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
				}
				if tt.wantCode != 0 {
					if want := "ci " + command.name + ": " + tt.want; !strings.Contains(stderr, want) {
						t.Errorf("stderr:\n%s\nwant %q", stderr, want)
					}
					return
				}
				if !strings.Contains(stdout, command.verb+" "+tt.want+" ") {
					t.Errorf("stdout:\n%s\nwant %s %s", stdout, command.verb, tt.want)
				}
			})
		}
	}
}
