package plan_test

import (
	"testing"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// BenchmarkPlanShippedFile measures what `ci plan` does besides printing: load, validate and
// plan the shipped versions.yaml.
func BenchmarkPlanShippedFile(b *testing.B) {
	for b.Loop() {
		f, err := versions.Load("../versions.yaml")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := plan.New(f, plan.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
