package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
)

// ci gitlab takes each platform's runner tags from its variable, comma-separated, and
// leaves a platform without them to any runner.
func TestGitLabRunnerTags(t *testing.T) {
	vars := map[string]string{"STUDIP_RUNNER_TAGS_ARM64": " arm64, docker ,,arm64"}
	code, stdout, stderr := runCI(t, vars, "gitlab", "-f", "testdata/versions.yaml", "--command", "publish", "--version", "6.0")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	jobs := strings.Split(stdout, "\nstage ")
	for _, job := range jobs[1:] {
		tagged := strings.Contains(job, "  tags:\n    - arm64\n    - docker\n  script:")
		if arm := strings.HasPrefix(job, "6.0.3 linux/arm64:"); arm != tagged {
			t.Errorf("runner tags of job %q: tagged %v", strings.SplitN(job, "\n", 2)[0], tagged)
		}
	}
	if len(jobs) != 3 {
		t.Errorf("%d platform jobs, want 2:\n%s", len(jobs)-1, stdout)
	}
}

// The flags of platform and assemble jobs: --platform only with --stage, not both kinds at
// once, and the staging login required.
func TestPublishStageFlags(t *testing.T) {
	release := map[string]string{"REGISTRY_USERNAME": "bot", "REGISTRY_PASSWORD": password}
	staging := map[string]string{"STAGING_REGISTRY_USERNAME": "ci", "STAGING_REGISTRY_PASSWORD": "job-token"}
	tests := []struct {
		name    string
		vars    map[string]string
		args    []string
		wantErr string
	}{
		{"both kinds", release, []string{"--stage", "r/s", "--from-stage", "r/s"}, "--stage and --from-stage: a job either stages images or assembles them"},
		{"platform without stage", release, []string{"--platform", "linux/amd64"}, "a platform job takes --platform with --stage"},
		{"stage without its login", release, []string{"--stage", "r/s"}, "STAGING_REGISTRY_USERNAME and STAGING_REGISTRY_PASSWORD must both be set"},
		{"assemble without the release login", staging, []string{"--from-stage", "r/s"}, "REGISTRY_USERNAME and REGISTRY_PASSWORD must both be set"},
		{"pin to a branch", release, []string{"--ref-commit", "nightly=main"}, `--ref-commit: pinning source commits: nightly: "main" is no full commit ID`},
		{"pin without a version", release, []string{"--ref-commit", strings.Repeat("a", 40)}, "want VERSION=COMMIT"},
		{"pin of no version", release, []string{"--ref-commit", "7.0.0=" + strings.Repeat("a", 40)}, "--ref-commit: pinning source commits: 7.0.0 is no Stud.IP version of the file"},
		{"pinned twice", release, []string{"--ref-commit", "nightly=" + strings.Repeat("a", 40), "--ref-commit", "nightly=" + strings.Repeat("b", 40)}, "--ref-commit: nightly is pinned twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCI(t, tt.vars, append([]string{"publish", "-f", "testdata/versions.yaml"}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, tt.wantErr)
			}
		})
	}
}

// A platform job needs no release login and pushes its platform's images to the staging
// repository only, signing nothing and saying nothing of it.
func TestPublishPlatformJob(t *testing.T) {
	engine := daggertest.New("linux/arm64")
	engine.GitFile(fixtureSource, "", "package.json", `{"scripts": {"webpack-prod": "webpack --config webpack.prod.js --mode production"}}`)
	var out, errOut bytes.Buffer
	vars := map[string]string{"STAGING_REGISTRY_USERNAME": "ci", "STAGING_REGISTRY_PASSWORD": "job-token"}
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	args := []string{"publish", "--file", fixtureFile, "--dockerfiles", t.TempDir(), "--version", "6.0", "--platform", "linux/arm64", "--stage", "gitlab.example/g/p/staging"}
	if code := run(withConnect(context.Background(), engine.Connect), args, e); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut.String())
	}
	if strings.Contains(errOut.String(), "unsigned") {
		t.Errorf("a platform job warns of signing:\n%s", errOut.String())
	}
	for _, ev := range engine.Evaluated("publish") {
		if a := ev.Args["address"].(string); !strings.HasPrefix(a, "gitlab.example/g/p/staging:") {
			t.Errorf("a platform job pushed %s", a)
		}
	}
	if n := strings.Count(out.String(), "pushed gitlab.example/g/p/staging:"); n != 2 {
		t.Errorf("staged %d images, want 6.0.3's two bases on linux/arm64:\n%s", n, out.String())
	}
}

// The platform jobs of a generated publish build the commit --ref-commit names, resolving no
// ref, whatever the version's tag or branch names by the time each runs.
func TestPublishPlatformJobsBuildThePinnedCommit(t *testing.T) {
	pinned := strings.Repeat("5", 40)
	for i, pl := range []string{"linux/amd64", "linux/arm64"} {
		engine := daggertest.New(pl)
		engine.SetCommit(fixtureSource, "v6.0.3", strings.Repeat(string(rune('a'+i)), 40)) // the tag moved
		engine.GitFile(fixtureSource, "", "package.json", `{"scripts": {"webpack-prod": "webpack --config webpack.prod.js --mode production"}}`)
		var out, errOut bytes.Buffer
		vars := map[string]string{"STAGING_REGISTRY_USERNAME": "ci", "STAGING_REGISTRY_PASSWORD": "job-token"}
		e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
		args := []string{"publish", "--file", fixtureFile, "--dockerfiles", t.TempDir(), "--version", "6.0", "--ref-commit", "6.0.3=" + pinned,
			"--platform", pl, "--stage", "gitlab.example/g/p/staging"}
		if code := run(withConnect(context.Background(), engine.Connect), args, e); code != 0 {
			t.Fatalf("%s job: exit %d, stderr:\n%s", pl, code, errOut.String())
		}
		if refs := engine.Resolved(); len(refs) != 0 {
			t.Errorf("%s job resolved %v, want the pinned commit built as it is", pl, refs)
		}
		pushes := engine.Evaluated("publish")
		for _, ev := range pushes {
			img, err := engine.Image(ev.Args["address"].(string), pl)
			if err != nil || img.Labels["org.opencontainers.image.revision"] != pinned {
				t.Errorf("%s job staged %s with revision %q (%v), want %s", pl, ev.Args["address"], img.Labels["org.opencontainers.image.revision"], err, pinned)
			}
		}
		if len(pushes) != 2 {
			t.Errorf("%s job staged %d images, want 6.0.3's two bases", pl, len(pushes))
		}
	}
}
