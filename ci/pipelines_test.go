package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/internal/testutil"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// These tests run build, test and publish end to end on a fake engine: what the commands
// add to package pipelines (whose tests check the stage graph, push order, the secret and
// per-target failures): flags and environment variables reaching the pipeline, what the
// commands report, and their exit codes.

const (
	fixtureFile   = "testdata/pipelines.yaml"
	fixtureSource = "https://git.example/studip/studip.git" // its source
	epoch         = "1767225600"                            // SOURCE_DATE_EPOCH, so that the labels are known
	password      = "s3cret-Pa55word"
)

// runOn runs a ci command in process against engine, with the fixture's versions file and
// the given environment variables and no others. Every tree the fixture names has a
// package.json with Stud.IP's webpack-prod script.
func runOn(t *testing.T, engine *daggertest.Engine, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	engine.GitFile(fixtureSource, "", "package.json", `{"scripts": {"webpack-prod": "webpack --config webpack.prod.js --mode production"}}`)
	var out, errOut testutil.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	args = append(args, "--file", fixtureFile, "--dockerfiles", t.TempDir())
	code = run(withConnect(context.Background(), engine.Connect), args, e)
	return code, out.String(), errOut.String()
}

// fixture is the plan of the fixture's versions file.
func fixture(t *testing.T) *plan.Plan {
	t.Helper()
	f, err := versions.Load(fixtureFile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.New(f, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The build command builds every target for its platforms, with SOURCE_DATE_EPOCH as the
// images' creation time, and reports each target.
func TestBuild(t *testing.T) {
	p := fixture(t)
	engine := daggertest.New("linux/amd64")
	code, stdout, stderr := runOn(t, engine, map[string]string{"SOURCE_DATE_EPOCH": epoch}, "build")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var want []string
	images := 0
	for _, tg := range p.Targets {
		want = append(want, fmt.Sprintf("built %s (%s)", tg, platforms(tg)))
		images += len(tg.Platforms)
	}
	want = append(want, fmt.Sprintf("summary: %d of %d targets built", len(p.Targets), len(p.Targets)))
	if got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n"); !slices.Equal(got, want) {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, strings.Join(want, "\n"))
	}
	built := engine.Images()
	if len(built) != images {
		t.Errorf("%d images built, want one per target and platform (%d)", len(built), images)
	}
	created := time.Unix(1767225600, 0).UTC().Format(time.RFC3339)
	for _, img := range built {
		if got := img.Labels()[plan.LabelCreated]; got != created {
			t.Errorf("an image created %q, want SOURCE_DATE_EPOCH's %s: %v", got, created, img)
		}
	}
}

// The test command smoke-tests every target on the engine's platform and reports each.
func TestTest(t *testing.T) {
	p := fixture(t)
	engine := daggertest.New("linux/arm64")
	code, stdout, stderr := runOn(t, engine, map[string]string{"SOURCE_DATE_EPOCH": epoch}, "test")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	checks := engine.Checks()
	if len(checks) == 0 {
		t.Fatal("no checks ran")
	}
	for _, check := range checks {
		if check.Platform() != "linux/arm64" {
			t.Errorf("a check on %s, want the engine's platform: %v", check.Platform(), check)
		}
	}
	for _, tg := range p.Targets {
		if want := fmt.Sprintf("passed %s (built for %s)\n", tg, platforms(tg)); !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
}

// The publish command pushes with the credentials of the environment and reports every
// reference pushed with its digest, in push order; the password reaches the engine once,
// as a secret, and shows in no output.
func TestPublish(t *testing.T) {
	engine := daggertest.New("linux/amd64")
	creds := map[string]string{"SOURCE_DATE_EPOCH": epoch, "REGISTRY_USERNAME": "bot", "REGISTRY_PASSWORD": password}
	code, stdout, stderr := runOn(t, engine, creds, "publish")
	// Without signing variables the one thing on stderr is the warning that says so.
	if code != 0 || !strings.HasPrefix(stderr, "warning: publishing unsigned") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	// Targets in plan order, each its status, then its references in push order.
	p := fixture(t)
	var want []string
	for _, tg := range p.Targets {
		want = append(want, "built "+tg.String())
		for _, push := range engine.Pushes() {
			if slices.ContainsFunc(tg.Tags, func(tag plan.Tag) bool { return tg.Ref(tag) == push.Ref }) {
				want = append(want, "pushed "+push.Digest)
			}
		}
	}
	want = append(want, fmt.Sprintf("summary: %d of %d targets pushed", len(p.Targets), len(p.Targets)))
	if got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n"); !slices.Equal(got, want) {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, strings.Join(want, "\n"))
	}
	if sent := len(engine.Requests(password)); sent != 1 || len(engine.Secrets()) != 1 {
		t.Errorf("REGISTRY_PASSWORD went out in %d requests as %d secrets, want one", sent, len(engine.Secrets()))
	}
	if strings.Contains(stdout+stderr, password) {
		t.Error("the password appears in the output")
	}
}

// A failed target fails the command (exit 1) after the others ran: each failure on stderr,
// the count in the summary.
func TestPublishFailure(t *testing.T) {
	creds := map[string]string{"SOURCE_DATE_EPOCH": epoch, "REGISTRY_USERNAME": "bot", "REGISTRY_PASSWORD": password}
	tests := []struct {
		name    string
		fail    func(*daggertest.Engine)
		wantOut string
		wantErr []string // lines of stderr
	}{
		{name: "a failed push",
			fail: func(e *daggertest.Engine) {
				e.FailPublish(func(a string) bool { return strings.HasSuffix(a, ":6.0.3") })
			},
			wantOut: "summary: 7 of 8 targets pushed, 1 failed\n",
			wantErr: []string{"error: pushing 6.0.3 apache as registry.example/studip/studip:6.0.3: ", "ci publish: 1 of 8 targets failed"}},
		{name: "a failed build on one platform",
			fail: func(e *daggertest.Engine) {
				e.FailDockerBuild("fpm-alpine/Dockerfile", "linux/arm64", "ERROR: unable to select packages:\n  icu-dev (no such package)\n")
			},
			wantOut: "summary: 6 of 8 targets pushed, 2 failed\n",
			wantErr: []string{"error: building nightly fpm-alpine for linux/arm64: ", "      icu-dev (no such package)",
				"error: building 6.0.3 fpm-alpine for linux/arm64: ", "ci publish: 2 of 8 targets failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := daggertest.New("linux/amd64")
			tt.fail(engine)
			code, stdout, stderr := runOn(t, engine, creds, "publish")
			if code != 1 || !strings.HasSuffix(stdout, tt.wantOut) {
				t.Errorf("exit %d, stdout:\n%s\nwant exit 1 and %q", code, stdout, tt.wantOut)
			}
			lines := strings.Split(stderr, "\n")
			for _, want := range tt.wantErr {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, want) }) {
					t.Errorf("stderr lacks a line %q...:\n%s", want, stderr)
				}
			}
			if strings.Contains(stdout+stderr, password) {
				t.Error("the password appears in the output")
			}
		})
	}
}

