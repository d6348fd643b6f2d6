package pipelines_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/pipelines"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

var staging = &pipelines.Stage{Repository: "gitlab.example/studip/docker/staging", Username: "gitlab-ci-token", Password: "job-token"}

// job runs one CI job of a native-platform pipeline: on its own fake engine of native
// platform, sharing the registry of shared, for the targets of p on the platforms given
// (all when none).
func job(t *testing.T, shared *daggertest.Engine, native string, p *plan.Plan, platforms []string, steps pipelines.Steps, setup ...func(*daggertest.Engine)) (*daggertest.Engine, []pipelines.Result) {
	t.Helper()
	engine := daggertest.New(native)
	engine.ShareRegistry(shared)
	for _, f := range setup {
		f(engine)
	}
	var filter plan.Filter
	for _, s := range platforms {
		pl, err := versions.ParsePlatform(s)
		if err != nil {
			t.Fatal(err)
		}
		filter.Platforms = append(filter.Platforms, pl)
	}
	results := runOn(t, engine, p, filter, steps)
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Target, r.Err)
		}
	}
	return engine, results
}

func stageTo(s *pipelines.Stage) pipelines.Steps {
	return pipelines.Steps{Test: true, Publish: &pipelines.Publish{Username: "bot", Password: "pw", StageTo: s}}
}

func assembleFrom(s *pipelines.Stage) pipelines.Steps {
	return pipelines.Steps{Publish: &pipelines.Publish{Username: "bot", Password: "pw", AssembleFrom: s}}
}

// A native-platform pipeline: each platform job builds its platform's images and stages
// them under their build IDs, pushing nothing to the release repository; the assemble job
// builds nothing and pushes indexes of the staged images, carrying their build IDs, under
// every tag. A second run on unchanged inputs builds and pushes nothing anywhere.
func TestPlatformJobsAndAssemble(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	registry := daggertest.New("linux/amd64")
	staged := map[string]string{} // staging reference -> platform
	for _, pl := range []string{"linux/amd64", "linux/arm64"} {
		engine, results := job(t, registry, pl, p, []string{pl}, stageTo(staging))
		for _, r := range results {
			if r.Status != pipelines.Built || len(r.Pushed) != 1 || !strings.HasPrefix(r.Pushed[0], staging.Repository+":") {
				t.Errorf("%s job: %s %s, pushed %v; want built and staged once", pl, r.Target, r.Status, r.Pushed)
			}
			for _, ref := range r.Pushed {
				staged[strings.Split(ref, "@")[0]] = pl
			}
		}
		for _, ev := range engine.Evaluated("publish") {
			if address := ev.Args["address"].(string); !strings.HasPrefix(address, staging.Repository+":") {
				t.Errorf("%s job pushed %s, outside the staging repository", pl, address)
			}
			if got := platformsOf(ev.Inputs()); len(got) != 1 || got[0] != pl {
				t.Errorf("%s job staged images of %v", pl, got)
			}
		}
	}
	for ref, pl := range staged {
		img, err := registry.Image(ref, pl)
		if err != nil || ref != staging.Repository+":"+strings.TrimPrefix(img.Labels[plan.LabelBuildID], "sha256:") {
			t.Errorf("%s holds build ID %q (%v), want the one its tag names", ref, img.Labels[plan.LabelBuildID], err)
		}
	}

	engine, results := job(t, registry, "linux/amd64", p, nil, assembleFrom(staging))
	if builds, execs, _ := work(engine.Evals()); builds+execs != 0 {
		t.Errorf("the assemble job ran %d dockerBuild and %d withExec, want none", builds, execs)
	}
	for _, r := range results {
		if r.Status != pipelines.Built || len(r.Pushed) != len(r.Target.Tags) {
			t.Errorf("assemble: %s %s, pushed %v; want every tag", r.Target, r.Status, r.Pushed)
		}
		for _, pl := range r.Target.Platforms {
			img, err := registry.Image(r.Target.Ref(r.Target.Tags[0]), pl.String())
			if err != nil || staged[staging.Repository+":"+strings.TrimPrefix(img.Labels[plan.LabelBuildID], "sha256:")] != pl.String() {
				t.Errorf("%s for %s: released build ID %q (%v) is not one staged for it", r.Target, pl, img.Labels[plan.LabelBuildID], err)
			}
		}
	}

	// The next night: nothing changed.
	for _, native := range []string{"linux/amd64", "linux/arm64"} {
		engine, results := job(t, registry, native, p, []string{native}, stageTo(staging))
		if got, want := statuses(results), builtOnly(p, func(plan.Target) bool { return false }); !maps.Equal(got, want) {
			t.Errorf("%s job on unchanged inputs: %v", native, got)
		}
		if builds, execs, publishes := work(engine.Evals()); builds+execs+publishes != 0 {
			t.Errorf("%s job on unchanged inputs ran %d dockerBuild, %d withExec, %d publish", native, builds, execs, publishes)
		}
	}
	engine, results = job(t, registry, "linux/amd64", p, nil, assembleFrom(staging))
	if got, want := statuses(results), builtOnly(p, func(plan.Target) bool { return false }); !maps.Equal(got, want) {
		t.Errorf("assemble on unchanged inputs: %v", got)
	}
	if _, _, publishes := work(engine.Evals()); publishes != 0 {
		t.Errorf("assemble on unchanged inputs pushed %d times", publishes)
	}
}

