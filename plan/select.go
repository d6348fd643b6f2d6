package plan

import (
	"fmt"
	"slices"
	"strings"

	"gitlab.studip.de/studip/docker/versions"
)

// Filter narrows a plan. Empty fields select everything.
type Filter struct {
	// Versions holds minor lines ("6.0"), full versions ("6.0.3"), "nightly", "tests" (every
	// test image) or a test image's name ("tests-php8.3").
	Versions  []string
	Bases     []versions.Base
	Platforms []versions.Platform
}

// FilterError reports filter values that select nothing.
type FilterError struct{ Problems []string }

func (e *FilterError) Error() string { return strings.Join(e.Problems, "\n") }

// Select keeps the targets that every non-empty filter field matches, and narrows their
// platforms to the selected ones. Tags stay as planned from the whole file, so a filtered
// build tags exactly as a full one. A value that matches no target is an error.
func (p *Plan) Select(f Filter) (*Plan, error) {
	var problems []string
	for _, v := range f.Versions {
		if !slices.ContainsFunc(p.Targets, func(t Target) bool { return t.matchesVersion(v) }) {
			problems = append(problems, fmt.Sprintf("--version %s matches no target (known: %s)", v, strings.Join(p.versionNames(), ", ")))
		}
	}
	for _, b := range f.Bases {
		if !slices.ContainsFunc(p.Targets, func(t Target) bool { return t.Base == b }) {
			problems = append(problems, fmt.Sprintf("--base %s matches no target", b))
		}
	}
	for _, pl := range f.Platforms {
		if !slices.ContainsFunc(p.Targets, func(t Target) bool { return slices.Contains(t.Platforms, pl) }) {
			problems = append(problems, fmt.Sprintf("--platform %s matches no target", pl))
		}
	}
	out := &Plan{Repository: p.Repository, Images: p.Images}
	for _, t := range p.Targets {
		if len(f.Versions) > 0 && !slices.ContainsFunc(f.Versions, t.matchesVersion) ||
			len(f.Bases) > 0 && !slices.Contains(f.Bases, t.Base) {
			continue
		}
		if len(f.Platforms) > 0 {
			t.Platforms = slices.DeleteFunc(slices.Clone(t.Platforms), func(pl versions.Platform) bool { return !slices.Contains(f.Platforms, pl) })
			if len(t.Platforms) == 0 {
				continue
			}
		}
		out.Targets = append(out.Targets, t)
	}
	if len(problems) == 0 && len(out.Targets) == 0 {
		problems = append(problems, "the filters together match no target")
	}
	if problems != nil {
		return nil, &FilterError{Problems: problems}
	}
	return out, nil
}

func (t Target) matchesVersion(v string) bool {
	switch t.Channel {
	case Tests:
		return v == "tests" || v == t.Name
	case Nightly:
		return v == t.Name
	}
	return v == t.Name || v == t.Minor
}

// versionNames lists what --version accepts, in plan order.
func (p *Plan) versionNames() []string {
	var names []string
	for _, t := range p.Targets {
		if t.Channel == Tests && !slices.Contains(names, "tests") {
			names = append(names, "tests")
		}
		name := t.Minor
		if name == "" {
			name = t.Name
		} else if t.Channel == Prerelease {
			name = t.Name
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}
