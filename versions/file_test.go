package versions_test

import (
	"reflect"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/versions"
)

func TestParseResolvesDefaults(t *testing.T) {
	const in = `# comments are fine
repository: registry.example.org:5000/studip/studip
source: https://gitlab.studip.de/studip/studip.git
platforms: [linux/amd64, linux/arm64]
bases: [apache, fpm-alpine]
versions:
  - version: 6.1.0
    php: "8.3"
    node: "22"
  - version: 6.0.3
    ref: 0123abcd
    php: 8.3
    node: 22
    platforms: [linux/amd64]
    bases: [fpm-alpine, apache]
  - version: 6.2.0-beta.1
    php: "8.4"
    node: "22"
    bases: [fpm-alpine]
  - nightly: main
    php: "8.4"
    node: "24"
`
	f, err := versions.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	amd, arm := versions.Platform{OS: "linux", Arch: "amd64"}, versions.Platform{OS: "linux", Arch: "arm64"}
	both := []versions.Base{versions.Apache, versions.FPMAlpine}
	want := &versions.File{
		Repository: "registry.example.org:5000/studip/studip",
		Source:     "https://gitlab.studip.de/studip/studip.git",
		Platforms:  []versions.Platform{amd, arm},
		Bases:      both,
		Entries: []versions.Entry{
			// X.Y.0 is tagged vX.Y in Stud.IP's git.
			{Version: versions.MustParseVersion("6.1.0"), Ref: "v6.1", PHP: "8.3", Node: "22", Platforms: []versions.Platform{amd, arm}, Bases: both, Line: 7},
			// An explicit ref wins; the bases keep the file's order; unquoted numbers are read as written.
			{Version: versions.MustParseVersion("6.0.3"), Ref: "0123abcd", PHP: "8.3", Node: "22", Platforms: []versions.Platform{amd}, Bases: both, Line: 10},
			{Version: versions.MustParseVersion("6.2.0-beta.1"), Ref: "v6.2.0-beta.1", PHP: "8.4", Node: "22", Platforms: []versions.Platform{amd, arm}, Bases: []versions.Base{versions.FPMAlpine}, Line: 16},
			{Nightly: "main", Ref: "main", PHP: "8.4", Node: "24", Platforms: []versions.Platform{amd, arm}, Bases: both, Line: 20},
		},
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", f, want)
	}
	if f.DefaultBase() != versions.Apache {
		t.Errorf("DefaultBase = %s, want apache", f.DefaultBase())
	}
}

func TestShippedVersionsFileIsValid(t *testing.T) {
	f, err := versions.Load("../versions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	nightlies := 0
	for _, e := range f.Entries {
		if e.IsNightly() {
			nightlies++
		}
	}
	if nightlies != 1 || len(f.Entries) < 2 {
		t.Errorf("versions.yaml has %d entries and %d nightly, want releases and one nightly", len(f.Entries), nightlies)
	}
}