// A platform job for a platform that is not the runner's (no runner of that platform:
// emulation) builds only that platform and smoke-tests nothing.
func TestEmulatedPlatformJobTestsNothing(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	registry := daggertest.New("linux/amd64")
	engine, _ := job(t, registry, "linux/amd64", p, []string{"linux/arm64"}, stageTo(staging))
	var inputs []*daggertest.Node
	for _, ev := range engine.Evals() {
		inputs = append(inputs, ev.Inputs()...)
	}
	for _, n := range daggertest.Reach(inputs...) {
		if n.Field == "dockerBuild" && n.Platform() != "linux/arm64" {
			t.Errorf("the linux/arm64 job built for %s: %v", n.Platform(), n)
		}
	}
}

// An assemble job whose platform jobs staged nothing fails the target, naming what is
// missing, and pushes nothing.
func TestAssembleWithoutStagedImagesFails(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	engine := daggertest.New("linux/amd64")
	filter := plan.Filter{Versions: []string{"6.0"}, Bases: []versions.Base{versions.Apache}}
	for _, r := range runOn(t, engine, p, filter, assembleFrom(staging)) {
		if r.Status != pipelines.Failed || !strings.Contains(fmt.Sprint(r.Err), "assembling 6.0.3 apache: no image of linux/amd64 staged as "+staging.Repository+":") {
			t.Errorf("%s: %s, %v; want failed for want of a staged image", r.Target, r.Status, r.Err)
		}
	}
	if _, _, publishes := work(engine.Evals()); publishes != 0 {
		t.Errorf("pushed %d times", publishes)
	}
}

// platformsOf are the platforms nodes were made for.
func platformsOf(nodes []*daggertest.Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Platform())
	}
	return out
}

// When one platform's image is unchanged in the release repository, its platform job stages
// nothing and the assemble job takes that platform's image from the release.
func TestAssembleTakesAnUnchangedPlatformFromTheRelease(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	registry := published(t, p)
	// Only linux/arm64 of php:8.2-apache changed (a registry resolving per platform).
	registry.SetImage("php:8.2-apache", "linux/arm64", daggertest.Image{Digest: "sha256:" + strings.Repeat("a", 64)})
	for _, pl := range []string{"linux/amd64", "linux/arm64"} {
		_, results := job(t, registry, pl, p, []string{pl}, stageTo(staging))
		for _, r := range results {
			onIt := slices.Contains(r.Target.Images(), "php:8.2-apache") && pl == "linux/arm64"
			if (r.Status == pipelines.Built) != onIt {
				t.Errorf("%s job: %s %s", pl, r.Target, r.Status)
			}
		}
	}
	_, results := job(t, registry, "linux/amd64", p, nil, assembleFrom(staging))
	for _, r := range results {
		want := pipelines.Unchanged
		if slices.Contains(r.Target.Images(), "php:8.2-apache") {
			want = pipelines.Built
		}
		if r.Status != want {
			t.Errorf("assemble: %s %s, want %s", r.Target, r.Status, want)
		}
	}
}

