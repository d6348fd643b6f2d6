package gitlabci_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The outdated job runs the command that the ci tests cover, and hands it the token through
// the environment only: its script never names the variable (argv is visible in process
// listings and job logs).
func TestOutdatedJob(t *testing.T) {
	job, ok := loadPipeline(t)["outdated"].(map[string]any)
	if !ok {
		t.Fatal("no job outdated")
	}
	script := toStrings(job["script"])
	if !slices.Equal(script, []string{"go run ./ci outdated --apply --merge-request"}) {
		t.Errorf("outdated runs %q", script)
	}
	for _, key := range []string{"script", "before_script", "after_script", "variables"} {
		if v, ok := job[key]; ok && strings.Contains(fmt.Sprint(v), "STUDIP_BOT_TOKEN") {
			t.Errorf("outdated: %s names STUDIP_BOT_TOKEN; the command reads it from the environment", key)
		}
	}
}
