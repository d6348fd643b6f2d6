package versions_test

import (
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/versions"
)

func TestRuntimeEndedBy(t *testing.T) {
	php82, ok := versions.FindRuntime(versions.PHPLines, "8.2")
	if !ok {
		t.Fatal("PHP 8.2 is not in PHPLines")
	}
	tests := []struct {
		name  string
		now   time.Time
		ended bool
	}{
		{"the day before", time.Date(2026, 12, 30, 23, 0, 0, 0, time.UTC), false},
		{"the last day of support", time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), false},
		{"the day after", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := php82.EndedBy(tt.now); got != tt.ended {
				t.Errorf("EndedBy(%s) = %v, want %v", tt.now, got, tt.ended)
			}
		})
	}
}

// The tables start where the project does: the oldest PHP the Dockerfiles build, and a Node
// that Stud.IP's oldest supported line (engines >=16) accepts; and they are in order.
func TestRuntimeTables(t *testing.T) {
	if versions.PHPLines[0].Name != versions.OldestPHP {
		t.Errorf("PHPLines starts at %s, want OldestPHP %s", versions.PHPLines[0].Name, versions.OldestPHP)
	}
	if _, ok := versions.FindRuntime(versions.NodeLines, "9"); ok {
		t.Error("FindRuntime found Node 9, which is not listed")
	}
	for _, lines := range [][]versions.Runtime{versions.PHPLines, versions.NodeLines} {
		for i := 1; i < len(lines); i++ {
			if lines[i].Name <= lines[i-1].Name && len(lines[i].Name) == len(lines[i-1].Name) {
				t.Errorf("%s listed after %s", lines[i].Name, lines[i-1].Name)
			}
		}
	}
}
