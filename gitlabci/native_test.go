package gitlabci_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/gitlabci"
	"gitlab.studip.de/studip/docker/internal/testutil"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

var (
	amd64 = versions.Platform{OS: "linux", Arch: "amd64"}
	arm64 = versions.Platform{OS: "linux", Arch: "arm64"}
	// runnerTags are what STUDIP_RUNNER_TAGS_AMD64 and _ARM64 say in the tests.
	runnerTags = map[versions.Platform][]string{amd64: {"saas-linux-medium-amd64"}, arm64: {"arm64", "docker"}}
)

func TestRunnerTagsVariable(t *testing.T) {
	for pl, want := range map[versions.Platform]string{
		amd64: "STUDIP_RUNNER_TAGS_AMD64",
		arm64: "STUDIP_RUNNER_TAGS_ARM64",
		{OS: "linux", Arch: "arm", Variant: "v7"}: "STUDIP_RUNNER_TAGS_ARM_V7",
	} {
		if got := gitlabci.RunnerTagsVariable(pl); got != want {
			t.Errorf("RunnerTagsVariable(%s) = %s, want %s", pl, got, want)
		}
	}
}

// jobCommand is a publish job's command line read back: its filter and the value of
// --stage or --from-stage.
type jobCommand struct {
	filter                plan.Filter
	stageTo, assembleFrom string
	commits               map[string]string // --ref-commit
}

func parsePublishCommand(t *testing.T, line string) jobCommand {
	t.Helper()
	const prefix = "dagger run go run ./ci publish "
	rest, ok := strings.CutPrefix(line, prefix)
	if !ok {
		t.Fatalf("job command %q does not start with %q", line, prefix)
	}
	c := jobCommand{commits: map[string]string{}}
	args := strings.Fields(rest)
	for i := 0; i+1 < len(args); i += 2 {
		switch flag, value := args[i], args[i+1]; flag {
		case "--file":
			if value != fixture {
				t.Errorf("job command %q reads %s, want %s", line, value, fixture)
			}
		case "--version":
			c.filter.Versions = append(c.filter.Versions, value)
		case "--platform":
			pl, err := versions.ParsePlatform(value)
			if err != nil {
				t.Fatal(err)
			}
			c.filter.Platforms = append(c.filter.Platforms, pl)
		case "--stage":
			c.stageTo = value
		case "--from-stage":
			c.assembleFrom = value
		case "--ref-commit":
			name, commit, _ := strings.Cut(value, "=")
			c.commits[name] = commit
		default:
			t.Fatalf("job command %q: unexpected flag %s", line, flag)
		}
	}
	if len(args)%2 != 0 {
		t.Fatalf("job command %q: a flag without value", line)
	}
	return c
}

