package gitlabci_test

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/mod/modfile"
	"gopkg.in/yaml.v3"

	"gitlab.studip.de/studip/docker/gitlabci"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

const fixture = "testdata/versions.yaml"

// schemaPath is GitLab's CI schema (testdata/schema/README.md says where it came from).
const schemaPath = "testdata/schema/gitlab-ci.json"

func TestChildPipeline(t *testing.T) {
	tests := []struct {
		name    string
		command gitlabci.Command
		filter  plan.Filter
		args    []string
		golden  string
	}{
		{name: "publish everything", command: gitlabci.Publish,
			args: []string{"--file", fixture, "--command", "publish"}, golden: "child-publish.yml"},
		{name: "test on amd64", command: gitlabci.Test, filter: plan.Filter{Platforms: []versions.Platform{amd64}},
			args: []string{"--file", fixture, "--platform", "linux/amd64"}, golden: "child-test-amd64.yml"},
		{name: "publish one release", command: gitlabci.Publish, filter: plan.Filter{Versions: []string{"6.0.3"}},
			args: []string{"--file", fixture, "--command", "publish", "--version", "6.0.3"}, golden: "child-release.yml"},
	}
	full := loadPlan(t)
	commits := pins(full)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := full.Select(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			opts := gitlabci.Options{Command: tt.command, File: fixture, Args: tt.args, RunnerTags: runnerTags}
			if tt.command == gitlabci.Publish {
				opts.Commits = commits
			}
			if err := gitlabci.Write(&out, p, opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, out.Bytes())
			doc := decodeYAML(t, out.Bytes())
			validateSchema(t, doc)
			if tt.command == gitlabci.Publish {
				checkPublishJobs(t, doc, full, p, runnerTags, commits)
			} else {
				checkChildJobs(t, doc, tt.command, full, p)
			}
		})
	}
}

// checkChildJobs parses the child pipeline back: it must hold one job per selected target,
// all in the command's one stage, with no rules or needs (every job runs, none waits), and
// each job's command must select exactly its target, on the selected platforms, when run
// against the whole plan.
func checkChildJobs(t *testing.T, doc map[string]any, c gitlabci.Command, full, selected *plan.Plan) {
	t.Helper()
	if got := doc["stages"]; !slices.Equal(toStrings(got), []string{string(c)}) {
		t.Errorf("stages = %v, want [%s]", got, c)
	}
	want := map[string]plan.Target{} // job name -> target
	for _, tg := range selected.Targets {
		want[string(c)+" "+tg.String()] = tg
	}
	jobs := 0
	for name, v := range doc {
		if name == "stages" || name == "variables" || name == "default" {
			continue
		}
		jobs++
		tg, ok := want[name]
		if !ok {
			t.Errorf("job %q builds no selected target", name)
			continue
		}
		job := v.(map[string]any)
		for _, key := range []string{"rules", "needs", "only", "except", "when"} {
			if _, ok := job[key]; ok {
				t.Errorf("job %q has %s; every job of the child pipeline runs unconditionally", name, key)
			}
		}
		if tags := toStrings(job["tags"]); len(tg.Platforms) == 1 && !slices.Equal(tags, runnerTags[tg.Platforms[0]]) {
			t.Errorf("job %q: runner tags %q, want those of %s", name, tags, tg.Platforms[0])
		}
		if job["stage"] != string(c) {
			t.Errorf("job %q: stage %v, want %s", name, job["stage"], c)
		}
		script := toStrings(job["script"])
		if len(script) != 1 {
			t.Errorf("job %q: script %q, want one command", name, script)
			continue
		}
		got, err := full.Select(parseJobCommand(t, script[0], c))
		switch {
		case err != nil:
			t.Errorf("job %q: its command selects nothing: %v", name, err)
		case len(got.Targets) != 1 || got.Targets[0].String() != tg.String():
			t.Errorf("job %q: its command selects %v, want %s", name, got.Targets, tg)
		case !slices.Equal(got.Targets[0].Platforms, tg.Platforms):
			t.Errorf("job %q builds %v, want the selected %v", name, got.Targets[0].Platforms, tg.Platforms)
		}
	}
	if jobs != len(want) {
		t.Errorf("%d jobs, want one per selected target (%d)", jobs, len(want))
	}
}

