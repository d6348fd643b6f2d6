package plan

import "gitlab.studip.de/studip/docker/versions"

// Tag is one tag of a target. A floating tag moves to newer builds (6.0, latest, nightly);
// the others name one version for good and are pushed first.
type Tag struct {
	Name     string
	Floating bool
}

// TagNames are the names of t's tags, in plan order.
func (t Target) TagNames() []string {
	names := make([]string, len(t.Tags))
	for i, tag := range t.Tags {
		names[i] = tag.Name
	}
	return names
}

type aliasKind int

const (
	aliasFull  aliasKind = iota // 6.0.3, 6.1.0-beta.1
	aliasMinor                  // 6.0
	aliasMajor                  // 6
	aliasLatest
	aliasNightly
)

// alias is a tag before the base is applied.
type alias struct {
	kind aliasKind
	text string
}

// aliasesByBase computes, per base, the aliases of every entry built for it: `X` and
// `latest` go to the highest stable releases among those entries only, so every base has
// its own latest.
func aliasesByBase(f *versions.File) map[versions.Base]map[string][]alias {
	out := map[versions.Base]map[string][]alias{}
	for _, b := range f.Bases {
		var latest versions.Version
		highest := map[string]versions.Version{} // major -> highest stable release
		for _, e := range f.Entries {
			if !builtFor(e, b) || e.IsNightly() || e.Version.Prerelease() != "" {
				continue
			}
			if h, ok := highest[e.Version.Major()]; !ok || e.Version.Compare(h) > 0 {
				highest[e.Version.Major()] = e.Version
			}
			if latest.IsZero() || e.Version.Compare(latest) > 0 {
				latest = e.Version
			}
		}
		out[b] = map[string][]alias{}
		for _, e := range f.Entries {
			if !builtFor(e, b) {
				continue
			}
			out[b][entryName(e)] = entryAliases(e, highest, latest)
		}
	}
	return out
}

func builtFor(e versions.Entry, b versions.Base) bool {
	for _, eb := range e.Bases {
		if eb == b {
			return true
		}
	}
	return false
}

func entryAliases(e versions.Entry, highest map[string]versions.Version, latest versions.Version) []alias {
	v := e.Version
	switch {
	case e.IsNightly():
		return []alias{{aliasNightly, "nightly"}}
	case v.Prerelease() != "":
		return []alias{{aliasFull, v.String()}}
	}
	as := []alias{{aliasFull, v.String()}, {aliasMinor, v.Minor()}}
	if highest[v.Major()] == v {
		as = append(as, alias{aliasMajor, v.Major()})
	}
	if latest == v {
		as = append(as, alias{aliasLatest, "latest"})
	}
	return as
}

// renderTags applies base b to the aliases: the default base gets the bare aliases, then
// every base gets them suffixed with -b ("latest" becomes plain b).
func renderTags(as []alias, b, defaultBase versions.Base) []Tag {
	var out []Tag
	if b == defaultBase {
		for _, a := range as {
			out = append(out, Tag{Name: a.text, Floating: a.kind != aliasFull})
		}
	}
	for _, a := range as {
		name := a.text + "-" + string(b)
		if a.kind == aliasLatest {
			name = string(b)
		}
		out = append(out, Tag{Name: name, Floating: a.kind != aliasFull})
	}
	return out
}
