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

// FilterField is a field of Filter, named as in messages.
type FilterField string

const (
	FilterVersion  FilterField = "version"
	FilterBase     FilterField = "base"
	FilterPlatform FilterField = "platform"
)

// Unmatched is a filter value that matches no target.
type Unmatched struct {
	Field FilterField
	Value string
}

// FilterError is a filter that selects nothing: values that match no target, or, with
// Unmatched empty, values that each match some target but together none.
type FilterError struct {
	Unmatched []Unmatched // in Filter order: versions, bases, platforms
	Known     []string    // what Filter.Versions accepts, in plan order
}

func (e *FilterError) Error() string {
	if len(e.Unmatched) == 0 {
		return "the filters together match no target"
	}
	lines := make([]string, len(e.Unmatched))
	for i, u := range e.Unmatched {
		lines[i] = fmt.Sprintf("%s %s %s", u.Field, u.Value, e.Explain(u))
	}
	return strings.Join(lines, "\n")
}

// Explain says what is wrong with u, after its field and value: "matches no target" and,
// for a version, what would match.
func (e *FilterError) Explain(u Unmatched) string {
	if u.Field == FilterVersion {
		return fmt.Sprintf("matches no target (known: %s)", strings.Join(e.Known, ", "))
	}
	return "matches no target"
}

// Select keeps the targets that every non-empty filter field matches, and narrows their
// platforms to the selected ones. Tags stay as planned from the whole file, so a filtered
// build tags exactly as a full one. A filter that selects nothing is a *FilterError.
func (p *Plan) Select(f Filter) (*Plan, error) {
	ferr := &FilterError{Known: p.versionNames()}
	for _, v := range f.Versions {
		if !slices.ContainsFunc(p.Targets, func(t Target) bool { return t.matchesVersion(v) }) {
			ferr.Unmatched = append(ferr.Unmatched, Unmatched{FilterVersion, v})
		}
	}
	for _, b := range f.Bases {
		if !slices.ContainsFunc(p.Targets, func(t Target) bool { return t.Base == b }) {
			ferr.Unmatched = append(ferr.Unmatched, Unmatched{FilterBase, string(b)})
		}
	}
	for _, pl := range f.Platforms {
		if !slices.ContainsFunc(p.Targets, func(t Target) bool { return slices.Contains(t.Platforms, pl) }) {
			ferr.Unmatched = append(ferr.Unmatched, Unmatched{FilterPlatform, pl.String()})
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
	if len(ferr.Unmatched) > 0 || len(out.Targets) == 0 {
		return nil, ferr
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
