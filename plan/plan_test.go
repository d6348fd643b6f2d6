package plan_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

const fixture = header + `bases: [apache, fpm-alpine]
versions:
  - {version: 5.5.8, php: "8.2", node: "20"}
  - {version: 6.0.3, php: "8.3", node: "22"}
  - {version: 5.4.11, php: "7.4", node: "18", platforms: [linux/amd64]}
  - {nightly: main, php: "8.5", node: "24"}
  - {version: 6.1.0-beta.1, ref: 6.1, php: "8.3", node: "23", bases: [apache], assets: [npm, run, build:prod]}
tests:
  - {php: "8.3", node: "22"}
  - {php: "7.4", node: "20"}
  - {php: "8.5", node: "24"}
  - {php: "8.1", node: "22"}
`

func TestTargetInputs(t *testing.T) {
	f, err := versions.Parse(strings.NewReader(fixture))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 23, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	p, err := plan.New(f, plan.Options{Mirror: "mirror.example/hub", Created: created})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]plan.Target{}
	var order []string
	for _, target := range p.Targets {
		byName[target.String()] = target
		order = append(order, target.String())
	}
	wantOrder := []string{"nightly apache", "nightly fpm-alpine", "6.1.0-beta.1 apache", "6.0.3 apache", "6.0.3 fpm-alpine",
		"5.5.8 apache", "5.5.8 fpm-alpine", "5.4.11 apache", "5.4.11 fpm-alpine",
		"tests-php8.5", "tests-php8.3", "tests-php8.1", "tests-php7.4"}
	if !reflect.DeepEqual(order, wantOrder) {
		t.Errorf("order = %q\nwant %q", order, wantOrder)
	}

	fpm := byName["6.0.3 fpm-alpine"]
	wantSource := &plan.Source{URL: "https://gitlab.studip.de/studip/studip.git", Ref: "v6.0.3",
		NodeImage: "mirror.example/hub/node:22-bookworm-slim", ComposerImage: "mirror.example/hub/composer:2.8"}
	if !reflect.DeepEqual(fpm.Source, wantSource) {
		t.Errorf("source = %+v, want %+v", fpm.Source, wantSource)
	}
	wantRuntime := plan.Runtime{Dockerfile: "fpm-alpine/Dockerfile", BuildArgs: []plan.BuildArg{
		{Name: "PHP_IMAGE", Value: "mirror.example/hub/php"}, {Name: "PHP_VERSION", Value: "8.3"}},
		Bases: []plan.BaseImage{{Image: "mirror.example/hub/php:8.3-fpm-alpine", Arg: "PHP_DIGEST"}}}
	if !reflect.DeepEqual(fpm.Runtime, wantRuntime) {
		t.Errorf("runtime = %+v, want %+v", fpm.Runtime, wantRuntime)
	}
	wantLabels := []plan.Label{
		{Key: plan.LabelCreated, Value: "2026-11-23T11:00:00Z"},
		{Key: plan.LabelLicenses, Value: "GPL-2.0-or-later"},
		{Key: plan.LabelSource, Value: "https://gitlab.studip.de/studip/studip.git"},
		{Key: plan.LabelTitle, Value: "Stud.IP (fpm-alpine)"},
		{Key: plan.LabelVersion, Value: "6.0.3"},
	}
	if !reflect.DeepEqual(fpm.Labels, wantLabels) {
		t.Errorf("labels = %+v, want %+v", fpm.Labels, wantLabels)
	}
	if got := fpm.Ref(fpm.Tags[0]); got != "docker.io/studip/studip:6.0.3-fpm-alpine" {
		t.Errorf("Ref = %s", got)
	}

	// Versions that share a PHP share the runtime build; the apache and fpm ones differ.
	if !reflect.DeepEqual(byName["6.0.3 apache"].Runtime, byName["6.1.0-beta.1 apache"].Runtime) {
		t.Errorf("6.0.3 and 6.1.0-beta.1 apache should share a runtime")
	}
	if reflect.DeepEqual(byName["6.0.3 apache"].Runtime, fpm.Runtime) {
		t.Errorf("apache and fpm-alpine runtimes must differ")
	}

	// The override of versions.yaml goes with the source; without one, package.json decides.
	if got := byName["6.1.0-beta.1 apache"].Source.Assets; !reflect.DeepEqual(got, []string{"npm", "run", "build:prod"}) {
		t.Errorf("6.1.0-beta.1 assets = %q, want the entry's override", got)
	}
	if got := fpm.Source.Assets; got != nil {
		t.Errorf("6.0.3 assets = %q, want nil (from package.json)", got)
	}

	tests := byName["tests-php8.3"]
	if tests.Channel != plan.Tests || tests.Source != nil || tests.Minor != "" || tests.Base != "" {
		t.Errorf("test image: channel %s, source %v, minor %q, base %q", tests.Channel, tests.Source, tests.Minor, tests.Base)
	}
	if got := fmt.Sprint(tests.Tags); got != "[{tests-php8.3 true}]" {
		t.Errorf("test image tags = %s, want the floating tests-php8.3", got)
	}
	// The test image's PHP and Node are its own in tests:, whatever the entries use.
	wantTestsRuntime := plan.Runtime{Dockerfile: "tests/Dockerfile", BuildArgs: []plan.BuildArg{
		{Name: "COMPOSER_IMAGE", Value: "mirror.example/hub/composer:2.8"},
		{Name: "NODE_IMAGE", Value: "mirror.example/hub/node"},
		{Name: "NODE_VERSION", Value: "22"},
		{Name: "PHP_IMAGE", Value: "mirror.example/hub/php"},
		{Name: "PHP_VERSION", Value: "8.3"},
	}, Bases: []plan.BaseImage{
		{Image: "mirror.example/hub/composer:2.8", Arg: "COMPOSER_DIGEST"},
		{Image: "mirror.example/hub/node:22-bookworm-slim", Arg: "NODE_DIGEST"},
		{Image: "mirror.example/hub/php:8.3-cli", Arg: "PHP_DIGEST"},
	}}
	if !reflect.DeepEqual(tests.Runtime, wantTestsRuntime) {
		t.Errorf("test runtime = %+v\nwant %+v", tests.Runtime, wantTestsRuntime)
	}
	if got := fmt.Sprint(byName["tests-php7.4"].Platforms); got != "[linux/amd64 linux/arm64]" {
		t.Errorf("test images are built for the file's platforms, got %s", got)
	}
	if got := byName["6.1.0-beta.1 apache"]; got.Channel != plan.Prerelease || got.Minor != "6.1" || got.Source.Ref != "6.1" {
		t.Errorf("pre-release: channel %s, minor %s, ref %s", got.Channel, got.Minor, got.Source.Ref)
	}
	if got := byName["nightly apache"]; got.Channel != plan.Nightly || got.Minor != "" || got.Source.Ref != "main" {
		t.Errorf("nightly: channel %s, minor %q, ref %s", got.Channel, got.Minor, got.Source.Ref)
	}
}

