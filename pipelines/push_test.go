package pipelines_test

import (
	"slices"
	"testing"

	"gitlab.studip.de/studip/docker/pipelines"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// A push to a reference of the caller's (a review image) builds and pushes there alone,
// even when the release repository already holds the target as this build would make it.
func TestPushToReference(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	engine := published(t, p)
	const ref = "registry.example/studip/studip/review:feature-x"
	one := plan.Filter{Versions: []string{"6.0"}, Bases: []versions.Base{versions.Apache}}
	before := len(engine.Evals())
	results := runOn(t, engine, p, one, pipelines.Steps{Publish: &pipelines.Publish{Username: "bot", Password: "pw", To: ref}})
	if len(results) != 1 || results[0].Err != nil || results[0].Status != pipelines.Built {
		t.Fatalf("results %+v, want 6.0.3 apache built", results)
	}
	var pushed []string
	for _, ev := range engine.Evals()[before:] {
		if ev.Field == "publish" {
			pushed = append(pushed, ev.Args["address"].(string))
		}
	}
	if !slices.Equal(pushed, []string{ref}) {
		t.Errorf("pushed %q, want %s alone", pushed, ref)
	}
	if builds, _, _ := work(engine.Evals()[before:]); builds == 0 {
		t.Error("nothing was built: the push to a reference was skipped as unchanged")
	}
}
