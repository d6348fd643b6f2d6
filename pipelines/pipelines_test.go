package pipelines_test

import (
	"os"
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

// The commands' tests (package main) check the stage graph across a whole plan; these check
// what goes into one image.

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

// build runs one Stud.IP target through the pipeline on a fake engine and returns its image.
func build(t *testing.T, opts pipelines.Options) (*daggertest.Engine, *daggertest.Node) {
	t.Helper()
	engine := runPlan(t, oneVersion, plan.Filter{Versions: []string{"6.0"}}, opts, pipelines.Steps{})
	syncs := engine.Evaluated("sync")
	if len(syncs) != 1 {
		t.Fatalf("want one image built, got %v", syncs)
	}
	return engine, syncs[0].Node
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

// tree is the Stud.IP tree in img, and the revision it is labelled with.
func tree(t *testing.T, img *daggertest.Node) (*daggertest.Node, string) {
	t.Helper()
	dirs := img.Steps("withDirectory")
	if len(dirs) != 1 || dirs[0].Str("path") != "/var/www/studip" {
		t.Fatalf("want the tree at /var/www/studip, got %v", img)
	}
	revision := ""
	for _, l := range img.Steps("withLabel") {
		if l.Str("name") == plan.LabelRevision {
			revision = l.Str("value")
		}
	}
	return dirs[0].Ref("source"), revision
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
	git := func(args ...string) (string, error) {
		out, err := exec.Command("git", append([]string{"-C", checkout}, args...)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	if _, err := git("init", "-q"); err != nil { // writes .git/config
		t.Fatal(err)
	}
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
		p := filepath.Join(checkout, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"add", ".gitignore"}, {"-c", "user.name=t", "-c", "user.email=t@example", "commit", "-qm", "fixture"}} {
		if _, err := git(args...); err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
	}
	head, _ := git("rev-parse", "HEAD")

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
	if len(engine.Evaluated("commit")) != 0 {
		t.Error("a local build resolved a git ref")
	}
}

// The tree in the image: the checkout of the resolved commit, the native stages' output,
// and the image contract's layout, made by directory operations alone.
func TestTreeLayout(t *testing.T) {
	engine, img := build(t, pipelines.Options{})
	src, revision := tree(t, img)
	commits := engine.Evaluated("commit")
	if len(commits) != 1 || commits[0].Node.Parent.Str("url") != "https://git.example/studip/studip.git" || commits[0].Node.Str("name") != "v6.0.3" {
		t.Fatalf("want v6.0.3 resolved once, got %v", commits)
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
			got = append(got, e.Strings("args"))
		}
		if !slices.EqualFunc(got, stage.execs, slices.Equal) {
			t.Errorf("%s: runs %q, want %q", n.Str("path"), got, stage.execs)
		}
		if dirs := out.Steps("withDirectory"); len(dirs) != 1 || dirs[0].Ref("source") != checkout {
			t.Errorf("%s: does not build the checkout: %v", n.Str("path"), dirs)
		}
	}
}
