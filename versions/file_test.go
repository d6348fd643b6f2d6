package versions_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

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
    php: '8.3'
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
    assets: [npm, run, build, --, --mode=production]
tests:
  - {php: "8.1", node: "22"}
  - php: "7.4"
    node: 22
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
			// An explicit ref wins; the bases keep the file's order; php in single quotes; node unquoted.
			{Version: versions.MustParseVersion("6.0.3"), Ref: "0123abcd", PHP: "8.3", Node: "22", Platforms: []versions.Platform{amd}, Bases: both, Line: 10},
			{Version: versions.MustParseVersion("6.2.0-beta.1"), Ref: "v6.2.0-beta.1", PHP: "8.4", Node: "22", Platforms: []versions.Platform{amd, arm}, Bases: []versions.Base{versions.FPMAlpine}, Line: 16},
			{Nightly: "main", Ref: "main", PHP: "8.4", Node: "24", Platforms: []versions.Platform{amd, arm}, Bases: both,
				Assets: []string{"npm", "run", "build", "--", "--mode=production"}, Line: 20},
		},
		Tests: []versions.Test{{PHP: "8.1", Node: "22", Line: 25}, {PHP: "7.4", Node: "22", Line: 26}},
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

// php and node are validated alike in an entry and a test image: php a quoted PHP minor that
// versions.PHPLines lists, node a major that versions.NodeLines lists.
func TestPHPAndNode(t *testing.T) {
	tests := []struct {
		name, php, node string
		wantErr         string // "" when valid
	}{
		{name: "double-quoted php", php: `"8.3"`, node: `"22"`},
		{name: "single-quoted php, unquoted node", php: `'8.4'`, node: `24`},
		{name: "unquoted php that is no line, which YAML shortens", php: `8.20`, node: `"22"`, wantErr: `php 8.20 is not a PHP line this project knows (known: 7.4, 8.0, 8.1, 8.2, 8.3, 8.4, 8.5; versions/lifecycle.go); write the line you mean quoted, e.g. php: "8.3" (unquoted, YAML reads the number 8.2)`},
		{name: "unquoted php", php: `8.3`, node: `"22"`, wantErr: `php 8.3 must be quoted: write php: "8.3" (unquoted, YAML reads a number)`},
		{name: "php that does not exist", php: `"9.9"`, node: `"22"`, wantErr: `php "9.9" is not a PHP line this project knows (known: 7.4, 8.0, 8.1, 8.2, 8.3, 8.4, 8.5; versions/lifecycle.go)`},
		{name: "php older than the Dockerfiles build", php: `"7.3"`, node: `"22"`, wantErr: `php "7.3" is older than 7.4`},
		{name: "php major only", php: `"8"`, node: `"22"`, wantErr: `php "8" is not a PHP minor version, e.g. php: "8.3"`},
		{name: "empty php", php: `""`, node: `"22"`, wantErr: `php must be a non-empty string, e.g. php: "8.3"`},
		{name: "node that does not exist", php: `"8.3"`, node: `"99"`, wantErr: `node "99" is not a Node major this project knows`},
		{name: "node older than Stud.IP accepts", php: `"8.3"`, node: `14`, wantErr: `node "14" is not a Node major this project knows`},
		{name: "node with a v", php: `"8.3"`, node: `v22`, wantErr: `node "v22" is not a Node major version, e.g. node: "22"`},
		{name: "node as a version", php: `"8.3"`, node: `"22.1"`, wantErr: `node "22.1" is not a Node major version`},
	}
	places := map[string]func(php, node string) string{
		"entry": func(php, node string) string {
			return fmt.Sprintf("versions:\n  - version: 6.0.3\n    php: %s\n    node: %s\n", php, node)
		},
		"test image": func(php, node string) string {
			return fmt.Sprintf("versions:\n  - {version: 6.0.3, php: \"8.3\", node: \"22\"}\ntests:\n  - php: %s\n    node: %s\n", php, node)
		},
	}
	for place, yaml := range places {
		for _, tt := range tests {
			t.Run(place+"/"+tt.name, func(t *testing.T) {
				in := "repository: r.example/studip\nsource: https://git.example/studip.git\nplatforms: [linux/amd64]\nbases: [apache]\n" + yaml(tt.php, tt.node)
				_, err := versions.Parse(strings.NewReader(in))
				switch {
				case tt.wantErr == "" && err != nil:
					t.Errorf("refused: %v", err)
				case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
					t.Errorf("err = %v\nwant it to contain %q", err, tt.wantErr)
				}
			})
		}
	}
}

func TestPastEndOfLife(t *testing.T) {
	const in = `repository: r.example/studip
source: https://git.example/studip.git
platforms: [linux/amd64]
bases: [apache]
versions:
  - {version: 6.0.3, php: "8.3", node: "22"}
  - {version: 5.4.11, php: "7.4", node: "20"}
  - {nightly: main, php: "8.4", node: "24"}
tests:
  - {php: "8.1", node: "22"}
  - {php: "8.2", node: "22"}
`
	f, err := versions.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		now  time.Time
		want []string
	}{
		{name: "before any end of life", now: day(2022, 11, 28), want: nil},
		{name: "PHP 7.4 ended", now: day(2022, 11, 29), want: []string{
			"line 7: entry 5.4.11: PHP 7.4 reached its end of life on 2022-11-28",
		}},
		{name: "the issue's day", now: day(2026, 11, 30), want: []string{
			"line 7: entry 5.4.11: PHP 7.4 reached its end of life on 2022-11-28",
			"line 7: entry 5.4.11: Node 20 reached its end of life on 2026-04-30",
			"line 10: test image php 8.1: PHP 8.1 reached its end of life on 2025-12-31",
		}},
		{name: "a year on, nightly included", now: day(2028, 12, 31), want: []string{
			"line 6: entry 6.0.3: PHP 8.3 reached its end of life on 2027-12-31",
			"line 6: entry 6.0.3: Node 22 reached its end of life on 2027-04-30",
			"line 7: entry 5.4.11: PHP 7.4 reached its end of life on 2022-11-28",
			"line 7: entry 5.4.11: Node 20 reached its end of life on 2026-04-30",
			"line 8: entry nightly main: Node 24 reached its end of life on 2028-04-30",
			"line 10: test image php 8.1: PHP 8.1 reached its end of life on 2025-12-31",
			"line 10: test image php 8.1: Node 22 reached its end of life on 2027-04-30",
			"line 11: test image php 8.2: PHP 8.2 reached its end of life on 2026-12-31",
			"line 11: test image php 8.2: Node 22 reached its end of life on 2027-04-30",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range f.PastEndOfLife(tt.now) {
				got = append(got, p.In(""))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }
