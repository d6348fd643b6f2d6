package plan_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

const header = `repository: docker.io/studip/studip
source: https://gitlab.studip.de/studip/studip.git
platforms: [linux/amd64, linux/arm64]
`

// mustPlan plans a versions file given as YAML.
func mustPlan(t testing.TB, yaml string) *plan.Plan {
	t.Helper()
	f, err := versions.Parse(strings.NewReader(yaml))
	if err != nil {
		t.Fatalf("parsing fixture: %v", err)
	}
	p, err := plan.New(f, plan.Options{Created: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("planning fixture: %v", err)
	}
	return p
}

// summary renders the Stud.IP targets as "name base: tags", test images left out.
func summary(p *plan.Plan) []string {
	var out []string
	for _, t := range p.Targets {
		if t.Channel == plan.Tests {
			continue
		}
		var tags []string
		for _, tag := range t.Tags {
			tags = append(tags, tag.Name)
		}
		out = append(out, fmt.Sprintf("%s %s: %s", t.Name, t.Base, strings.Join(tags, " ")))
	}
	return out
}

func TestTagRules(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "newest release gets every alias, the default base also bare ones",
			yaml: `bases: [apache, fpm-alpine]
versions:
  - {version: 6.0.3, php: "8.3", node: "22"}`,
			want: []string{
				"6.0.3 apache: 6.0.3 6.0 6 latest 6.0.3-apache 6.0-apache 6-apache apache",
				"6.0.3 fpm-alpine: 6.0.3-fpm-alpine 6.0-fpm-alpine 6-fpm-alpine fpm-alpine",
			},
		},
		{
			name: "two majors: the highest of each major takes X, the highest overall latest",
			yaml: `bases: [apache]
versions:
  - {version: 5.5.8, php: "8.2", node: "20"}
  - {version: 6.0.3, php: "8.3", node: "22"}
  - {version: 5.4.11, php: "7.4", node: "20"}`,
			want: []string{
				"6.0.3 apache: 6.0.3 6.0 6 latest 6.0.3-apache 6.0-apache 6-apache apache",
				"5.5.8 apache: 5.5.8 5.5 5 5.5.8-apache 5.5-apache 5-apache",
				"5.4.11 apache: 5.4.11 5.4 5.4.11-apache 5.4-apache",
			},
		},
		{
			name: "a pre-release newer than every release gets only its own version",
			yaml: `bases: [apache, fpm-alpine]
versions:
  - {version: 6.0.3, php: "8.3", node: "22"}
  - {version: 7.0.0-rc.1, php: "8.4", node: "22"}`,
			want: []string{
				"7.0.0-rc.1 apache: 7.0.0-rc.1 7.0.0-rc.1-apache",
				"7.0.0-rc.1 fpm-alpine: 7.0.0-rc.1-fpm-alpine",
				"6.0.3 apache: 6.0.3 6.0 6 latest 6.0.3-apache 6.0-apache 6-apache apache",
				"6.0.3 fpm-alpine: 6.0.3-fpm-alpine 6.0-fpm-alpine 6-fpm-alpine fpm-alpine",
			},
		},
		{
			name: "nightly gets nightly only, and comes first",
			yaml: `bases: [apache, fpm-alpine]
versions:
  - {version: 6.0.3, php: "8.3", node: "22"}
  - {nightly: main, php: "8.4", node: "22"}`,
			want: []string{
				"nightly apache: nightly nightly-apache",
				"nightly fpm-alpine: nightly-fpm-alpine",
				"6.0.3 apache: 6.0.3 6.0 6 latest 6.0.3-apache 6.0-apache 6-apache apache",
				"6.0.3 fpm-alpine: 6.0.3-fpm-alpine 6.0-fpm-alpine 6-fpm-alpine fpm-alpine",
			},
		},
		{
			name: "a base override: latest and X are computed per base",
			yaml: `bases: [apache, fpm-alpine]
versions:
  - {version: 6.0.3, php: "8.3", node: "22", bases: [apache]}
  - {version: 5.5.8, php: "8.2", node: "20"}`,
			want: []string{
				"6.0.3 apache: 6.0.3 6.0 6 latest 6.0.3-apache 6.0-apache 6-apache apache",
				"5.5.8 apache: 5.5.8 5.5 5 5.5.8-apache 5.5-apache 5-apache",
				"5.5.8 fpm-alpine: 5.5.8-fpm-alpine 5.5-fpm-alpine 5-fpm-alpine fpm-alpine",
			},
		},
		{
			name: "the first base of the file is the default base",
			yaml: `bases: [fpm-alpine, apache]
versions:
  - {version: 6.0.3, php: "8.3", node: "22"}`,
			want: []string{
				"6.0.3 fpm-alpine: 6.0.3 6.0 6 latest 6.0.3-fpm-alpine 6.0-fpm-alpine 6-fpm-alpine fpm-alpine",
				"6.0.3 apache: 6.0.3-apache 6.0-apache 6-apache apache",
			},
		},
		{
			name: "X.Y.0 releases and newest-first order by semver, not by text",
			yaml: `bases: [apache]
versions:
  - {version: 6.9.1, php: "8.3", node: "22"}
  - {version: 6.10.0, php: "8.3", node: "22"}`,
			want: []string{
				"6.10.0 apache: 6.10.0 6.10 6 latest 6.10.0-apache 6.10-apache 6-apache apache",
				"6.9.1 apache: 6.9.1 6.9 6.9.1-apache 6.9-apache",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summary(mustPlan(t, header+tt.yaml))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestOnlyFullVersionTagsAreFixed(t *testing.T) {
	p := mustPlan(t, header+`bases: [apache, fpm-alpine]
versions:
  - {version: 6.0.3, php: "8.3", node: "22"}
  - {version: 6.1.0-beta.1, php: "8.3", node: "22"}
  - {nightly: main, php: "8.3", node: "22"}`)
	fixed := map[string]bool{"6.0.3": true, "6.0.3-apache": true, "6.0.3-fpm-alpine": true,
		"6.1.0-beta.1": true, "6.1.0-beta.1-apache": true, "6.1.0-beta.1-fpm-alpine": true}
	for _, target := range p.Targets {
		for _, tag := range target.Tags {
			if tag.Floating == fixed[tag.Name] {
				t.Errorf("%s: tag %s Floating = %v", target, tag.Name, tag.Floating)
			}
		}
	}
}

func TestPlatformOverride(t *testing.T) {
	p := mustPlan(t, header+`bases: [apache]
versions:
  - {version: 6.0.3, php: "8.3", node: "22", platforms: [linux/amd64]}
  - {version: 5.5.8, php: "8.2", node: "20"}
tests:
  - {php: "8.4", node: "22"}`)
	got := map[string]string{}
	for _, target := range p.Targets {
		got[target.Name] = fmt.Sprint(target.Platforms)
	}
	// Test images are built for the file's platforms, whatever an entry's override.
	want := map[string]string{"6.0.3": "[linux/amd64]", "5.5.8": "[linux/amd64 linux/arm64]",
		"tests-php8.4": "[linux/amd64 linux/arm64]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("platforms = %v, want %v", got, want)
	}
}

func TestTagErrors(t *testing.T) {
	amd := []versions.Platform{{OS: "linux", Arch: "amd64"}}
	entry := func(v string) versions.Entry {
		return versions.Entry{Version: versions.MustParseVersion(v), PHP: "8.3", Node: "22", Platforms: amd, Bases: []versions.Base{versions.Apache}}
	}
	tests := []struct {
		name    string
		entries []versions.Entry
		want    string
	}{
		{
			// versions.Parse refuses two entries of one minor line; the plan still never
			// lets one tag point at two images.
			name:    "two targets claim one tag",
			entries: []versions.Entry{entry("6.0.4"), entry("6.0.3")},
			want:    `planning tags: tag "6.0" is claimed by both 6.0.4 apache and 6.0.3 apache; tag "6.0-apache" is claimed by both 6.0.4 apache and 6.0.3 apache`,
		},
		{
			name:    "a tag longer than the registry allows",
			entries: []versions.Entry{entry("6.1.0-" + strings.Repeat("x", 130))},
			want:    fmt.Sprintf(`planning tags: tag "6.1.0-%[1]s" of 6.1.0-%[1]s apache is not a valid registry tag; tag "6.1.0-%[1]s-apache" of 6.1.0-%[1]s apache is not a valid registry tag`, strings.Repeat("x", 130)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &versions.File{Repository: "docker.io/studip/studip", Source: "https://example.org/studip.git",
				Platforms: amd, Bases: []versions.Base{versions.Apache}, Entries: tt.entries}
			_, err := plan.New(f, plan.Options{})
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func Example() {
	f, _ := versions.Parse(strings.NewReader(`repository: docker.io/studip/studip
source: https://gitlab.studip.de/studip/studip.git
platforms: [linux/amd64, linux/arm64]
bases: [apache, fpm-alpine]
versions:
  - {version: 6.0.3, php: "8.3", node: "22"}
  - {version: 5.5.8, php: "8.2", node: "22", bases: [apache]}
tests:
  - {php: "8.1", node: "22"}
  - {php: "8.4", node: "22"}
`))
	p, _ := plan.New(f, plan.Options{})
	for _, t := range p.Targets {
		fmt.Printf("%-13s %-10s", t.Name, t.Base)
		for _, tag := range t.Tags {
			fmt.Print(" ", tag.Name)
		}
		fmt.Println()
	}
	// Output:
	// 6.0.3         apache     6.0.3 6.0 6 latest 6.0.3-apache 6.0-apache 6-apache apache
	// 6.0.3         fpm-alpine 6.0.3-fpm-alpine 6.0-fpm-alpine 6-fpm-alpine fpm-alpine
	// 5.5.8         apache     5.5.8 5.5 5 5.5.8-apache 5.5-apache 5-apache
	// tests-php8.4             tests-php8.4
	// tests-php8.1             tests-php8.1
}
