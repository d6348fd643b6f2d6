// Package versions loads and validates versions.yaml, the list of Stud.IP versions this
// project builds. It knows nothing of tags or builds (see package plan) and imports no Dagger.
package versions

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/mod/semver"
)

// Base is the flavour of an image's PHP runtime.
type Base string

const (
	Apache    Base = "apache"     // php-apache on Debian; the usual default base
	FPMAlpine Base = "fpm-alpine" // php-fpm on Alpine, behind a web server of the user's choice
)

// Bases is the allow-list of bases, in a fixed order.
var Bases = []Base{Apache, FPMAlpine}

// ParseBase accepts only an allow-listed base.
func ParseBase(s string) (Base, error) {
	for _, b := range Bases {
		if string(b) == s {
			return b, nil
		}
	}
	return "", fmt.Errorf("unknown base %q (known: %s)", s, joinStrings(Bases))
}

// Platform is an OCI platform, os/arch[/variant].
type Platform struct {
	OS, Arch, Variant string
}

func (p Platform) String() string {
	if p.Variant == "" {
		return p.OS + "/" + p.Arch
	}
	return p.OS + "/" + p.Arch + "/" + p.Variant
}

// OldestPHP is the oldest PHP minor the runtime Dockerfiles build: their gd options
// (--with-jpeg, --with-freetype) came with PHP 7.4.
const OldestPHP = "7.4"

// Platforms is the allow-list of platforms: those the official php images are published for
// and that the node and mariadb images also provide.
var Platforms = []Platform{
	{OS: "linux", Arch: "amd64"},
	{OS: "linux", Arch: "arm64"},
	{OS: "linux", Arch: "arm", Variant: "v7"},
	{OS: "linux", Arch: "ppc64le"},
	{OS: "linux", Arch: "s390x"},
}

var platformSyntax = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$`)

// ParsePlatform accepts os/arch[/variant] naming an allow-listed platform.
func ParsePlatform(s string) (Platform, error) {
	if !platformSyntax.MatchString(s) {
		return Platform{}, fmt.Errorf("platform %q is not os/arch[/variant], e.g. linux/amd64", s)
	}
	for _, p := range Platforms {
		if p.String() == s {
			return p, nil
		}
	}
	return Platform{}, fmt.Errorf("platform %q is not supported (supported: %s)", s, joinStrings(Platforms))
}

// Version is a Stud.IP release version, X.Y.Z or X.Y.Z-PRE.
type Version struct {
	v string // canonical semver with the leading "v" that golang.org/x/mod/semver wants
}

var versionSyntax = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// ParseVersion accepts X.Y.Z or X.Y.Z-PRE, without a leading v and without build metadata
// (a registry tag cannot carry "+").
func ParseVersion(s string) (Version, error) {
	switch {
	case strings.HasPrefix(s, "v") || strings.HasPrefix(s, "V"):
		return Version{}, fmt.Errorf("version %q must not start with v (write %s)", s, s[1:])
	case strings.Contains(s, "+"):
		return Version{}, fmt.Errorf("version %q has build metadata, which an image tag cannot carry", s)
	case !versionSyntax.MatchString(s) || !semver.IsValid("v"+s) || semver.Canonical("v"+s) != "v"+s:
		return Version{}, fmt.Errorf("version %q is not semver X.Y.Z or X.Y.Z-PRE", s)
	}
	return Version{v: "v" + s}, nil
}

// MustParseVersion is ParseVersion for literals in tests and examples.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

func (v Version) String() string { return strings.TrimPrefix(v.v, "v") }

// IsZero reports whether v is the zero Version (a nightly entry has none).
func (v Version) IsZero() bool { return v.v == "" }

// Major is "6" for 6.0.3.
func (v Version) Major() string { return strings.TrimPrefix(semver.Major(v.v), "v") }

// Minor is the minor line, "6.0" for 6.0.3.
func (v Version) Minor() string { return strings.TrimPrefix(semver.MajorMinor(v.v), "v") }

// Prerelease is "beta.1" for 6.1.0-beta.1, "" for a stable release.
func (v Version) Prerelease() string { return strings.TrimPrefix(semver.Prerelease(v.v), "-") }

// Compare orders versions by semver precedence: -1, 0 or +1.
func (v Version) Compare(w Version) int { return semver.Compare(v.v, w.v) }

// DefaultRef is Stud.IP's git tag for v: vX.Y.Z, except that X.Y.0 is tagged vX.Y.
func (v Version) DefaultRef() string {
	if v.Prerelease() == "" && strings.HasSuffix(v.v, ".0") {
		return semver.MajorMinor(v.v)
	}
	return v.v
}

func joinStrings[T any](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
