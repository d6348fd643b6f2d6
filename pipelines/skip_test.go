package pipelines_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/pipelines"
	"gitlab.studip.de/studip/docker/plan"
)

// Two versions on different PHP, both bases, two platforms, and their test images.
const nightlyFile = `
repository: registry.example/studip/studip
source: https://git.example/studip/studip.git
platforms: [linux/amd64, linux/arm64]
bases: [apache, fpm-alpine]
versions:
  - {nightly: main, php: "8.3", node: "22"}
  - {version: 6.0.3, php: "8.3", node: "22"}
  - {version: 5.5.8, php: "8.2", node: "20"}
`

var publishAll = pipelines.Steps{Publish: &pipelines.Publish{Username: "bot", Password: "pw"}}

// published runs a first publish of every target of p on a fresh engine, which then holds
// them in its registry, and returns the engine.
func published(t *testing.T, p *plan.Plan) *daggertest.Engine {
	t.Helper()
	engine := daggertest.New("linux/amd64")
	for _, r := range runOn(t, engine, p, plan.Filter{}, publishAll) {
		if r.Err != nil || r.Status != pipelines.Built {
			t.Fatalf("first publish: %s %s: %v", r.Target, r.Status, r.Err)
		}
	}
	return engine
}

// rerun publishes p again on engine and returns the results and what the rerun asked the
// engine to evaluate.
func rerun(t *testing.T, engine *daggertest.Engine, p *plan.Plan, steps pipelines.Steps) ([]pipelines.Result, []daggertest.Eval) {
	t.Helper()
	before := len(engine.Evals())
	results := runOn(t, engine, p, plan.Filter{}, steps)
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Target, r.Err)
		}
	}
	return results, engine.Evals()[before:]
}

// work counts what evals built and pushed: the dockerBuild and withExec calls they depend
// on, and the publishes.
func work(evals []daggertest.Eval) (builds, execs, publishes int) {
	var inputs []*daggertest.Node
	for _, ev := range evals {
		if ev.Field == "publish" {
			publishes++
		}
		inputs = append(inputs, ev.Inputs()...)
	}
	for _, n := range daggertest.Reach(inputs...) {
		switch n.Field {
		case "dockerBuild":
			builds++
		case "withExec":
			execs++
		}
	}
	return builds, execs, publishes
}

// statuses maps each target to what became of it.
func statuses(results []pipelines.Result) map[string]pipelines.Status {
	out := map[string]pipelines.Status{}
	for _, r := range results {
		out[r.Target.String()] = r.Status
	}
	return out
}

// builtOnly is the statuses where exactly the targets for which rebuilt says so are built.
func builtOnly(p *plan.Plan, rebuilt func(plan.Target) bool) map[string]pipelines.Status {
	out := map[string]pipelines.Status{}
	for _, tg := range p.Targets {
		out[tg.String()] = pipelines.Unchanged
		if rebuilt(tg) {
			out[tg.String()] = pipelines.Built
		}
	}
	return out
}

func TestPublishOfUnchangedTargetsDoesNothing(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	engine := published(t, p)
	results, evals := rerun(t, engine, p, publishAll)
	if got, want := statuses(results), builtOnly(p, func(plan.Target) bool { return false }); !maps.Equal(got, want) {
		t.Errorf("statuses %v, want every target unchanged", got)
	}
	if builds, execs, publishes := work(evals); builds+execs+publishes != 0 {
		t.Errorf("an unchanged publish ran %d dockerBuild, %d withExec and %d publish, want none", builds, execs, publishes)
	}
	// Choosing the asset command reads the tree, which a build needs and the decision not.
	for _, ev := range evals {
		if ev.Field == "contents" && ev.Node.Str("path") == "package.json" {
			t.Errorf("an unchanged publish read %v", ev.Node)
		}
	}
	for _, r := range results {
		if len(r.Pushed) != 0 {
			t.Errorf("%s: pushed %v, though every tag points at its index", r.Target, r.Pushed)
		}
	}
}

