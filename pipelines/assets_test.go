package pipelines_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/pipelines"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// The package.json of Stud.IP's two asset layouts, cut down to what the choice reads and a
// little context: v6.0.2's (webpack, `make webpack-prod`) and main's of 2026-06 (rspack,
// `make assets-prod`), from Stud.IP's repository.
const (
	webpackPackageJSON = `{
  "name": "studip",
  "engines": {"node": ">=18 <23"},
  "scripts": {
    "webpack-dev": "webpack --config webpack.dev.js --mode development",
    "webpack-prod": "webpack --config webpack.prod.js --mode production",
    "webpack-watch": "webpack --config webpack.dev.js --mode development --watch",
    "test": "jest tests/jest/"
  }
}`
	rspackPackageJSON = `{
  "name": "studip",
  "engines": {"node": ">=20"},
  "scripts": {
    "build": "rspack build",
    "watch": "rspack --watch",
    "test": "jest tests/jest/",
    "lint-css": "stylelint \"resources/assets/**/*.{css,scss,vue}\"",
    "lint-js": "eslint --config eslint.config.mjs"
  }
}`
	// A layout this project does not know yet: neither script.
	unknownPackageJSON = `{"scripts": {"watch": "rspack --watch", "test": "jest tests/jest/"}}`
)

// runTargets runs the targets of the versions file src that filter selects through the
// pipeline on a fake engine that prepare has set up (the files of the trees), applying
// steps, and returns every target's result, failed or not.
func runTargets(t *testing.T, src string, filter plan.Filter, opts pipelines.Options, steps pipelines.Steps,
	prepare func(*daggertest.Engine, *versions.File)) (*daggertest.Engine, []pipelines.Result) {
	t.Helper()
	engine := daggertest.New("linux/amd64")
	prepare(engine, parse(t, src))
	return engine, execute(t, engine, planOf(t, src, filter), opts, steps)
}

// npmRuns are the npm commands of the asset stages behind the images built, each stage
// once, in the order it runs them, one line per command.
func npmRuns(engine *daggertest.Engine) []string {
	var out []string
	seen := map[*daggertest.Node]bool{}
	for _, ev := range engine.Evaluated("sync") {
		for _, n := range daggertest.Reach(ev.Node) {
			if n.Field != "directory" || n.Str("path") != "/src/public/assets" || seen[n] {
				continue
			}
			seen[n] = true
			for _, exec := range n.Steps("withExec") {
				if args := exec.Strings("args"); args[0] == "npm" {
					out = append(out, strings.Join(args, " "))
				}
			}
		}
	}
	return out
}

// packageJSONReads counts how often the pipeline read a package.json.
func packageJSONReads(engine *daggertest.Engine) int {
	reads := 0
	for _, ev := range engine.Evals() {
		if ev.Field == "contents" && ev.Node.Str("path") == "package.json" {
			reads++
		}
	}
	return reads
}