// parseJobCommand reads a job's `dagger run go run ./ci <command> --flag value...` line back
// into the filter it stands for.
func parseJobCommand(t *testing.T, line string, c gitlabci.Command) plan.Filter {
	t.Helper()
	prefix := "dagger run go run ./ci " + string(c) + " "
	rest, ok := strings.CutPrefix(line, prefix)
	if !ok {
		t.Fatalf("job command %q does not start with %q", line, prefix)
	}
	var f plan.Filter
	args := strings.Fields(rest)
	if len(args)%2 != 0 {
		t.Fatalf("job command %q: flags without values", line)
	}
	for i := 0; i < len(args); i += 2 {
		switch flag, value := args[i], args[i+1]; flag {
		case "--file":
			if value != fixture {
				t.Errorf("job command %q reads %s, want %s", line, value, fixture)
			}
		case "--version":
			f.Versions = append(f.Versions, value)
		case "--base":
			b, err := versions.ParseBase(value)
			if err != nil {
				t.Fatalf("job command %q: %v", line, err)
			}
			f.Bases = append(f.Bases, b)
		case "--platform":
			p, err := versions.ParsePlatform(value)
			if err != nil {
				t.Fatalf("job command %q: %v", line, err)
			}
			f.Platforms = append(f.Platforms, p)
		default:
			t.Fatalf("job command %q: unexpected flag %s", line, flag)
		}
	}
	return f
}

func TestParseCommand(t *testing.T) {
	for _, s := range []string{"test", "publish"} {
		if c, err := gitlabci.ParseCommand(s); err != nil || string(c) != s {
			t.Errorf("ParseCommand(%q) = %q, %v", s, c, err)
		}
	}
	if _, err := gitlabci.ParseCommand("build"); err == nil || !strings.Contains(err.Error(), "known: test, publish") {
		t.Errorf("ParseCommand(build) = %v, want an error naming the known commands", err)
	}
}

// The Dagger CLI that a child job installs must speak the SDK's protocol, and the job image
// must have the Go that go.mod asks for.
func TestPinsMatchGoMod(t *testing.T) {
	data, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(mod.Require, func(r *modfile.Require) bool { return r.Mod.Path == "dagger.io/dagger" })
	if i < 0 {
		t.Fatal("go.mod does not require dagger.io/dagger")
	}
	if want := strings.TrimPrefix(mod.Require[i].Mod.Version, "v"); gitlabci.DaggerVersion != want {
		t.Errorf("DaggerVersion = %s, but go.mod requires dagger.io/dagger v%s", gitlabci.DaggerVersion, want)
	}
	goMinor := strings.Join(strings.Split(mod.Go.Version, ".")[:2], ".")
	if !strings.HasPrefix(gitlabci.GoImage, "golang:"+goMinor+"-") {
		t.Errorf("GoImage = %s, want golang:%s-... for go.mod's go %s", gitlabci.GoImage, goMinor, mod.Go.Version)
	}
}

// gitlabci is as pure as plan: `ci gitlab` runs where no engine is.
func TestImportsNoDagger(t *testing.T) {
	testutil.ImportsNoDagger(t, ".")
}

// pins are fake commits of the Stud.IP versions of p, as `ci gitlab` resolves them for a
// publish: one per version, none for a test image.
func pins(p *plan.Plan) map[string]string {
	out := map[string]string{}
	for _, tg := range p.Targets {
		if tg.Source != nil {
			out[tg.Name] = fmt.Sprintf("%x", sha1.Sum([]byte(tg.Name)))
		}
	}
	return out
}

func loadPlan(t *testing.T) *plan.Plan {
	t.Helper()
	f, err := versions.Load(fixture)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.New(f, plan.Options{Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// decodeYAML decodes a pipeline the way a JSON schema validator wants it: mappings as
// map[string]any, anchors and merge keys resolved.
func decodeYAML(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("the pipeline is not valid YAML: %v", err)
	}
	return doc
}

// validateSchema checks doc against GitLab's CI schema.
func validateSchema(t *testing.T, doc map[string]any) {
	t.Helper()
	if err := ciSchema(t).Validate(doc); err != nil {
		t.Errorf("the pipeline does not match GitLab's CI schema: %v", err)
	}
}

// ciSchema compiles GitLab's CI schema.
func ciSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	r, err := os.Open(schemaPath)
	if err != nil {
		t.Fatalf("GitLab's CI schema: %v", err)
	}
	defer r.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	const url = "https://gitlab.com/.gitlab-ci.yml"
	if err := c.AddResource(url, schemaDoc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// The schema checks must be able to fail: GitLab rejects unknown job keys and a trigger
// strategy other than depend or mirror.
func TestSchemaRejectsMistakes(t *testing.T) {
	tests := []struct{ name, yaml string }{
		{"unknown job key", "job:\n  script: [x]\n  scripts: [y]\n"},
		{"wrong trigger strategy", "job:\n  trigger:\n    include: [{artifact: a.yml, job: gen}]\n    strategy: wait\n"},
	}
	schema := ciSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := schema.Validate(decodeYAML(t, []byte(tt.yaml))); err == nil {
				t.Errorf("the schema accepts:\n%s", tt.yaml)
			}
		})
	}
}

func toStrings(v any) []string {
	items, _ := v.([]any)
	out := make([]string, len(items))
	for i, item := range items {
		out[i], _ = item.(string)
	}
	return out
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name), got)
}
