package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// These tests run build, test and publish end to end on a fake engine, which records the
// DAG the commands ask for; they assert properties of that DAG, not the SDK's query text.

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
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	args = append(args, "--file", fixtureFile, "--dockerfiles", t.TempDir())
	code = run(withConnect(context.Background(), engine.Connect), args, e)
	return code, out.String(), errOut.String()
}

func fixture(t *testing.T) *plan.Plan {
	t.Helper()
	f, err := versions.Load(fixtureFile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.New(f, plan.Options{Created: time.Unix(1767225600, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// targetOf is the target whose labels n's image carries.
func targetOf(p *plan.Plan, n *daggertest.Node) (plan.Target, bool) {
	labels := map[string]string{}
	for _, l := range n.Steps("withLabel") {
		labels[l.Str("name")] = l.Str("value")
	}
	for _, t := range p.Targets {
		if !slices.ContainsFunc(t.Labels, func(l plan.Label) bool { return labels[l.Key] != l.Value }) {
			return t, true
		}
	}
	return plan.Target{}, false
}

// reached is every node that the successful evaluations depended on.
func reached(engine *daggertest.Engine) []*daggertest.Node {
	var inputs []*daggertest.Node
	for _, ev := range engine.Evals() {
		if ev.Err == nil {
			inputs = append(inputs, ev.Inputs()...)
		}
	}
	return daggertest.Reach(inputs...)
}

func execs(nodes []*daggertest.Node, args ...string) []*daggertest.Node {
	var out []*daggertest.Node
	for _, n := range nodes {
		if n.Field == "withExec" && slices.Equal(n.Strings("args")[:min(len(args), len(n.Strings("args")))], args) {
			out = append(out, n)
		}
	}
	return out
}

func platformsOf(nodes []*daggertest.Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Platform())
	}
	slices.Sort(out)
	return out
}

func TestBuild(t *testing.T) {
	p := fixture(t)
	studipVersions := map[string]bool{}
	runtimes := map[string]bool{} // Runtime and platform
	for _, t := range p.Targets {
		if t.Source != nil {
			studipVersions[t.Name] = true
		}
		rt := t.Runtime
		rt.Bases = nil // pinned by digest arguments, which runtimeOf leaves out
		for _, pl := range t.Platforms {
			runtimes[fmt.Sprintf("%v %v", rt, pl)] = true
		}
	}
	for _, native := range []string{"linux/amd64", "linux/arm64"} {
		t.Run("engine on "+native, func(t *testing.T) {
			engine := daggertest.New(native)
			code, stdout, stderr := runOn(t, engine, map[string]string{"SOURCE_DATE_EPOCH": epoch}, "build")
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			nodes := reached(engine)

			// npm and composer: once per version, natively.
			for _, stage := range [][]string{{"npm", "ci"}, {"npm", "run", "webpack-prod"}, {"composer", "install"}} {
				runs := execs(nodes, stage...)
				if len(runs) != len(studipVersions) {
					t.Errorf("%q runs %d times, want once per Stud.IP version (%d)", stage, len(runs), len(studipVersions))
				}
				for _, n := range runs {
					if n.Platform() != native {
						t.Errorf("%q runs on %s, want the engine's %s: %v", stage, n.Platform(), native, n)
					}
				}
			}
			if got := len(engine.Evaluated("commit")); got != len(studipVersions) {
				t.Errorf("resolved %d git refs, want one per version (%d)", got, len(studipVersions))
			}

			// The runtime: once per Runtime and platform, as planned.
			builds := map[string]bool{}
			for _, n := range nodes {
				if n.Field == "dockerBuild" {
					builds[fmt.Sprintf("%v %v", runtimeOf(n), n.Platform())] = true
				}
			}
			if !maps.Equal(builds, runtimes) {
				t.Errorf("runtime builds:\n%v\nwant the planned runtimes:\n%v", slices.Sorted(maps.Keys(builds)), slices.Sorted(maps.Keys(runtimes)))
			}

			// Every target on each of its platforms, and nothing more.
			built := map[string][]string{}
			for _, ev := range engine.Evaluated("sync") {
				tg, ok := targetOf(p, ev.Node)
				if !ok {
					t.Errorf("built an image of no target: %v", ev.Node)
					continue
				}
				built[tg.String()] = append(built[tg.String()], ev.Node.Platform())
				checkImage(t, tg, ev.Node)
			}
			for _, tg := range p.Targets {
				want := strs(tg.Platforms)
				if got := slices.Sorted(slices.Values(built[tg.String()])); !slices.Equal(got, want) {
					t.Errorf("%s built for %v, want %v", tg, got, want)
				}
				if !strings.Contains(stdout, fmt.Sprintf("built %s (%s)\n", tg, strings.Join(want, ", "))) {
					t.Errorf("stdout does not report %s:\n%s", tg, stdout)
				}
			}
		})
	}
}

// runtimeOf is the plan.Runtime a dockerBuild call builds, without the arguments that pin
// its bases (*_DIGEST).
func runtimeOf(n *daggertest.Node) plan.Runtime {
	rt := plan.Runtime{Dockerfile: n.Str("dockerfile"), Target: n.Str("target")}
	args, _ := n.Args["buildArgs"].([]any)
	for _, a := range args {
		a := a.(map[string]any)
		if strings.HasSuffix(a["name"].(string), "_DIGEST") {
			continue
		}
		rt.BuildArgs = append(rt.BuildArgs, plan.BuildArg{Name: a["name"].(string), Value: a["value"].(string)})
	}
	return rt
}

// checkImage asserts the shape of target t's final image img: a test image is its runtime
// alone; a Stud.IP image adds the tree of its git ref at the resolved commit, and runs nothing.
func checkImage(t *testing.T, tg plan.Target, img *daggertest.Node) {
	t.Helper()
	chain := img.Chain()
	build := slices.IndexFunc(chain, func(n *daggertest.Node) bool { return n.Field == "dockerBuild" })
	if build < 0 || runtimeOf(chain[build]).Dockerfile != tg.Runtime.Dockerfile || chain[build].Str("target") != tg.Runtime.Target {
		t.Fatalf("%s: not built on its runtime %v: %v", tg, tg.Runtime, img)
	}
	for _, n := range chain[build+1:] {
		if !slices.Contains([]string{"withLabel", "withDirectory"}, n.Field) {
			t.Errorf("%s: the final stage calls %s, want only the tree and labels: %v", tg, n.Field, img)
		}
	}
	dirs := img.Steps("withDirectory")
	if tg.Source == nil {
		if len(dirs) != 0 || len(execs(daggertest.Reach(img))) != 0 {
			t.Errorf("%s: a test image is its runtime alone, got %v", tg, img)
		}
		return
	}
	if len(dirs) != 1 || dirs[0].Str("path") != "/var/www/studip" || dirs[0].Str("owner") != "www-data:www-data" {
		t.Fatalf("%s: want the tree at /var/www/studip owned by www-data, got %v", tg, dirs)
	}
	revision := ""
	for _, l := range img.Steps("withLabel") {
		if l.Str("name") == plan.LabelRevision {
			revision = l.Str("value")
		}
	}
	var commits []*daggertest.Node
	for _, n := range daggertest.Reach(dirs[0].Ref("source")) {
		if n.Field == "commit" {
			commits = append(commits, n)
		}
	}
	if len(commits) != 1 || commits[0].Str("id") != revision || commits[0].Parent.Field != "git" || commits[0].Parent.Str("url") != tg.Source.URL {
		t.Errorf("%s: want the tree of the commit labelled as the revision (%q), got %v", tg, revision, commits)
	}
}

func TestTest(t *testing.T) {
	p := fixture(t)
	engine := daggertest.New("linux/arm64")
	code, stdout, stderr := runOn(t, engine, map[string]string{"SOURCE_DATE_EPOCH": epoch}, "test")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	checks := map[string][]string{} // target -> the scripts of its checks
	for _, ev := range engine.Evaluated("sync") {
		exec := ev.Node
		if exec.Field != "withExec" {
			continue // an image built
		}
		tg, ok := targetOf(p, exec)
		if !ok {
			t.Fatalf("a check of no target: %v", exec)
		}
		if exec.Platform() != "linux/arm64" {
			t.Errorf("%s: check on %s, want the engine's platform: %v", tg, exec.Platform(), exec)
		}
		args := exec.Strings("args")
		checks[tg.String()] = append(checks[tg.String()], strings.Join(args[:2], " "))
		if bindings := exec.Steps("withServiceBinding"); len(bindings) > 0 {
			checkService(t, p, tg, bindings[len(bindings)-1].Ref("service"))
		}
		if args[1] == "/smoke/test-image.sh" && !slices.Contains(args, "pcov") {
			t.Errorf("%s: the test image's check leaves out the coverage driver: %v", tg, args)
		}
	}
	want := map[versions.Base][]string{
		versions.Apache:    {"sh /smoke/php-extensions.sh", "sh /smoke/wait-healthy.sh"},
		versions.FPMAlpine: {"php-fpm -t", "sh /smoke/php-extensions.sh", "sh /smoke/wait-healthy.sh"},
	}
	for _, tg := range p.Targets {
		wantChecks := want[tg.Base]
		if tg.Source == nil {
			wantChecks = []string{"sh /smoke/test-image.sh"}
		}
		if got := slices.Sorted(slices.Values(checks[tg.String()])); !slices.Equal(got, slices.Sorted(slices.Values(wantChecks))) {
			t.Errorf("%s: checks %q, want %q", tg, got, wantChecks)
		}
		if !strings.Contains(stdout, "passed "+tg.String()+" ") {
			t.Errorf("stdout does not report %s:\n%s", tg, stdout)
		}
	}
}

// checkService asserts that svc runs tg's image with its entrypoint, the demo data and a
// MariaDB service of its own.
func checkService(t *testing.T, p *plan.Plan, tg plan.Target, svc *daggertest.Node) {
	t.Helper()
	app := svc.Parent
	if svc.Field != "asService" || !svc.Bool("useEntrypoint") || app == nil {
		t.Fatalf("%s: want the image as a service with its entrypoint, got %v", tg, svc)
	}
	if got, _ := targetOf(p, app); got.String() != tg.String() {
		t.Errorf("%s: the service runs the image of %s", tg, got)
	}
	env := map[string]string{}
	for _, n := range app.Steps("withEnvVariable") {
		env[n.Str("name")] = n.Str("value")
	}
	if env["DEMO_DATA"] != "1" || env["MYSQL_HOST"] != "db" {
		t.Errorf("%s: service environment %v lacks the demo data or the database", tg, env)
	}
	dbs := app.Steps("withServiceBinding")
	if len(dbs) != 1 || dbs[0].Str("alias") != "db" {
		t.Fatalf("%s: want one database binding, got %v", tg, dbs)
	}
	from := dbs[0].Ref("service").Steps("from")
	if len(from) != 1 || from[0].Str("address") != p.Images.MariaDB() {
		t.Errorf("%s: the database is not %s: %v", tg, p.Images.MariaDB(), dbs[0].Ref("service"))
	}
}

func TestPublish(t *testing.T) {
	p := fixture(t)
	creds := map[string]string{"SOURCE_DATE_EPOCH": epoch, "REGISTRY_USERNAME": "bot", "REGISTRY_PASSWORD": password}
	fixedTag := regexp.MustCompile(`:[0-9]+\.[0-9]+\.[0-9]+(-|$)`)
	tests := []struct {
		name     string
		args     []string
		fail     func(*daggertest.Engine)
		wantCode int
		failed   []string // targets that must push nothing floating
		wantErr  []string // in stderr
	}{
		{name: "every tag", args: []string{"publish"}},
		{name: "a failed full-version push moves no floating tag",
			args: []string{"publish"},
			fail: func(e *daggertest.Engine) {
				e.FailPublish(func(a string) bool { return strings.HasSuffix(a, ":6.0.3") })
			},
			wantCode: 1, failed: []string{"6.0.3 apache"},
			wantErr: []string{"error: pushing 6.0.3 apache as registry.example/studip/studip:6.0.3: ", "ci publish: 1 of 8 targets failed"}},
		{name: "a failed build on one platform pushes nothing of its targets",
			args: []string{"publish"},
			fail: func(e *daggertest.Engine) {
				e.FailExec(func(n *daggertest.Node) bool {
					return n.Field == "dockerBuild" && n.Str("dockerfile") == "fpm-alpine/Dockerfile" && n.Platform() == "linux/arm64"
				}, "ERROR: unable to select packages:\n  icu-dev (no such package)\n")
			},
			wantCode: 1, failed: []string{"nightly fpm-alpine", "6.0.3 fpm-alpine"},
			wantErr: []string{"error: building 6.0.3 fpm-alpine for linux/arm64: ", "error: building nightly fpm-alpine for linux/arm64: ",
				"icu-dev (no such package)", "ci publish: 2 of 8 targets failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine := daggertest.New("linux/amd64")
			if tt.fail != nil {
				tt.fail(engine)
			}
			code, stdout, stderr := runOn(t, engine, creds, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}

			order := map[string]int{} // ref -> position among the pushes
			for i, ev := range engine.Evals() {
				if ev.Field == "publish" {
					order[ev.Args["address"].(string)] = i
				}
			}
			for _, ev := range engine.Evaluated("publish") {
				ref := ev.Args["address"].(string)
				tg, ok := targetOf(p, ev.Node)
				if !ok || !slices.ContainsFunc(tg.Tags, func(tag plan.Tag) bool { return tg.Ref(tag) == ref }) {
					t.Errorf("pushed %s, which is not a tag of the image's target %s", ref, tg)
					continue
				}
				if got, want := platformsOf(ev.Inputs()), strs(tg.Platforms); !slices.Equal(got, want) {
					t.Errorf("%s carries %v, want every platform of %s: %v", ref, got, tg, want)
				}
				if !regexp.MustCompile(`(?m)^pushed ` + regexp.QuoteMeta(ref) + `@sha256:[0-9a-f]{64}$`).MatchString(stdout) {
					t.Errorf("stdout does not report %s with its digest:\n%s", ref, stdout)
				}
			}
			for _, tg := range p.Targets {
				failed := slices.Contains(tt.failed, tg.String())
				var fixed, floating []int
				for _, tag := range tg.Tags {
					i, pushed := order[tg.Ref(tag)]
					switch {
					case !pushed && !failed:
						t.Errorf("%s: %s never pushed", tg, tg.Ref(tag))
					case pushed && failed && tag.Floating:
						t.Errorf("%s failed, but its floating tag %s was pushed", tg, tag.Name)
					case pushed && tag.Floating:
						floating = append(floating, i)
					case pushed:
						fixed = append(fixed, i)
						if !fixedTag.MatchString(tg.Ref(tag)) {
							t.Errorf("%s is pushed as a fixed tag", tg.Ref(tag))
						}
					}
				}
				if len(fixed) > 0 && len(floating) > 0 && slices.Max(fixed) > slices.Min(floating) {
					t.Errorf("%s: a floating tag was pushed before a full-version one", tg)
				}
				if len(fixed) == 0 && len(floating) > 1 && order[tg.Ref(tg.Tags[0])] != slices.Min(floating) {
					t.Errorf("%s: its first tag was not pushed first", tg)
				}
			}

			// The password reaches the engine once, as a secret's plaintext, and nothing else.
			sent := 0
			for _, q := range engine.Queries() {
				if strings.Contains(q, password) {
					sent++
				}
				if strings.Contains(strings.Replace(q, `plaintext:"`+password+`"`, "", 1), password) {
					t.Errorf("the password appears outside the secret: %s", q)
				}
			}
			if sent != 1 {
				t.Errorf("the password went to the engine in %d requests, want 1", sent)
			}
			secrets := 0
			for _, n := range daggertest.Reach(reached(engine)...) {
				if n.Field == "setSecret" {
					secrets++
					continue
				}
				if strings.Contains(n.String(), password) {
					t.Errorf("the password appears in the DAG: %v", n)
				}
			}
			if secrets != 1 {
				t.Errorf("%d secrets, want the password as one", secrets)
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
	for _, ev := range engine.Evals() {
		if ev.Field == "publish" {
			t.Errorf("a dry run pushed %v", ev.Args["address"])
		}
	}
	if len(engine.Evaluated("sync")) == 0 {
		t.Error("a dry run built and tested nothing")
	}
	for _, tg := range p.Targets {
		for _, tag := range tg.Tags {
			if want := fmt.Sprintf("would push %s (%s)\n", tg.Ref(tag), platforms(tg)); !strings.Contains(stdout, want) {
				t.Errorf("stdout lacks %q", want)
			}
		}
	}
}

func TestExport(t *testing.T) {
	p := fixture(t)
	engine := daggertest.New("linux/amd64")
	dir := t.TempDir()
	code, stdout, stderr := runOn(t, engine, map[string]string{"SOURCE_DATE_EPOCH": epoch}, "build", "--version", "6.0", "--version", "tests", "--export", dir)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	exports := engine.Evaluated("export")
	if len(exports) != 4 {
		t.Fatalf("%d exports, want one per selected target (4)", len(exports))
	}
	for _, ev := range exports {
		tg, _ := targetOf(p, ev.Node)
		path := filepath.Join(dir, tg.Tags[0].Name+".tar")
		if ev.Args["path"] != path {
			t.Errorf("%s exported to %v, want %s", tg, ev.Args["path"], path)
		}
		if got, want := platformsOf(ev.Inputs()), strs(tg.Platforms); !slices.Equal(got, want) {
			t.Errorf("%s exported for %v, want %v", tg, got, want)
		}
		if want := fmt.Sprintf("exported %s (%s): %s\n", tg, platforms(tg), path); !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
}

// Bad input exits 2 before the engine is asked anything.
func TestPipelineUsage(t *testing.T) {
	creds := map[string]string{"REGISTRY_USERNAME": "bot", "REGISTRY_PASSWORD": password}
	tests := []struct {
		name    string
		vars    map[string]string
		args    []string
		wantErr string
	}{
		{name: "no credentials", args: []string{"publish"}, wantErr: "ci publish: REGISTRY_USERNAME and REGISTRY_PASSWORD must both be set"},
		{name: "no password", vars: map[string]string{"REGISTRY_USERNAME": "bot"}, args: []string{"publish"},
			wantErr: "REGISTRY_USERNAME and REGISTRY_PASSWORD must both be set"},
		{name: "publish one platform", vars: creds, args: []string{"publish", "--platform", "linux/amd64"},
			wantErr: "ci publish: --platform: publish pushes every platform of a target"},
		{name: "source for two versions", args: []string{"build", "--source", "."},
			wantErr: "ci build: --source replaces the source of one Stud.IP version, but 3 are selected (nightly, 6.0.3, 5.5.8)"},
		{name: "source for a test image", args: []string{"build", "--version", "tests-php8.3", "--source", "."},
			wantErr: "ci build: --source: tests-php8.3 is a test image"},
		{name: "source not a directory", args: []string{"build", "--version", "6.0", "--source", "nope"},
			wantErr: "ci build: --source: nope is not a directory"},
		{name: "no jobs", args: []string{"test", "--jobs", "0"}, wantErr: "ci test: --jobs must be at least 1"},
		{name: "filter matching nothing", args: []string{"test", "--version", "7.0"}, wantErr: "ci test: --version 7.0 matches no target"},
	}
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

// Without an engine, the pipeline commands say so at once, and how to get one.
func TestNoEngine(t *testing.T) {
	for _, args := range [][]string{
		{"build", "--version", "6.0", "--base", "apache"},
		{"test"},
		{"publish", "--dry-run"},
	} {
		t.Run(args[0], func(t *testing.T) {
			var out, errOut bytes.Buffer
			e := &env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
			start := time.Now()
			code := run(context.Background(), append(args, "--file", fixtureFile, "--dockerfiles", t.TempDir()), e)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("took %s to notice there is no engine", elapsed)
			}
			for _, want := range []string{"ci " + args[0] + ": no Dagger engine", "dagger run go run ./ci", "v0.21.9"} {
				if code != 2 || !strings.Contains(errOut.String(), want) {
					t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, errOut.String(), want)
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
			var images []string
			for _, n := range reached(engine) {
				switch n.Field {
				case "from":
					images = append(images, n.Str("address"))
				case "dockerBuild":
					for _, a := range runtimeOf(n).BuildArgs {
						if strings.HasSuffix(a.Name, "_IMAGE") {
							images = append(images, a.Value)
						}
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