func TestPublishRebuildsWhatABaseDigestChanged(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	engine := published(t, p)
	for _, pl := range []string{"linux/amd64", "linux/arm64"} { // php:8.2-apache got a security fix
		engine.SetImage("php:8.2-apache", pl, daggertest.Image{Digest: "sha256:" + strings.Repeat("82", 32)})
	}
	results, evals := rerun(t, engine, p, publishAll)
	want := builtOnly(p, func(tg plan.Target) bool { return slices.Contains(tg.Images(), "php:8.2-apache") })
	if got := statuses(results); !maps.Equal(got, want) {
		t.Errorf("statuses %v\nwant %v", got, want)
	}
	if builds, _, publishes := work(evals); builds == 0 || publishes == 0 {
		t.Errorf("the changed targets were not built (%d builds) or pushed (%d)", builds, publishes)
	}
	for _, ev := range evals {
		if n := ev.Node; ev.Field == "sync" {
			for _, b := range n.Steps("dockerBuild") {
				if !slices.Contains(buildArgs(b), "PHP_VERSION=8.2") {
					t.Errorf("rebuilt a runtime that is not on php:8.2: %v", b)
				}
			}
		}
	}
}

func TestPublishRebuildsTheVersionWhoseCommitChanged(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	engine := published(t, p)
	engine.SetCommit("https://git.example/studip/studip.git", "main", strings.Repeat("c", 40))
	results, _ := rerun(t, engine, p, publishAll)
	want := builtOnly(p, func(tg plan.Target) bool { return tg.Channel == plan.Nightly })
	if got := statuses(results); !maps.Equal(got, want) {
		t.Errorf("statuses %v\nwant %v", got, want)
	}
}

func TestPublishRebuildForcesABuild(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	engine := published(t, p)
	rebuild := pipelines.Steps{Publish: &pipelines.Publish{Username: "bot", Password: "pw", Rebuild: true}}
	results, evals := rerun(t, engine, p, rebuild)
	if got, want := statuses(results), builtOnly(p, func(plan.Target) bool { return true }); !maps.Equal(got, want) {
		t.Errorf("statuses %v, want every target built", got)
	}
	if _, _, publishes := work(evals); publishes == 0 {
		t.Error("--rebuild pushed nothing")
	}
}

// A registry that cannot be read (no such tag, no access) means build.
func TestPublishBuildsWhatItCannotRead(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	engine := published(t, p)
	engine.SetUnreadable("registry.example/studip/studip:5.5.8-fpm-alpine")
	results, _ := rerun(t, engine, p, publishAll)
	want := builtOnly(p, func(tg plan.Target) bool { return tg.String() == "5.5.8 fpm-alpine" })
	if got := statuses(results); !maps.Equal(got, want) {
		t.Errorf("statuses %v\nwant %v", got, want)
	}
}

// An unchanged target whose floating tag points elsewhere gets it back, copied from the
// index its fixed tag holds, without a build; a dry run only says so.
func TestPublishMovesAFloatingTagOfAnUnchangedTarget(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	for _, dryRun := range []bool{true, false} {
		engine := published(t, p)
		latest := "registry.example/studip/studip:latest"
		fixed, err := engine.Image("registry.example/studip/studip:6.0.3", "linux/amd64")
		if err != nil {
			t.Fatal(err)
		}
		for _, pl := range []string{"linux/amd64", "linux/arm64"} {
			engine.SetImage(latest, pl, daggertest.Image{Digest: "sha256:" + strings.Repeat("0", 64)})
		}
		steps := pipelines.Steps{Publish: &pipelines.Publish{Username: "bot", Password: "pw", DryRun: dryRun}}
		results, evals := rerun(t, engine, p, steps)
		var copies [][]string
		for _, ev := range evals {
			if ev.Field == "sync" {
				for _, e := range ev.Node.Steps("withExec") {
					copies = append(copies, e.Strings("args"))
				}
			}
		}
		for _, r := range results {
			var want []string
			if r.Target.String() == "6.0.3 apache" {
				want = []string{latest + "@" + fixed.Digest}
				if dryRun {
					want = []string{latest}
				}
			}
			if r.Status != pipelines.Unchanged || !slices.Equal(r.Pushed, want) {
				t.Errorf("dry run %v: %s %s, pushed %v; want unchanged, pushed %v", dryRun, r.Target, r.Status, r.Pushed, want)
			}
		}
		wantCopies := [][]string{{"cosign", "copy", "--force", "registry.example/studip/studip:6.0.3@" + fixed.Digest, latest}}
		if dryRun {
			wantCopies = nil
		}
		if !slices.EqualFunc(copies, wantCopies, slices.Equal) {
			t.Errorf("dry run %v: ran %q, want %q", dryRun, copies, wantCopies)
		}
		if builds, _, publishes := work(evals); builds+publishes != 0 {
			t.Errorf("dry run %v: moving a tag built %d runtimes and pushed %d times", dryRun, builds, publishes)
		}
	}
}