// checkPublishJobs parses a publish child pipeline back: per version of the selection, one
// platform job per platform, on that platform's runners, whose command stages exactly that
// version's targets on that platform; and one assemble job that needs exactly those and
// publishes every platform of the version's targets from the same staging repository. Every
// job of a version builds the commit commits pins it to, if any.
func checkPublishJobs(t *testing.T, doc map[string]any, full, selected *plan.Plan, tags map[versions.Platform][]string, commits map[string]string) {
	t.Helper()
	if got := toStrings(doc["stages"]); !slices.Equal(got, []string{gitlabci.StageStage, gitlabci.PublishStage}) {
		t.Errorf("stages = %q, want stage then publish", got)
	}
	if vars := doc["variables"].(map[string]any); vars[gitlabci.StagingVariable] != "$CI_REGISTRY_IMAGE/staging" {
		t.Errorf("%s defaults to %v, want the project's registry", gitlabci.StagingVariable, vars[gitlabci.StagingVariable])
	}
	const staging = `"$` + gitlabci.StagingVariable + `"`
	byName := map[string][]plan.Target{}
	for _, tg := range selected.Targets {
		byName[tg.Name] = append(byName[tg.Name], tg)
	}
	want := map[string]bool{}
	for name, targets := range byName {
		var stageJobs []string
		for _, tg := range targets {
			for _, pl := range tg.Platforms {
				job := gitlabci.StageStage + " " + name + " " + pl.String()
				if !slices.Contains(stageJobs, job) {
					stageJobs = append(stageJobs, job)
				}
			}
		}
		for _, jobName := range stageJobs {
			want[jobName] = true
			job, ok := doc[jobName].(map[string]any)
			if !ok {
				t.Errorf("no job %q", jobName)
				continue
			}
			c := parsePublishCommand(t, toStrings(job["script"])[0])
			checkPin(t, jobName, c, name, commits)
			if c.stageTo != staging || len(c.filter.Platforms) != 1 {
				t.Errorf("%s: stages to %q on %v, want one platform to %s", jobName, c.stageTo, c.filter.Platforms, staging)
				continue
			}
			pl := c.filter.Platforms[0]
			if got := toStrings(job["tags"]); !slices.Equal(got, tags[pl]) && (len(got) > 0 || len(tags[pl]) > 0) {
				t.Errorf("%s: runner tags %q, want %q", jobName, got, tags[pl])
			}
			checkSelects(t, jobName, full, c.filter, targets, pl)
		}
		assemble := gitlabci.PublishStage + " " + name
		want[assemble] = true
		job, ok := doc[assemble].(map[string]any)
		if !ok {
			t.Errorf("no job %q", assemble)
			continue
		}
		if got := toStrings(job["needs"]); !slices.Equal(got, stageJobs) {
			t.Errorf("%s needs %q, want its platform jobs %q", assemble, got, stageJobs)
		}
		if _, ok := job["tags"]; ok {
			t.Errorf("%s has runner tags; it builds nothing", assemble)
		}
		c := parsePublishCommand(t, toStrings(job["script"])[0])
		checkPin(t, assemble, c, name, commits)
		if c.assembleFrom != staging || len(c.filter.Platforms) != 0 {
			t.Errorf("%s: assembles from %q on %v, want every platform from %s", assemble, c.assembleFrom, c.filter.Platforms, staging)
		}
		checkSelects(t, assemble, full, c.filter, targets, versions.Platform{})
	}
	got := map[string]bool{}
	for name := range doc {
		if name != "stages" && name != "variables" && name != "default" {
			got[name] = true
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("jobs %v\nwant %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

// checkPin asserts that job c pins version name to its commit in commits, and nothing else.
func checkPin(t *testing.T, job string, c jobCommand, name string, commits map[string]string) {
	t.Helper()
	want := map[string]string{}
	if commit, ok := commits[name]; ok {
		want[name] = commit
	}
	if !maps.Equal(c.commits, want) {
		t.Errorf("%s: pins %v, want %v", job, c.commits, want)
	}
}

// checkSelects asserts that filter selects from full exactly targets, narrowed to platform
// pl when it is set.
func checkSelects(t *testing.T, job string, full *plan.Plan, filter plan.Filter, targets []plan.Target, pl versions.Platform) {
	t.Helper()
	got, err := full.Select(filter)
	if err != nil {
		t.Errorf("%s: its command selects nothing: %v", job, err)
		return
	}
	var gotNames, wantNames []string
	for _, tg := range got.Targets {
		gotNames = append(gotNames, tg.String()+" "+fmtPlatforms(tg.Platforms))
	}
	for _, tg := range targets {
		pls := tg.Platforms
		if pl != (versions.Platform{}) {
			if !slices.Contains(pls, pl) {
				continue
			}
			pls = []versions.Platform{pl}
		}
		wantNames = append(wantNames, tg.String()+" "+fmtPlatforms(pls))
	}
	if !slices.Equal(gotNames, wantNames) {
		t.Errorf("%s selects %q, want %q", job, gotNames, wantNames)
	}
}

func fmtPlatforms(pls []versions.Platform) string {
	var out []string
	for _, pl := range pls {
		out = append(out, pl.String())
	}
	return strings.Join(out, ",")
}

// The child pipelines that the parent's generate jobs write for the shipped versions.yaml
// are what GitLab would run: gitlab-ci-local accepts each and lists, for a publish, the
// platform jobs of every version with the runner tags and the assemble jobs needing them,
// and for a merge request's test, one job per target on the amd64 runners.
func TestChildPipelinesInGitLab(t *testing.T) {
	bin := testutil.LookTool(t, "gitlab-ci-local")
	f, err := versions.Load("../versions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	full, err := plan.New(f, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	release := ""
	for _, tg := range full.Targets {
		if tg.Channel == plan.Release && release == "" {
			release = tg.Name
		}
	}
	tests := []struct {
		name    string
		command gitlabci.Command
		filter  plan.Filter
	}{
		{"schedule", gitlabci.Publish, plan.Filter{}},
		{"nightly", gitlabci.Publish, plan.Filter{Versions: []string{"nightly"}}},
		{"release", gitlabci.Publish, plan.Filter{Versions: []string{release}}},
		{"merge request", gitlabci.Test, plan.Filter{Platforms: []versions.Platform{amd64}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := full.Select(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var child bytes.Buffer
			opts := gitlabci.Options{Command: tt.command, File: "versions.yaml", RunnerTags: runnerTags}
			if tt.command == gitlabci.Publish {
				opts.Commits = pins(p)
			}
			if err := gitlabci.Write(&child, p, opts); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			repo(t, dir, child.Bytes(), "", "")
			cmd := exec.Command(bin, "--list-json", "--home", filepath.Join(dir, ".home"))
			cmd.Dir = dir
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("gitlab-ci-local: %v\n%s\n%s", err, out, child.Bytes())
			}
			var jobs []struct {
				Name  string
				Stage string
				Needs []struct{ Job string }
			}
			if err := json.Unmarshal(out, &jobs); err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, j := range jobs {
				got[j.Name] = []string{}
				for _, n := range j.Needs {
					got[j.Name] = append(got[j.Name], n.Job)
				}
			}
			want := map[string][]string{}
			for _, tg := range p.Targets {
				if tt.command == gitlabci.Test {
					want["test "+tg.String()] = []string{}
					continue
				}
				for _, pl := range tg.Platforms {
					stage := "stage " + tg.Name + " " + pl.String()
					want[stage] = []string{}
					if !slices.Contains(want["publish "+tg.Name], stage) {
						want["publish "+tg.Name] = append(want["publish "+tg.Name], stage)
					}
				}
			}
			if !maps.EqualFunc(got, want, slices.Equal) {
				t.Errorf("jobs and needs:\n%v\nwant\n%v", got, want)
			}
			// The merged YAML, as GitLab evaluates it, carries each platform's runner tags.
			cmd = exec.Command(bin, "--preview", "--home", filepath.Join(dir, ".home"))
			cmd.Dir = dir
			preview, err := cmd.Output()
			if err != nil {
				t.Fatalf("gitlab-ci-local --preview: %v", err)
			}
			doc := decodeYAML(t, preview)
			for name := range want {
				job := doc[name].(map[string]any)
				var wantTags []string
				switch {
				case strings.HasSuffix(name, " linux/arm64"):
					wantTags = runnerTags[arm64]
				case strings.HasSuffix(name, " linux/amd64"), tt.command == gitlabci.Test:
					wantTags = runnerTags[amd64]
				}
				if got := toStrings(job["tags"]); !slices.Equal(got, wantTags) && len(got)+len(wantTags) > 0 {
					t.Errorf("%s: runner tags %q, want %q", name, got, wantTags)
				}
			}
		})
	}
}