func TestImagesWithoutMirror(t *testing.T) {
	var i plan.Images
	got := []string{i.Node("22"), i.Composer(), i.MariaDB()}
	want := []string{"node:22-bookworm-slim", "composer:2.8", "mariadb:11.4"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("images = %q, want %q", got, want)
	}
}

func TestSelect(t *testing.T) {
	p := mustPlan(t, fixture)
	amd := versions.Platform{OS: "linux", Arch: "amd64"}
	arm := versions.Platform{OS: "linux", Arch: "arm64"}
	tests := []struct {
		name    string
		filter  plan.Filter
		want    string // "target platforms" lines
		wantErr string
	}{
		{name: "no filter keeps all", filter: plan.Filter{}, want: strings.Join(allTargets(p), "\n")},
		{name: "a minor line", filter: plan.Filter{Versions: []string{"6.0"}}, want: "6.0.3 apache [linux/amd64 linux/arm64]\n6.0.3 fpm-alpine [linux/amd64 linux/arm64]"},
		{name: "a full version and a base", filter: plan.Filter{Versions: []string{"5.5.8"}, Bases: []versions.Base{versions.FPMAlpine}}, want: "5.5.8 fpm-alpine [linux/amd64 linux/arm64]"},
		{name: "a pre-release by its minor line", filter: plan.Filter{Versions: []string{"6.1"}}, want: "6.1.0-beta.1 apache [linux/amd64 linux/arm64]"},
		{name: "nightly", filter: plan.Filter{Versions: []string{"nightly"}, Bases: []versions.Base{versions.Apache}}, want: "nightly apache [linux/amd64 linux/arm64]"},
		{name: "every test image", filter: plan.Filter{Versions: []string{"tests"}}, want: "tests-php8.5 [linux/amd64 linux/arm64]\ntests-php8.3 [linux/amd64 linux/arm64]\ntests-php8.1 [linux/amd64 linux/arm64]\ntests-php7.4 [linux/amd64 linux/arm64]"},
		{name: "one test image", filter: plan.Filter{Versions: []string{"tests-php8.1"}}, want: "tests-php8.1 [linux/amd64 linux/arm64]"},
		{name: "a base selects no test image", filter: plan.Filter{Bases: []versions.Base{versions.Apache}}, want: "nightly apache [linux/amd64 linux/arm64]\n6.1.0-beta.1 apache [linux/amd64 linux/arm64]\n6.0.3 apache [linux/amd64 linux/arm64]\n5.5.8 apache [linux/amd64 linux/arm64]\n5.4.11 apache [linux/amd64]"},
		{name: "a base and the test images", filter: plan.Filter{Versions: []string{"tests"}, Bases: []versions.Base{versions.Apache}}, wantErr: "the filters together match no target"},
		{name: "a platform narrows every target", filter: plan.Filter{Versions: []string{"5.4", "6.0"}, Platforms: []versions.Platform{arm}}, want: "6.0.3 apache [linux/arm64]\n6.0.3 fpm-alpine [linux/arm64]"},
		{name: "repeated values are a union", filter: plan.Filter{Versions: []string{"5.4", "nightly"}, Bases: []versions.Base{versions.Apache}, Platforms: []versions.Platform{amd, arm}}, want: "nightly apache [linux/amd64 linux/arm64]\n5.4.11 apache [linux/amd64]"},
		{name: "an unknown version", filter: plan.Filter{Versions: []string{"5.3", "6.0"}}, wantErr: "version 5.3 matches no target (known: nightly, 6.1.0-beta.1, 6.0, 5.5, 5.4, tests, tests-php8.5, tests-php8.3, tests-php8.1, tests-php7.4)"},
		{name: "a full version that is not the entry's", filter: plan.Filter{Versions: []string{"6.0.2"}}, wantErr: "version 6.0.2 matches no target (known: nightly, 6.1.0-beta.1, 6.0, 5.5, 5.4, tests, tests-php8.5, tests-php8.3, tests-php8.1, tests-php7.4)"},
		{name: "a base without targets", filter: plan.Filter{Versions: []string{"6.1"}, Bases: []versions.Base{versions.FPMAlpine}}, wantErr: "the filters together match no target"},
		{name: "a platform no target has", filter: plan.Filter{Platforms: []versions.Platform{{OS: "linux", Arch: "s390x"}}}, wantErr: "platform linux/s390x matches no target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Select(tt.filter)
			if tt.wantErr != "" {
				var ferr *plan.FilterError
				if !errors.As(err, &ferr) || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant FilterError %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "--") {
					t.Errorf("the library's error names a flag: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(allTargets(got), "\n"); g != tt.want {
				t.Errorf("selected:\n%s\nwant:\n%s", g, tt.want)
			}
		})
	}
	// Selecting never changes tags: 5.5 alone still does not take latest.
	sel, _ := p.Select(plan.Filter{Versions: []string{"5.5"}, Bases: []versions.Base{versions.Apache}})
	if got := sel.Targets[0].Tags; len(got) != 6 || got[2].Name != "5" {
		t.Errorf("5.5.8 apache tags after Select = %v", got)
	}
}

