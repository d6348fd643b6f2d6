package pipelines_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/pipelines"
	"gitlab.studip.de/studip/docker/plan"
)

const twoPlatforms = `
repository: registry.example/studip/studip
source: https://git.example/studip/studip.git
platforms: [linux/amd64, linux/arm64]
bases: [apache]
versions:
  - version: 6.0.3
    php: "8.3"
    node: "22"
`

// labelsOf are the labels set on img's way, the last value of each.
func labelsOf(img *daggertest.Node) map[string]string {
	out := map[string]string{}
	for _, l := range img.Steps("withLabel") {
		out[l.Str("name")] = l.Str("value")
	}
	return out
}

// imagesByPlatform are the images built (synced), by platform.
func imagesByPlatform(engine *daggertest.Engine) map[string]*daggertest.Node {
	out := map[string]*daggertest.Node{}
	for _, ev := range engine.Evaluated("sync") {
		out[ev.Node.Platform()] = ev.Node
	}
	return out
}

// Every image carries its build ID, a different one per platform and the same on every
// run; its creation time is its source commit's; its runtime is built from the php image at
// the digest the registry resolved, which the ID stands for.
func TestImagesCarryTheirBuildID(t *testing.T) {
	var first map[string]string
	for run := range 2 {
		engine := runPlan(t, twoPlatforms, plan.Filter{Versions: []string{"6.0"}}, pipelines.Options{}, pipelines.Steps{})
		ids := map[string]string{}
		for pl, img := range imagesByPlatform(engine) {
			labels := labelsOf(img)
			ids[pl] = labels[plan.LabelBuildID]
			if !strings.HasPrefix(ids[pl], "sha256:") || len(ids[pl]) != len("sha256:")+64 {
				t.Errorf("%s: build ID %q", pl, ids[pl])
			}
			if got := labels[plan.LabelCreated]; got != "2026-01-01T00:00:00Z" {
				t.Errorf("%s: created %q, want the commit's time (%s s)", pl, got, strings.TrimSpace(daggertest.CommitTime))
			}
			build := img.Steps("dockerBuild")
			php, err := engine.Image("php:8.3-apache", pl)
			if err != nil {
				t.Fatal(err)
			}
			if len(build) != 1 || !slices.Contains(buildArgs(build[0]), "PHP_DIGEST="+php.Digest) {
				t.Errorf("%s: runtime not pinned to php:8.3-apache@%s: %v", pl, php.Digest, build)
			}
		}
		// The build ID's context digest is that of the very directory the runtimes are built
		// from, which leaves out the Go tests beside the Dockerfiles.
		digests := engine.Evaluated("digest")
		for _, img := range imagesByPlatform(engine) {
			build := img.Steps("dockerBuild")[0]
			if len(digests) != 1 || digests[0].Node != build.Parent {
				t.Errorf("the build ID covers %v, the runtime is built from %v", digests, build.Parent)
			}
			if got := build.Parent.Strings("exclude"); !slices.Equal(got, []string{"**/*.go", "**/testdata"}) {
				t.Errorf("the build context excludes %q, want the Go tests and their data", got)
			}
		}
		if ids["linux/amd64"] == ids["linux/arm64"] {
			t.Errorf("both platforms have the build ID %s", ids["linux/amd64"])
		}
		if run == 1 && !maps.Equal(ids, first) {
			t.Errorf("build IDs changed between two runs of the same inputs: %v, then %v", first, ids)
		}
		first = ids
	}
}

// With SOURCE_DATE_EPOCH the creation time is the planned one, and no git runs for it.
func TestCreatedFromSourceDateEpoch(t *testing.T) {
	engine := runPlanWith(t, twoPlatforms, plan.Filter{Versions: []string{"6.0"}}, plan.Options{Created: sourceDateEpoch}, pipelines.Steps{})
	for pl, img := range imagesByPlatform(engine) {
		if got := labelsOf(img)[plan.LabelCreated]; got != "2025-06-01T00:00:00Z" {
			t.Errorf("%s: created %q, want SOURCE_DATE_EPOCH's", pl, got)
		}
	}
	for _, ev := range engine.Evaluated("stdout") {
		t.Errorf("ran %v", ev)
	}
}

func buildArgs(n *daggertest.Node) []string {
	var out []string
	args, _ := n.Args["buildArgs"].([]any)
	for _, a := range args {
		a := a.(map[string]any)
		out = append(out, a["name"].(string)+"="+a["value"].(string))
	}
	return out
}

var sourceDateEpoch = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// runOn runs the targets of p that filter selects through a pipeline on engine, applying
// steps, and returns the results.
func runOn(t testing.TB, engine *daggertest.Engine, p *plan.Plan, filter plan.Filter, steps pipelines.Steps) []pipelines.Result {
	t.Helper()
	p, err := p.Select(filter)
	if err != nil {
		t.Fatal(err)
	}
	engine.GitFile(p.Targets[0].Source.URL, "", "package.json", webpackPackageJSON)
	return execute(t, engine, p, pipelines.Options{Jobs: 4}, steps)
}

// runPlanWith is runPlan with plan options.
func runPlanWith(t *testing.T, src string, filter plan.Filter, opts plan.Options, steps pipelines.Steps) *daggertest.Engine {
	t.Helper()
	engine := daggertest.New("linux/amd64")
	for _, r := range runOn(t, engine, planWith(t, src, opts), filter, steps) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	return engine
}