func TestPublishDryRun(t *testing.T) {
	p := fixture(t)
	engine := daggertest.New("linux/amd64")
	code, stdout, stderr := runOn(t, engine, map[string]string{"SOURCE_DATE_EPOCH": epoch}, "publish", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if pushes := engine.Pushes(); len(pushes) != 0 {
		t.Errorf("a dry run pushed %v", pushes)
	}
	for _, tg := range p.Targets {
		for _, tag := range tg.Tags {
			if want := fmt.Sprintf("would push %s (%s)\n", tg.Ref(tag), platforms(tg)); !strings.Contains(stdout, want) {
				t.Errorf("stdout lacks %q", want)
			}
		}
	}
}

// --export writes one tarball per selected target into the directory, which it creates.
func TestExport(t *testing.T) {
	p := fixture(t)
	engine := daggertest.New("linux/amd64")
	dir := filepath.Join(t.TempDir(), "images")
	code, stdout, stderr := runOn(t, engine, map[string]string{"SOURCE_DATE_EPOCH": epoch}, "build", "--version", "6.0", "--version", "tests", "--export", dir)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("the export directory was not created: %v", err)
	}
	exported := map[string]bool{}
	for _, ex := range engine.Exports() {
		exported[ex.Path] = true
	}
	selected := 0
	for _, tg := range p.Targets {
		if tg.Minor != "6.0" && tg.Channel != plan.Tests {
			continue
		}
		selected++
		path := filepath.Join(dir, tg.Tags[0].Name+".tar")
		if !exported[path] {
			t.Errorf("%s: %s not exported", tg, path)
		}
		if want := fmt.Sprintf("exported %s (%s): %s\n", tg, platforms(tg), path); !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if len(exported) != selected {
		t.Errorf("%d exports, want one per selected target (%d)", len(exported), selected)
	}
}

// A build that fails before building leaves no export directory behind.
func TestExportCreatesNothingOnFailure(t *testing.T) {
	tests := []struct {
		name    string
		connect bool // a fake engine, else none
		args    []string
	}{
		{name: "no engine", args: []string{"--version", "6.0"}},
		{name: "a filter matching nothing", connect: true, args: []string{"--version", "7.0"}},
		{name: "a bad flag", connect: true, args: []string{"--jobs", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "images")
			args := append([]string{"build", "--export", dir}, tt.args...)
			var code int
			if tt.connect {
				code, _, _ = runOn(t, daggertest.New("linux/amd64"), nil, args...)
			} else {
				code, _, _ = runCI(t, nil, append(args, "--file", fixtureFile, "--dockerfiles", t.TempDir())...)
			}
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the failed command left %s behind (%v)", dir, err)
			}
		})
	}
}