// Stud.IP's main moves while a nightly publish runs: between the platform jobs, and again
// before the assemble job. Pinned to the commit the generate job resolved, every job builds
// and finds that commit, resolving no ref; unpinned, the jobs build different commits and
// the assemble job finds nothing staged for what it resolves.
func TestPinnedPlatformJobsBuildOneCommit(t *testing.T) {
	const source = "https://git.example/studip/studip.git"
	pinned := strings.Repeat("a", 40)
	mainAt := func(commit string) func(*daggertest.Engine) {
		return func(e *daggertest.Engine) { e.SetCommit(source, "main", commit) }
	}
	moves := []func(*daggertest.Engine){mainAt(pinned), mainAt(strings.Repeat("b", 40)), mainAt(strings.Repeat("c", 40))}
	nightly := plan.Filter{Versions: []string{"nightly"}}

	t.Run("pinned", func(t *testing.T) {
		p, err := planWith(t, nightlyFile, plan.Options{Commits: map[string]string{"nightly": pinned}}).Select(nightly)
		if err != nil {
			t.Fatal(err)
		}
		registry := daggertest.New("linux/amd64")
		for i, pl := range []string{"linux/amd64", "linux/arm64"} {
			engine, results := job(t, registry, pl, p, []string{pl}, stageTo(staging), moves[i])
			if refs := engine.Resolved(); len(refs) != 0 {
				t.Errorf("%s job resolved %v, want the pinned commit built as it is", pl, refs)
			}
			for _, r := range results {
				img, err := registry.Image(strings.Split(r.Pushed[0], "@")[0], pl)
				if err != nil || img.Labels[plan.LabelRevision] != pinned {
					t.Errorf("%s job: %s staged revision %q (%v), want %s", pl, r.Target, img.Labels[plan.LabelRevision], err, pinned)
				}
			}
		}
		engine, results := job(t, registry, "linux/amd64", p, nil, assembleFrom(staging), moves[2])
		if refs := engine.Resolved(); len(refs) != 0 {
			t.Errorf("the assemble job resolved %v", refs)
		}
		for _, r := range results {
			if r.Status != pipelines.Built {
				t.Errorf("assemble: %s %s, %v", r.Target, r.Status, r.Err)
			}
		}
	})
	t.Run("unpinned", func(t *testing.T) {
		p, err := planWith(t, nightlyFile, plan.Options{}).Select(nightly)
		if err != nil {
			t.Fatal(err)
		}
		registry := daggertest.New("linux/amd64")
		for i, pl := range []string{"linux/amd64", "linux/arm64"} {
			job(t, registry, pl, p, []string{pl}, stageTo(staging), moves[i])
		}
		engine := daggertest.New("linux/amd64")
		engine.ShareRegistry(registry)
		moves[2](engine)
		for _, r := range runOn(t, engine, p, plan.Filter{}, assembleFrom(staging)) {
			if r.Status != pipelines.Failed {
				t.Errorf("assemble after main moved: %s %s, want failed", r.Target, r.Status)
			}
		}
	})
}

// A base image's digest that moves after the platform jobs ran gives the assemble job other
// build IDs than they staged: it fails, saying why, and pushes nothing.
func TestAssembleAfterABaseImageMovedFails(t *testing.T) {
	p, err := planWith(t, nightlyFile, plan.Options{Commits: map[string]string{"6.0.3": strings.Repeat("a", 40)}}).Select(
		plan.Filter{Versions: []string{"6.0"}, Bases: []versions.Base{versions.Apache}})
	if err != nil {
		t.Fatal(err)
	}
	registry := daggertest.New("linux/amd64")
	for _, pl := range []string{"linux/amd64", "linux/arm64"} {
		job(t, registry, pl, p, []string{pl}, stageTo(staging))
	}
	registry.SetImage("php:8.3-apache", "linux/arm64", daggertest.Image{Digest: "sha256:" + strings.Repeat("d", 64)})
	engine := daggertest.New("linux/amd64")
	engine.ShareRegistry(registry)
	for _, r := range runOn(t, engine, p, plan.Filter{}, assembleFrom(staging)) {
		if msg := fmt.Sprint(r.Err); r.Status != pipelines.Failed || !strings.Contains(msg, "no image of linux/arm64 staged") ||
			!strings.Contains(msg, "a base image's digest moved since it ran") {
			t.Errorf("%s: %s, %v; want failed, naming the moved inputs", r.Target, r.Status, r.Err)
		}
	}
	if _, _, publishes := work(engine.Evals()); publishes != 0 {
		t.Errorf("pushed %d times", publishes)
	}
}
