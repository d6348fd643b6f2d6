package plan

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"gitlab.studip.de/studip/docker/versions"
)

// A pin (Options.Commits) fixes a Stud.IP version's source to the commit its ref named when
// it was resolved once, before the jobs of a pipeline start: each job that resolved the ref
// itself could build another commit once the branch moved.

// PinError is every pin that cannot be applied.
type PinError struct{ Problems []string }

func (e *PinError) Error() string {
	return "pinning source commits: " + strings.Join(e.Problems, "; ")
}

var commitID = regexp.MustCompile(`^[0-9a-f]{40}$`)

// checkPins reports the pins that name no Stud.IP version of f and the commits that are no
// full commit ID, in name order.
func checkPins(f *versions.File, pins map[string]string) error {
	var names []string
	for _, e := range f.Entries {
		names = append(names, entryName(e))
	}
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(pins)) {
		switch commit := pins[name]; {
		case !slices.Contains(names, name):
			problems = append(problems, fmt.Sprintf("%s is no Stud.IP version of the file (known: %s)", name, strings.Join(names, ", ")))
		case !commitID.MatchString(commit):
			problems = append(problems, fmt.Sprintf("%s: %q is no full commit ID (40 lowercase hex digits)", name, commit))
		}
	}
	if len(problems) > 0 {
		return &PinError{problems}
	}
	return nil
}