// usageCase is a command line that is bad input: it must exit 2 with wantErr on stderr.
type usageCase struct {
	name    string
	vars    map[string]string
	args    []string
	wantErr string
}

// checkUsage runs each case on a fake engine of its own: it exits 2 with its message before
// the engine is asked anything.
func checkUsage(t *testing.T, tests []usageCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := daggertest.New("linux/amd64")
			code, _, stderr := runOn(t, engine, tt.vars, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, tt.wantErr)
			}
			if q := engine.Queries(); len(q) > 0 {
				t.Errorf("the engine was asked %d queries before the input was checked", len(q))
			}
		})
	}
}

// Bad input exits 2 before the engine is asked anything.
func TestPipelineUsage(t *testing.T) {
	creds := map[string]string{"REGISTRY_USERNAME": "bot", "REGISTRY_PASSWORD": password}
	tests := []usageCase{
		{name: "no credentials", args: []string{"publish"}, wantErr: "ci publish: REGISTRY_USERNAME and REGISTRY_PASSWORD must both be set"},
		{name: "no password", vars: map[string]string{"REGISTRY_USERNAME": "bot"}, args: []string{"publish"},
			wantErr: "REGISTRY_USERNAME and REGISTRY_PASSWORD must both be set"},
		{name: "publish one platform", vars: creds, args: []string{"publish", "--platform", "linux/amd64"},
			wantErr: "ci publish: --platform: publish pushes every platform of a target"},
		{name: "source for two versions", args: []string{"build", "--version", "6.0", "--version", "5.5", "--source", "."},
			wantErr: "ci build: --source replaces the source of one Stud.IP version, but 2 are selected (6.0.3, 5.5.8)"},
		{name: "source for a test image", args: []string{"build", "--version", "tests-php8.3", "--source", "."},
			wantErr: "ci build: --source: tests-php8.3 is a test image"},
		{name: "source not a directory", args: []string{"build", "--version", "6.0", "--source", "nope"},
			wantErr: "ci build: --source: nope is not a directory"},
		{name: "no jobs", args: []string{"test", "--jobs", "0"}, wantErr: "ci test: --jobs must be at least 1"},
		{name: "filter matching nothing", args: []string{"test", "--version", "7.0"}, wantErr: "ci test: --version 7.0 matches no target"},
		{name: "mirror with a scheme", args: []string{"test", "--mirror", "https://mirror.example/hub"},
			wantErr: `ci test: --mirror: "https://mirror.example/hub" is not a registry prefix host[:port][/path], e.g. mirror.example/hub`},
		{name: "bad mirror in the environment, before anything else", vars: map[string]string{"STUDIP_IMAGE_MIRROR": "mirror.example/hub/"},
			args:    []string{"publish", "--version", "7.0"},
			wantErr: `ci publish: STUDIP_IMAGE_MIRROR: "mirror.example/hub/" is not a registry prefix host[:port][/path], e.g. mirror.example/hub or registry.example:5000/dockerhub (or override it with --mirror)`},
		{name: "export to a file", args: []string{"build", "--export", fixtureFile},
			wantErr: "ci build: --export: " + fixtureFile + " is not a directory"},
	}
	checkUsage(t, tests)
}

// Without an engine, the pipeline commands say so at once, and how to get one.
func TestNoEngine(t *testing.T) {
	for _, args := range [][]string{
		{"build", "--version", "6.0", "--base", "apache"},
		{"test"},
		{"publish", "--dry-run"},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, _, stderr := runCI(t, nil, append(args, "--file", fixtureFile, "--dockerfiles", t.TempDir())...)
			for _, want := range []string{"ci " + args[0] + ": no Dagger engine", "dagger run go run ./ci", "v0.21.9"} {
				if code != 2 || !strings.Contains(stderr, want) {
					t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, want)
				}
			}
		})
	}
}

// With a mirror, every image the pipelines start from is pulled through it.
func TestMirror(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		args []string
	}{
		{name: "from the environment", vars: map[string]string{"STUDIP_IMAGE_MIRROR": "mirror.example/hub"}},
		{name: "the flag before the environment", vars: map[string]string{"STUDIP_IMAGE_MIRROR": "elsewhere.example"},
			args: []string{"--mirror", "mirror.example/hub"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := daggertest.New("linux/amd64")
			args := append([]string{"test", "--version", "6.0", "--version", "tests-php8.3"}, tt.args...)
			if code, _, stderr := runOn(t, engine, tt.vars, args...); code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			images := engine.Pulls()
			for _, build := range engine.DockerBuilds() {
				for name, value := range build.BuildArgs() {
					if strings.HasSuffix(name, "_IMAGE") {
						images = append(images, value)
					}
				}
			}
			if len(images) == 0 {
				t.Fatal("no base images found")
			}
			for _, image := range images {
				if !strings.HasPrefix(image, "mirror.example/hub/") {
					t.Errorf("%s is not pulled through the mirror", image)
				}
			}
		})
	}
}
