package pipelines_test

import (
	"context"
	"fmt"
	"maps"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/internal/testutil"
	"gitlab.studip.de/studip/docker/pipelines"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// These tests run plans through the pipeline on the fake engine and assert what the engine
// was asked to do, through daggertest's behaviour helpers. The ci package's tests run the
// commands end to end.

// fixtureSource is the Stud.IP repository of the fixtures.
const fixtureSource = "https://git.example/studip/studip.git"

const oneVersion = `
repository: registry.example/studip/studip
source: https://git.example/studip/studip.git
platforms: [linux/amd64]
bases: [apache]
versions:
  - version: 6.0.3
    php: "8.3"
    node: "22"
`

// fleet is three Stud.IP versions on both bases and two platforms: two PHP versions, one
// version on fewer platforms, and a nightly that shares its PHP with the newest release.
const fleet = `
repository: registry.example/studip/studip
source: https://git.example/studip/studip.git
platforms: [linux/amd64, linux/arm64]
bases: [apache, fpm-alpine]
versions:
  - version: 6.0.3
    php: "8.3"
    node: "22"
  - version: 5.5.8
    php: "8.2"
    node: "20"
    platforms: [linux/amd64]
  - nightly: main
    php: "8.3"
    node: "22"
`

// build runs one Stud.IP target through the pipeline on a fake engine and returns its image.
func build(t *testing.T, opts pipelines.Options) (*daggertest.Engine, *daggertest.Node) {
	t.Helper()
	engine := runPlan(t, oneVersion, plan.Filter{Versions: []string{"6.0"}}, opts, pipelines.Steps{})
	images := engine.Images()
	if len(images) != 1 {
		t.Fatalf("want one image built, got %v", images)
	}
	return engine, images[0]
}

// runPlan runs the targets of the versions file src that filter selects through the
// pipeline on a fake engine, applying steps, and fails unless every target succeeds. Every
// tree, checked out or local, has the package.json of a webpack layout.
func runPlan(t *testing.T, src string, filter plan.Filter, opts pipelines.Options, steps pipelines.Steps) *daggertest.Engine {
	t.Helper()
	engine, results := runTargets(t, src, filter, opts, steps, func(e *daggertest.Engine, f *versions.File) {
		e.GitFile(f.Source, "", "package.json", webpackPackageJSON)
		e.HostFile(opts.Source, "package.json", webpackPackageJSON)
	})
	for _, r := range results {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	return engine
}

// newEngine is a fake engine on platform native whose git trees have the package.json of
// a webpack layout, as the fixtures' Stud.IP versions do.
func newEngine(native string) *daggertest.Engine {
	e := daggertest.New(native)
	e.GitFile(fixtureSource, "", "package.json", webpackPackageJSON)
	return e
}

// parse parses the versions file src.
func parse(t testing.TB, src string) *versions.File {
	t.Helper()
	f, err := versions.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// planOf plans the versions file src and selects filter's targets.
func planOf(t testing.TB, src string, filter plan.Filter) *plan.Plan {
	t.Helper()
	p, err := planWith(t, src, plan.Options{}).Select(filter)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// planWith plans every target of the versions file src with opts.
func planWith(t testing.TB, src string, opts plan.Options) *plan.Plan {
	t.Helper()
	p, err := plan.New(parse(t, src), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// execute runs p through the pipeline on engine, applying steps, and returns the results.
func execute(t testing.TB, engine *daggertest.Engine, p *plan.Plan, opts pipelines.Options, steps pipelines.Steps) []pipelines.Result {
	t.Helper()
	ctx := context.Background()
	dag, err := engine.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opts.Dockerfiles = "/repo/dockerfiles"
	pl, err := pipelines.New(ctx, dag, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	results, err := pl.Run(ctx, steps)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(p.Targets) {
		t.Fatalf("%d results for %d targets", len(results), len(p.Targets))
	}
	return results
}

// targetOf is the target of p whose labels the image img carries.
func targetOf(p *plan.Plan, img *daggertest.Node) (plan.Target, bool) {
	labels := img.Labels()
	for _, t := range p.Targets {
		if !slices.ContainsFunc(t.Labels, func(l plan.Label) bool { return labels[l.Key] != l.Value }) {
			return t, true
		}
	}
	return plan.Target{}, false
}

// studipVersions are the Stud.IP versions among p's targets: those with a tree to build.
func studipVersions(p *plan.Plan) []string {
	var out []string
	for _, t := range p.Targets {
		if t.Source != nil && !slices.Contains(out, t.Name) {
			out = append(out, t.Name)
		}
	}
	return out
}

// platformNames are tg's platforms as the engine names them.
func platformNames(tg plan.Target) []string {
	out := make([]string, len(tg.Platforms))
	for i, pl := range tg.Platforms {
		out[i] = pl.String()
	}
	return out
}

// runtimeOf is the plan.Runtime that a Docker build builds.
func runtimeOf(build *daggertest.Node) plan.Runtime {
	rt := plan.Runtime{Dockerfile: build.Str("dockerfile"), Target: build.Str("target")}
	args := build.BuildArgs()
	for _, name := range slices.Sorted(maps.Keys(args)) { // plan sorts them by name
		if strings.HasSuffix(name, "_DIGEST") {
			continue // pins rt.Bases, which the pipeline resolves
		}
		rt.BuildArgs = append(rt.BuildArgs, plan.BuildArg{Name: name, Value: args[name]})
	}
	return rt
}

// tree is the Stud.IP tree in img, and the revision it is labelled with.
func tree(t *testing.T, img *daggertest.Node) (*daggertest.Node, string) {
	t.Helper()
	dirs := img.Steps("withDirectory")
	if len(dirs) != 1 || dirs[0].Str("path") != "/var/www/studip" {
		t.Fatalf("want the tree at /var/www/studip, got %v", img)
	}
	return dirs[0].Ref("source"), img.Labels()[plan.LabelRevision]
}

// A local checkout is read with its own .gitignore and without .git: that drops a working
// copy's build output, dependencies and private files, and keeps Stud.IP's vendor/.
func TestLocalSource(t *testing.T) {
	// git stands in for the engine's .gitignore matching.
	testutil.LookTool(t, "git")
	checkout := t.TempDir()
	files := []struct {
		path string
		keep bool
	}{
		{".gitignore", true},
		{"composer.json", true},
		{"lib/bootstrap.php", true},
		{"vendor/phpass/PasswordHash.php", true}, // bundled source, included by lib/bootstrap.php
		{"public/assets/images/logo.svg", true},
		{"public/plugins_packages/.gitkeep", true},
		{"config/config_defaults.inc.php", true},
		{".git/config", false},
		{"node_modules/jquery/package.json", false},
		{"composer/autoload.php", false}, // composer's vendor-dir
		{"public/assets/javascripts/studip-base.js", false},
		{"config/config_local.inc.php", false},
		{"data/upload_doc/secret.pdf", false},
		{"public/plugins_packages/acme/Plugin.php", false},
	}
	testutil.Git(t, checkout, "init", "-q") // writes .git/config
	gitignore := "node_modules\ncomposer\nconfig/config_local.inc.php\ndata/*\n" +
		"public/assets/javascripts/*.js\npublic/plugins_packages/*\n!public/plugins_packages/.gitkeep\n"
	for _, f := range files {
		content := "x\n"
		switch f.path {
		case ".git/config":
			continue
		case ".gitignore":
			content = gitignore
		}
		testutil.WriteFile(t, filepath.Join(checkout, f.path), content)
	}
	testutil.Git(t, checkout, "add", ".gitignore")
	testutil.Git(t, checkout, "commit", "-qm", "fixture")
	head := testutil.Git(t, checkout, "rev-parse", "HEAD")

	engine, img := build(t, pipelines.Options{Source: checkout})
	src, revision := tree(t, img)
	if revision != head {
		t.Errorf("revision label %q, want the checkout's HEAD %s", revision, head)
	}
	var hostDirs []*daggertest.Node
	for _, n := range daggertest.Reach(src) {
		switch n.Field {
		case "git":
			t.Errorf("a local build fetched %v", n)
		case "directory":
			if n.Parent != nil && n.Parent.Field == "host" && n.Str("path") == checkout {
				hostDirs = append(hostDirs, n)
			}
		}
	}
	if len(hostDirs) != 1 {
		t.Fatalf("want the checkout read once, got %v", hostDirs)
	}
	read := hostDirs[0]
	if !read.Bool("gitignore") {
		t.Fatalf("the checkout is read without its .gitignore: %v", read)
	}
	// What the engine reads under those options: .gitignore patterns as git matches them
	// (--no-index: by pattern, as the engine does, not by what is tracked), minus Exclude.
	for _, f := range files {
		ignored := exec.Command("git", "-C", checkout, "check-ignore", "--no-index", "-q", f.path).Run() == nil
		excluded := slices.ContainsFunc(read.Strings("exclude"), func(pattern string) bool {
			for p := f.path; p != "."; p = path.Dir(p) {
				if ok, _ := path.Match(pattern, p); ok {
					return true
				}
			}
			return false
		})
		if kept := !ignored && !excluded; kept != f.keep {
			t.Errorf("%s: reaches the build %v, want %v", f.path, kept, f.keep)
		}
	}
	if refs := engine.Resolved(); len(refs) != 0 {
		t.Errorf("a local build resolved git refs: %v", refs)
	}
}

// The tree in the image: the checkout of the resolved commit, the native stages' output,
// and the image contract's layout, made by directory operations alone.
func TestTreeLayout(t *testing.T) {
	engine, img := build(t, pipelines.Options{})
	src, revision := tree(t, img)
	refs := engine.Resolved()
	if len(refs) != 1 || refs[0].Parent.Str("url") != "https://git.example/studip/studip.git" || refs[0].Str("name") != "v6.0.3" {
		t.Fatalf("want v6.0.3 resolved once, got %v", refs)
	}

	steps := src.Chain()
	at := slices.IndexFunc(steps, func(n *daggertest.Node) bool { return n.Field == "tree" })
	if at < 0 {
		t.Fatalf("the tree is no git checkout: %v", src)
	}
	checkout := steps[at]
	if c := checkout.Parent; c.Field != "commit" || c.Str("id") != revision || !checkout.Bool("discardGitDir") {
		t.Errorf("want the tree of the labelled commit %s without .git, got %v", revision, checkout)
	}
	// The tree's own chain: after the checkout only directory operations, in this order.
	var ops []string
	for _, n := range steps[at+1:] {
		op := n.Field + " " + n.Str("path") + n.Str("linkName")
		switch n.Field {
		case "withDirectory":
			s := n.Ref("source")
			op += " <- " + s.Field + " " + s.Str("path")
		case "withSymlink":
			op += " -> " + n.Str("target")
		}
		ops = append(ops, op)
	}
	want := []string{
		"withDirectory public/assets <- directory /src/public/assets",
		"withDirectory composer <- directory /src/composer",
		"withoutDirectory data",
		"withDirectory seed/pictures <- directory public/pictures",
		"withoutDirectory public/pictures",
		"withSymlink public/pictures -> ../data/pictures",
		"withDirectory seed/plugins_packages <- directory public/plugins_packages",
		"withoutDirectory public/plugins_packages",
		"withSymlink public/plugins_packages -> ../data/plugins_packages",
	}
	if !slices.Equal(ops, want) {
		t.Errorf("tree operations:\n  %s\nwant:\n  %s", strings.Join(ops, "\n  "), strings.Join(want, "\n  "))
	}

	// The stages behind assets and composer/: the node and composer images of the plan, at
	// the digests the registry resolved them to, their caches, and the commands.
	stages := map[string]struct {
		image, cache string
		execs        [][]string
	}{
		"public/assets": {"node:22-bookworm-slim", "studip-npm", [][]string{{"npm", "ci", "--no-audit", "--no-fund"}, {"npm", "run", "webpack-prod"}}},
		"composer": {"composer:2.8", "studip-composer", [][]string{{"composer", "install", "--no-dev", "--optimize-autoloader",
			"--no-interaction", "--no-progress", "--ignore-platform-req=ext-*"}}},
	}
	for _, n := range src.Steps("withDirectory") {
		stage, ok := stages[n.Str("path")]
		if !ok {
			continue
		}
		out := n.Ref("source")
		resolved, err := engine.Image(stage.image, "linux/amd64")
		if err != nil {
			t.Fatal(err)
		}
		if from := out.Steps("from"); len(from) != 1 || from[0].Str("address") != stage.image+"@"+resolved.Digest {
			t.Errorf("%s: built in %v, want %s@%s", n.Str("path"), from, stage.image, resolved.Digest)
		}
		if caches := out.Steps("withMountedCache"); len(caches) != 1 || caches[0].Ref("cache").Str("key") != stage.cache {
			t.Errorf("%s: caches %v, want %s", n.Str("path"), caches, stage.cache)
		}
		var got [][]string
		for _, e := range out.Steps("withExec") {
			got = append(got, e.Command())
		}
		if !slices.EqualFunc(got, stage.execs, slices.Equal) {
			t.Errorf("%s: runs %q, want %q", n.Str("path"), got, stage.execs)
		}
		if dirs := out.Steps("withDirectory"); len(dirs) != 1 || dirs[0].Ref("source") != checkout {
			t.Errorf("%s: does not build the checkout: %v", n.Str("path"), dirs)
		}
	}
}

// npm and composer run once per Stud.IP version, on the engine's own platform, whatever
// the bases and platforms that use the tree; each version's git ref is resolved once.
func TestTreeStagesRunOncePerVersionNatively(t *testing.T) {
	p := planOf(t, fleet, plan.Filter{})
	for _, native := range []string{"linux/amd64", "linux/arm64"} {
		t.Run("engine on "+native, func(t *testing.T) {
			engine := newEngine(native)
			execute(t, engine, p, pipelines.Options{}, pipelines.Steps{})
			want := len(studipVersions(p))
			for _, stage := range [][]string{{"npm", "ci"}, {"npm", "run", "webpack-prod"}, {"composer", "install"}} {
				runs := engine.Runs(stage...)
				if len(runs) != want {
					t.Errorf("%q runs %d times, want once per Stud.IP version (%d)", stage, len(runs), want)
				}
				for _, run := range runs {
					if run.Platform() != native {
						t.Errorf("%q runs on %s, want the engine's %s: %v", stage, run.Platform(), native, run)
					}
				}
			}
			if refs := engine.Resolved(); len(refs) != want {
				t.Errorf("resolved %d git refs, want one per Stud.IP version (%d): %v", len(refs), want, refs)
			}
		})
	}
}

// The PHP runtime is built once per planned Runtime and platform, shared by every version
// and kind of image that plans it.
func TestRuntimeBuiltOncePerRuntimeAndPlatform(t *testing.T) {
	p := planOf(t, fleet, plan.Filter{})
	engine := newEngine("linux/amd64")
	execute(t, engine, p, pipelines.Options{}, pipelines.Steps{})
	want := map[string]bool{}
	for _, tg := range p.Targets {
		rt := tg.Runtime
		rt.Bases = nil // pinned by *_DIGEST arguments, which runtimeOf leaves out
		for _, pl := range tg.Platforms {
			want[fmt.Sprintf("%v on %v", rt, pl)] = true
		}
	}
	got := map[string]int{}
	for _, b := range engine.DockerBuilds() {
		got[fmt.Sprintf("%v on %v", runtimeOf(b), b.Platform())]++
	}
	for rt, n := range got {
		if !want[rt] || n != 1 {
			t.Errorf("runtime %s built %d times, want once if planned (planned: %v)", rt, n, want[rt])
		}
	}
	for rt := range want {
		if got[rt] == 0 {
			t.Errorf("planned runtime %s never built", rt)
		}
	}
}

// Every target is built for each of its platforms, and nothing else is built.
func TestEveryTargetBuiltForItsPlatforms(t *testing.T) {
	p := planOf(t, fleet, plan.Filter{})
	engine := newEngine("linux/amd64")
	for _, r := range execute(t, engine, p, pipelines.Options{}, pipelines.Steps{}) {
		if r.Err != nil {
			t.Errorf("%s: %v", r.Target, r.Err)
		}
	}
	built := map[string][]string{}
	for _, img := range engine.Images() {
		tg, ok := targetOf(p, img)
		if !ok {
			t.Errorf("built an image of no target: %v", img)
			continue
		}
		built[tg.String()] = append(built[tg.String()], img.Platform())
	}
	for _, tg := range p.Targets {
		want := platformNames(tg)
		if got := slices.Sorted(slices.Values(built[tg.String()])); !slices.Equal(got, want) {
			t.Errorf("%s built for %v, want %v", tg, got, want)
		}
	}
}

// A final image is its runtime plus, for a Stud.IP version, the tree of the commit it is
// labelled with, owned by the web server's user: the final stage runs nothing.
func TestFinalImageRunsNothing(t *testing.T) {
	p := planOf(t, fleet, plan.Filter{})
	engine := newEngine("linux/amd64")
	execute(t, engine, p, pipelines.Options{}, pipelines.Steps{})
	for _, img := range engine.Images() {
		tg, _ := targetOf(p, img)
		chain := img.Chain()
		build := slices.Index(chain, img.DockerBuild())
		if build < 0 || runtimeOf(chain[build]).Dockerfile != tg.Runtime.Dockerfile {
			t.Fatalf("%s: not built on its runtime %v: %v", tg, tg.Runtime, img)
		}
		for _, n := range chain[build+1:] {
			if n.Field != "withLabel" && n.Field != "withDirectory" {
				t.Errorf("%s: the final stage calls %s, want only the tree and labels: %v", tg, n.Field, img)
			}
		}
		dirs := img.Steps("withDirectory")
		if tg.Source == nil {
			if len(dirs) != 0 {
				t.Errorf("%s: a test image is its runtime alone, got %v", tg, img)
			}
			continue
		}
		if len(dirs) != 1 || dirs[0].Str("path") != "/var/www/studip" || dirs[0].Str("owner") != "www-data:www-data" {
			t.Fatalf("%s: want the tree at /var/www/studip owned by www-data, got %v", tg, dirs)
		}
		var commits []*daggertest.Node
		for _, n := range daggertest.Reach(dirs[0].Ref("source")) {
			if n.Field == "commit" {
				commits = append(commits, n)
			}
		}
		revision := img.Labels()[plan.LabelRevision]
		if len(commits) != 1 || commits[0].Str("id") != revision || commits[0].Parent.Str("url") != tg.Source.URL {
			t.Errorf("%s: want the tree of the commit labelled as the revision (%q), got %v", tg, revision, commits)
		}
	}
}

// A build that fails on one platform fails the targets built there, with the target, the
// platform and the end of the build's output, and no other target.
func TestFailedBuildFailsItsTargetsOnly(t *testing.T) {
	p := planOf(t, fleet, plan.Filter{})
	engine := newEngine("linux/amd64")
	engine.FailDockerBuild("fpm-alpine/Dockerfile", "linux/arm64", "ERROR: unable to select packages:\n  icu-dev (no such package)\n")
	for _, r := range execute(t, engine, p, pipelines.Options{}, pipelines.Steps{}) {
		onArm := slices.Contains(r.Target.Platforms, versions.Platform{OS: "linux", Arch: "arm64"})
		if r.Target.Base != versions.FPMAlpine || !onArm {
			if r.Err != nil {
				t.Errorf("%s failed with the fpm-alpine arm64 build: %v", r.Target, r.Err)
			}
			continue
		}
		want := fmt.Sprintf("building %s for linux/arm64: ", r.Target)
		if r.Err == nil || !strings.HasPrefix(r.Err.Error(), want) || !strings.Contains(r.Err.Error(), "icu-dev (no such package)") {
			t.Errorf("%s: err = %v, want %q... with the build's output", r.Target, r.Err, want)
		}
	}
}