func allTargets(p *plan.Plan) []string {
	var out []string
	for _, t := range p.Targets {
		out = append(out, fmt.Sprintf("%s %v", t, t.Platforms))
	}
	return out
}

// The pure packages must never pull in Dagger: `ci plan` and `ci check` run where no engine
// (and no SDK download) is possible.
func TestPurePackagesImportNoDagger(t *testing.T) {
	testutil.ImportsNoDagger(t, "../plan", "../versions")
}

func TestAssetCommand(t *testing.T) {
	tests := []struct {
		name    string
		scripts map[string]string
		want    string
		wantErr string
	}{
		{name: "6.0-like tree: webpack", scripts: map[string]string{
			"webpack-dev": "webpack --config webpack.dev.js --mode development", "webpack-prod": "webpack --config webpack.prod.js --mode production", "test": "jest tests/jest/"},
			want: "npm run webpack-prod"},
		{name: "main-like tree: rspack", scripts: map[string]string{"build": "rspack build", "watch": "rspack --watch", "test": "jest tests/jest/", "lint-js": "eslint"},
			want: "npm run build -- --mode=production"},
		{name: "webpack-prod wins over build", scripts: map[string]string{"build": "make all", "webpack-prod": "webpack"}, want: "npm run webpack-prod"},
		{name: "neither", scripts: map[string]string{"watch": "rspack --watch", "test": "jest"},
			wantErr: "choosing the asset command: package.json has neither a webpack-prod nor a build script (its scripts: test, watch); set the command with assets: [npm, run, ...] in the entry of versions.yaml"},
		{name: "no scripts", scripts: nil,
			wantErr: "package.json has neither a webpack-prod nor a build script (its scripts: none)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := plan.AssetCommand(tt.scripts)
			if tt.wantErr != "" {
				if _, ok := errors.AsType[*plan.AssetError](err); !ok || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want an AssetError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || strings.Join(got, " ") != tt.want {
				t.Errorf("AssetCommand = %q, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestPackageScripts(t *testing.T) {
	got, err := plan.PackageScripts([]byte(`{"name": "studip", "engines": {"node": ">=20"}, "scripts": {"build": "rspack build"}}`))
	if err != nil || !reflect.DeepEqual(got, map[string]string{"build": "rspack build"}) {
		t.Errorf("PackageScripts = %v, %v", got, err)
	}
	if _, err := plan.PackageScripts([]byte(`{"scripts": [`)); err == nil || !strings.HasPrefix(err.Error(), "reading the scripts of package.json: ") {
		t.Errorf("broken package.json: err = %v", err)
	}
}

// A pin replaces nothing but the commit to build: the version keeps its ref (for messages),
// the other versions stay to be resolved, and a pin that names no version or no full commit
// ID is refused, every problem at once.
func TestPins(t *testing.T) {
	f, err := versions.Parse(strings.NewReader(fixture))
	if err != nil {
		t.Fatal(err)
	}
	commit := strings.Repeat("0123456789abcdef", 3)[:40]
	p, err := plan.New(f, plan.Options{Commits: map[string]string{"nightly": commit}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range p.Targets {
		switch {
		case tg.Source == nil:
		case tg.Name == "nightly" && (tg.Source.Commit != commit || tg.Source.Ref != "main"):
			t.Errorf("%s: source %+v, want main pinned to %s", tg, *tg.Source, commit)
		case tg.Name != "nightly" && tg.Source.Commit != "":
			t.Errorf("%s: pinned to %s, want its ref resolved by the pipeline", tg, tg.Source.Commit)
		}
	}

	_, err = plan.New(f, plan.Options{Commits: map[string]string{
		"nightly":      "main",
		"6.0.3":        strings.ToUpper(commit),
		"6.0":          commit,
		"tests-php8.3": commit,
		"5.5.8":        commit[:39],
	}})
	pinErr, ok := errors.AsType[*plan.PinError](err)
	if !ok {
		t.Fatalf("bad pins: %v, want a *plan.PinError", err)
	}
	want := []string{
		`5.5.8: "` + commit[:39] + `" is no full commit ID`,
		`6.0 is no Stud.IP version of the file`,
		`6.0.3: "` + strings.ToUpper(commit) + `" is no full commit ID`,
		`nightly: "main" is no full commit ID`,
		`tests-php8.3 is no Stud.IP version of the file`,
	}
	if len(pinErr.Problems) != len(want) {
		t.Fatalf("problems %q, want %d", pinErr.Problems, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(pinErr.Problems[i], w) {
			t.Errorf("problem %d: %q, want %q", i, pinErr.Problems[i], w)
		}
	}
}
