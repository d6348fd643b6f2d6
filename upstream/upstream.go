// Package upstream reads what Stud.IP's own repository says about its releases: which tags
// exist, what PHP and Node a release's composer.json and package.json require, and which
// release line a checkout is. From that it decides what versions.yaml is behind on. The git
// commands are behind the Repository interface (Git runs the git CLI), so that everything
// else is pure and tested without a remote.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gitlab.studip.de/studip/docker/versions"
)

// Repository is the little of a remote git repository that upstream reads.
type Repository interface {
	// Tags lists the names of the remote's tags, without refs/tags/.
	Tags(ctx context.Context) ([]string, error)
	// Files reads files at a tag; a file the tag does not have is absent from the map.
	Files(ctx context.Context, tag string, paths ...string) (map[string][]byte, error)
}

// Release is a stable release tag of Stud.IP.
type Release struct {
	Tag     string           // v6.0.2, v6.1 (Stud.IP tags X.Y.0 as vX.Y)
	Version versions.Version // 6.0.2, 6.1.0
}

// Stud.IP's release tags: vX.Y.Z, and vX.Y for X.Y.0. Anything else (a pre-release such as
// v6.2.beta or v6.2.0-rc.1, a branch-like name) is no stable release.
var releaseTag = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?$`)

// ParseRelease reads a tag name as a stable release; false for any other tag.
func ParseRelease(tag string) (Release, bool) {
	m := releaseTag.FindStringSubmatch(tag)
	if m == nil {
		return Release{}, false
	}
	patch := m[3]
	if patch == "" {
		patch = "0"
	}
	v, err := versions.ParseVersion(m[1] + "." + m[2] + "." + patch)
	if err != nil {
		return Release{}, false
	}
	return Release{Tag: tag, Version: v}, true
}

// Releases are the stable releases among tags, highest first. Where one version has two tags
// (v6.1 and v6.1.0), the first in tags is kept.
func Releases(tags []string) []Release {
	var out []Release
	seen := map[versions.Version]bool{}
	for _, tag := range tags {
		r, ok := ParseRelease(tag)
		if !ok || seen[r.Version] {
			continue
		}
		seen[r.Version] = true
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Release) int { return b.Version.Compare(a.Version) })
	return out
}

// Update is one release that versions.yaml is behind on: a newer patch of a line it has, or
// the newest release of a newer line.
type Update struct {
	Release
	Line    string           // the minor line, "6.1"
	Current versions.Version // the line's version in versions.yaml; zero for a new line
	// PHP and Node are proposed for a new line (Propose fills them); "" for a patch, which
	// keeps its entry's.
	PHP, Node string
	Notes     []string // how PHP and Node were chosen
}

// NewLine reports whether u adds a line to versions.yaml.
func (u Update) NewLine() bool { return u.Current.IsZero() }

func (u Update) String() string {
	if u.NewLine() {
		return fmt.Sprintf("%s: new line %s (tag %s), php %s, node %s", u.Line, u.Version, u.Tag, u.PHP, u.Node)
	}
	return fmt.Sprintf("%s: %s -> %s (tag %s)", u.Line, u.Current, u.Version, u.Tag)
}

// Behind lists what f is behind on among the releases: for each release line of f, its
// newest release if that is higher than f's version; and for each line above f's highest,
// its newest release. Lines below f's highest that f does not have (lines that ended and
// were dropped) are not proposed. Updates come in line order, highest first; PHP and Node of
// new lines are left for Propose.
func Behind(f *versions.File, releases []Release) []Update {
	current := map[string]versions.Version{}
	var highest versions.Version
	for _, e := range f.Entries {
		if e.IsNightly() {
			continue
		}
		current[e.Version.Minor()] = e.Version
		if highest.IsZero() || e.Version.Compare(highest) > 0 {
			highest = e.Version
		}
	}
	var out []Update
	done := map[string]bool{}
	for _, r := range releases { // highest first: the first of each line is its newest
		line := r.Version.Minor()
		if done[line] {
			continue
		}
		done[line] = true
		cur, have := current[line]
		switch {
		case have && r.Version.Compare(cur) > 0:
			out = append(out, Update{Release: r, Line: line, Current: cur})
		case !have && !highest.IsZero() && CompareLines(line, highest.Minor()) > 0:
			out = append(out, Update{Release: r, Line: line})
		}
	}
	slices.SortStableFunc(out, func(a, b Update) int { return CompareLines(b.Line, a.Line) })
	return out
}

// CompareLines orders minor lines "X.Y" (as Line returns them) numerically.
func CompareLines(a, b string) int {
	return versions.MustParseVersion(a + ".0").Compare(versions.MustParseVersion(b + ".0"))
}

// Propose lists what f is behind on in repo (Behind) and chooses PHP and Node for each new
// line from the files of its tag (Runtimes).
func Propose(ctx context.Context, repo Repository, f *versions.File, opts RuntimeOptions) ([]Update, error) {
	tags, err := repo.Tags(ctx)
	if err != nil {
		return nil, err
	}
	updates := Behind(f, Releases(tags))
	for i, u := range updates {
		if !u.NewLine() {
			continue
		}
		files, err := repo.Files(ctx, u.Tag, ComposerJSON, ComposerLock, PackageJSON)
		if err != nil {
			return nil, err
		}
		rt, err := Runtimes(files, opts)
		if err != nil {
			return nil, fmt.Errorf("choosing PHP and Node for %s (tag %s): %w", u.Version, u.Tag, err)
		}
		updates[i].PHP, updates[i].Node, updates[i].Notes = rt.PHP, rt.Node, rt.Notes
	}
	return updates, nil
}

// Line is the minor line "X.Y" of a Stud.IP version as its tree writes it: 6.0.2, 6.1,
// 6.3.alpha, 6.2.beta.
func Line(version string) (string, error) {
	m := treeVersion.FindStringSubmatch(version)
	if m == nil {
		return "", fmt.Errorf("%q is not a Stud.IP version X.Y[.Z][.alpha|beta|...]", version)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return fmt.Sprintf("%d.%d", major, minor), nil
}

var treeVersion = regexp.MustCompile(`^v?([0-9]+)\.([0-9]+)(?:\.[0-9]+)?(?:[.-]?[A-Za-z][0-9A-Za-z.-]*)?$`)

// TreeVersion is the Stud.IP version a checkout says it is: its VERSION file ("RELEASE
// 6.0.2"), else the $SOFTWARE_VERSION of lib/bootstrap.php.
func TreeVersion(tree fs.FS) (string, error) {
	if data, err := fs.ReadFile(tree, "VERSION"); err == nil {
		if m := versionFile.FindSubmatch(data); m != nil {
			return string(m[1]), nil
		}
		return "", fmt.Errorf("VERSION: %q is not RELEASE X.Y[.Z]", firstLine(data))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	data, err := fs.ReadFile(tree, "lib/bootstrap.php")
	if errors.Is(err, fs.ErrNotExist) {
		return "", errors.New("neither VERSION nor lib/bootstrap.php is there: not a Stud.IP tree")
	}
	if err != nil {
		return "", err
	}
	if m := softwareVersion.FindSubmatch(data); m != nil {
		return string(m[1]), nil
	}
	return "", errors.New("lib/bootstrap.php sets no $SOFTWARE_VERSION")
}

var (
	versionFile     = regexp.MustCompile(`^\s*RELEASE\s+(\S+)\s*(?:\n|$)`)
	softwareVersion = regexp.MustCompile(`(?m)^\s*\$SOFTWARE_VERSION\s*=\s*['"]([^'"]+)['"]\s*;`)
)

func firstLine(data []byte) string {
	s, _, _ := strings.Cut(string(data), "\n")
	return s
}