// The assets stage builds with the command of the tree's layout, unless versions.yaml sets
// one; a tree of an unknown layout fails its target, saying what it found.
func TestAssetCommandFromTheTree(t *testing.T) {
	const npmCI = "npm ci --no-audit --no-fund" // from the lock file, whatever the layout
	tests := []struct {
		name        string
		entry       string            // the versions.yaml entry
		files       map[string]string // package.json by git ref; none for a tree without one
		wantRuns    []string
		wantReads   int
		wantErr     string
		wantErrName string // the target the error names
	}{
		{name: "main-like tree: build in production mode",
			entry:    `{nightly: main, php: "8.4", node: "22"}`,
			files:    map[string]string{"main": rspackPackageJSON, "v6.0.3": webpackPackageJSON},
			wantRuns: []string{npmCI, "npm run build -- --mode=production"}, wantReads: 1},
		{name: "6.0-like tree: webpack-prod",
			entry:    `{version: 6.0.3, php: "8.3", node: "22"}`,
			files:    map[string]string{"main": rspackPackageJSON, "v6.0.3": webpackPackageJSON},
			wantRuns: []string{npmCI, "npm run webpack-prod"}, wantReads: 1},
		{name: "a tree with neither script fails its target",
			entry:   `{nightly: main, php: "8.4", node: "22"}`,
			files:   map[string]string{"main": unknownPackageJSON},
			wantErr: "building nightly apache for linux/amd64: preparing the source of nightly apache: choosing the asset command: package.json has neither a webpack-prod nor a build script (its scripts: test, watch); set the command with assets: [npm, run, ...] in the entry of versions.yaml"},
		{name: "a tree without package.json fails its target",
			entry:   `{version: 6.0.3, php: "8.3", node: "22"}`,
			wantErr: "preparing the source of 6.0.3 apache: reading package.json to choose the asset command: "},
		{name: "the versions.yaml command wins",
			entry:    `{nightly: main, php: "8.4", node: "22", assets: [npm, run, build:assets, --, --mode=production]}`,
			files:    map[string]string{"main": rspackPackageJSON},
			wantRuns: []string{npmCI, "npm run build:assets -- --mode=production"}},
		{name: "the versions.yaml command needs no package.json",
			entry:    `{version: 6.0.3, php: "8.3", node: "22", assets: [npm, run, webpack-prod]}`,
			wantRuns: []string{npmCI, "npm run webpack-prod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(oneVersion, `  - version: 6.0.3
    php: "8.3"
    node: "22"`, "  - "+tt.entry, 1)
			engine, results := runTargets(t, src, plan.Filter{}, pipelines.Options{}, pipelines.Steps{}, func(e *daggertest.Engine, f *versions.File) {
				for ref, content := range tt.files {
					e.GitFile(f.Source, ref, "package.json", content)
				}
			})
			if len(results) != 1 {
				t.Fatalf("%d results, want the one target's", len(results))
			}
			if err := results[0].Err; tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v\nwant it to contain %q", err, tt.wantErr)
				}
				if runs := npmRuns(engine); len(runs) != 0 {
					t.Errorf("a failed choice still built assets: %q", runs)
				}
				return
			} else if err != nil {
				t.Fatal(err)
			}
			if got := npmRuns(engine); !slices.Equal(got, tt.wantRuns) {
				t.Errorf("npm runs %q, want %q", got, tt.wantRuns)
			}
			if got := packageJSONReads(engine); got != tt.wantReads {
				t.Errorf("package.json read %d times, want %d", got, tt.wantReads)
			}
		})
	}
}

// A maintainer's checkout chooses by its own package.json, as a git tree does.
func TestAssetCommandOfALocalCheckout(t *testing.T) {
	checkout := t.TempDir()
	engine, results := runTargets(t, oneVersion, plan.Filter{}, pipelines.Options{Source: checkout}, pipelines.Steps{},
		func(e *daggertest.Engine, f *versions.File) {
			e.GitFile(f.Source, "", "package.json", webpackPackageJSON) // what 6.0.3's tag would say
			e.HostFile(checkout, "package.json", rspackPackageJSON)
		})
	if err := results[0].Err; err != nil {
		t.Fatal(err)
	}
	if got, want := npmRuns(engine), []string{"npm ci --no-audit --no-fund", "npm run build -- --mode=production"}; !slices.Equal(got, want) {
		t.Errorf("npm runs %q, want %q", got, want)
	}
}

// Each version builds with its own tree's command, and reads its package.json once however
// many bases and platforms it is built for.
func TestAssetCommandPerVersion(t *testing.T) {
	src := strings.Replace(oneVersion, "platforms: [linux/amd64]", "platforms: [linux/amd64, linux/arm64]", 1)
	src = strings.Replace(src, "bases: [apache]", "bases: [apache, fpm-alpine]", 1) + `  - nightly: main
    php: "8.4"
    node: "22"
`
	engine, results := runTargets(t, src, plan.Filter{}, pipelines.Options{}, pipelines.Steps{}, func(e *daggertest.Engine, f *versions.File) {
		e.GitFile(f.Source, "v6.0.3", "package.json", webpackPackageJSON)
		e.GitFile(f.Source, "main", "package.json", rspackPackageJSON)
	})
	for _, r := range results {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if got := packageJSONReads(engine); got != 2 {
		t.Errorf("package.json read %d times, want once per version (2)", got)
	}
	runs := map[string]int{}
	for _, n := range npmRuns(engine) {
		runs[n]++
	}
	// One asset stage per version, shared by its 2 bases x 2 platforms.
	want := map[string]int{"npm ci --no-audit --no-fund": 2, "npm run webpack-prod": 1, "npm run build -- --mode=production": 1}
	if !maps.Equal(runs, want) {
		t.Errorf("npm runs %v, want %v", runs, want)
	}
}
