package pipelines_test

import (
	"os"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/plan"
)

// BenchmarkNightly publishes the shipped versions.yaml on the fake engine as the nightly
// schedule does, and reports what each kind of night costs the engine: runtime builds
// (dockerBuild), commands run (withExec: npm, composer, git) and pushes. The figures are
// counts of stages, the same on every machine; the time is the fake's only.
//
//	go test ./pipelines -run '^$' -bench Nightly
func BenchmarkNightly(b *testing.B) {
	src, err := os.ReadFile("../versions.yaml")
	if err != nil {
		b.Fatal(err)
	}
	p := planWith(b, string(src), plan.Options{})
	nights := []struct {
		name   string
		before func(engine *daggertest.Engine) // what changed since the first publish; nil: a first night
	}{
		{"full", nil},
		{"unchanged", func(*daggertest.Engine) {}},
		{"one version changed", func(e *daggertest.Engine) {
			e.SetCommit(p.Targets[0].Source.URL, p.Targets[0].Source.Ref, strings.Repeat("e", 40))
		}},
	}
	for _, night := range nights {
		b.Run(night.name, func(b *testing.B) {
			var builds, execs, publishes int
			for b.Loop() {
				engine := daggertest.New("linux/amd64")
				var evals []daggertest.Eval
				if night.before == nil {
					runOn(b, engine, p, plan.Filter{}, publishAll)
					evals = engine.Evals()
				} else {
					for _, r := range runOn(b, engine, p, plan.Filter{}, publishAll) {
						if r.Err != nil {
							b.Fatal(r.Err)
						}
					}
					night.before(engine)
					before := len(engine.Evals())
					runOn(b, engine, p, plan.Filter{}, publishAll)
					evals = engine.Evals()[before:]
				}
				builds, execs, publishes = work(evals)
			}
			b.ReportMetric(float64(builds), "dockerBuilds")
			b.ReportMetric(float64(execs), "execs")
			b.ReportMetric(float64(publishes), "pushes")
		})
	}
}
