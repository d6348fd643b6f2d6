package gitlabci_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/gitlabci"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

const pipelinePath = "../.gitlab-ci.yml"

func loadPipeline(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(pipelinePath)
	if err != nil {
		t.Fatal(err)
	}
	return decodeYAML(t, data)
}

func TestPipelineMatchesSchema(t *testing.T) {
	validateSchema(t, loadPipeline(t))
}

// Every image job triggers the child pipeline that its own generate job writes, under the
// same rules (else GitLab creates a trigger without its artifact, or a generate job that
// nobody runs), and every generate job asks `ci gitlab` for what its pipeline source needs.
func TestPipelineImageJobs(t *testing.T) {
	doc := loadPipeline(t)
	want := map[string]string{ // trigger job -> the arguments of `ci gitlab` in its generate job
		"test images":     "--command test --platform linux/amd64",
		"publish release": `--command publish --version "${STUDIP_VERSION:-${CI_COMMIT_TAG#v}}"`,
		"publish all":     "--command publish",
		"publish nightly": "--command publish --version nightly",
	}
	var triggers []string
	for name, v := range doc {
		job, _ := v.(map[string]any)
		if _, ok := job["trigger"]; !ok || strings.HasPrefix(name, ".") {
			continue
		}
		triggers = append(triggers, name)
		genName := "generate " + name
		gen, ok := doc[genName].(map[string]any)
		if !ok {
			t.Errorf("%s: no job %q writes its child pipeline", name, genName)
			continue
		}
		if needs := toStrings(job["needs"]); !slices.Equal(needs, []string{genName}) {
			t.Errorf("%s: needs %q, want [%s]", name, needs, genName)
		}
		wantInclude := []any{map[string]any{"artifact": gitlabci.ChildFile, "job": genName}}
		if got := job["trigger"].(map[string]any)["include"]; !reflect.DeepEqual(got, wantInclude) {
			t.Errorf("%s: trigger include %v, want %v", name, got, wantInclude)
		}
		if !reflect.DeepEqual(job["rules"], gen["rules"]) || job["rules"] == nil {
			t.Errorf("%s and %s must have the same rules:\n%v\n%v", name, genName, job["rules"], gen["rules"])
		}
		tmpl := extended(t, doc, job, ".images")
		if got := tmpl["trigger"].(map[string]any)["strategy"]; got != "depend" {
			t.Errorf("%s: trigger strategy %v, want depend (a failed image must fail the pipeline)", name, got)
		}
		base := extended(t, doc, gen, ".generate")
		if paths := toStrings(base["artifacts"].(map[string]any)["paths"]); !slices.Equal(paths, []string{gitlabci.ChildFile}) {
			t.Errorf("%s: artifacts %q, want [%s]", genName, paths, gitlabci.ChildFile)
		}
		script := toStrings(gen["script"])
		if len(script) == 0 {
			script = toStrings(base["script"])
			vars, _ := gen["variables"].(map[string]any)
			script[0] = strings.ReplaceAll(script[0], "$CHILD_ARGS", vars["CHILD_ARGS"].(string))
		}
		if wantLine := "go run ./ci gitlab " + want[name] + " > " + gitlabci.ChildFile; script[0] != wantLine {
			t.Errorf("%s runs\n%s\nwant\n%s", genName, script[0], wantLine)
		}
	}
	slices.Sort(triggers)
	wantTriggers := []string{"publish all", "publish nightly", "publish release", "test images"}
	if !slices.Equal(triggers, wantTriggers) {
		t.Errorf("trigger jobs %q, want %q", triggers, wantTriggers)
	}
	if image := doc["default"].(map[string]any)["image"]; image != gitlabci.GoImage {
		t.Errorf("default image %v, want %s like the child pipeline", image, gitlabci.GoImage)
	}
	for job, want := range map[string]string{"check": "go run ./ci check", "test": "bash .ci/run"} {
		if script := toStrings(doc[job].(map[string]any)["script"]); !slices.ContainsFunc(script, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("job %s runs %q, want %q among them", job, script, want)
		}
	}
}

// extended returns the template that job extends, which must be name.
func extended(t *testing.T, doc, job map[string]any, name string) map[string]any {
	t.Helper()
	if job["extends"] != name {
		t.Fatalf("job extends %v, want %s", job["extends"], name)
	}
	return doc[name].(map[string]any)
}

// TestPipelineRules lists, with gitlab-ci-local, the jobs that each kind of pipeline
// creates. It runs in a throwaway git repository holding a copy of .gitlab-ci.yml, since
// gitlab-ci-local wants a checkout and writes its state beside the file. (Its listing
// ignores workflow:rules, so the rule against duplicate branch pipelines is not covered.)
func TestPipelineRules(t *testing.T) {
	pipeline, err := os.ReadFile(pipelinePath)
	if err != nil {
		t.Fatal(err)
	}
	checks := []string{"check", "test"}
	with := func(jobs ...string) []string { return append(slices.Clone(checks), jobs...) }
	mr := map[string]string{"CI_PIPELINE_SOURCE": "merge_request_event"}
	tests := []struct {
		name   string
		branch string // the branch checked out; "" stays on the default branch main
		change string // a file the branch changes against main
		vars   map[string]string
		want   []string
	}{
		{name: "merge request changing versions.yaml", branch: "feature", change: "versions.yaml", vars: mr,
			want: with("generate test images", "test images")},
		{name: "merge request changing a Dockerfile", branch: "feature", change: "dockerfiles/apache/Dockerfile", vars: mr,
			want: with("generate test images", "test images")},
		{name: "merge request changing docs only", branch: "feature", change: "README.md", vars: mr, want: checks},
		{name: "push to a branch", branch: "feature", change: "versions.yaml", want: checks},
		{name: "push to the default branch", want: with("generate publish nightly", "publish nightly")},
		{name: "schedule", vars: map[string]string{"CI_PIPELINE_SOURCE": "schedule"},
			want: with("generate publish all", "publish all")},
		{name: "outdated schedule", vars: map[string]string{"CI_PIPELINE_SOURCE": "schedule", "STUDIP_SCHEDULE": "outdated"},
			want: []string{"outdated"}},
		{name: "tag vX.Y.Z", vars: map[string]string{"CI_COMMIT_TAG": "v6.0.3"}, want: with("generate publish release", "publish release")},
		{name: "pre-release tag", vars: map[string]string{"CI_COMMIT_TAG": "v6.1.0-beta.1"}, want: with("generate publish release", "publish release")},
		{name: "other tag", vars: map[string]string{"CI_COMMIT_TAG": "docs-2026"}, want: checks},
		// The review-app component's releases have tags of their own (docs/review-apps.md).
		{name: "component release tag", vars: map[string]string{"CI_COMMIT_TAG": "review-app-v1.2.0"}, want: checks},
		{name: "trigger with STUDIP_VERSION", vars: map[string]string{"CI_PIPELINE_SOURCE": "trigger", "STUDIP_VERSION": "6.0.3"},
			want: with("generate publish release", "publish release")},
		{name: "API run with STUDIP_VERSION on a branch", branch: "feature",
			vars: map[string]string{"CI_PIPELINE_SOURCE": "api", "STUDIP_VERSION": "6.0.3"},
			want: with("generate publish release", "publish release")},
		{name: "trigger without STUDIP_VERSION", vars: map[string]string{"CI_PIPELINE_SOURCE": "trigger"},
			want: with("generate publish nightly", "publish nightly")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			repo(t, dir, pipeline, tt.branch, tt.change)
			out := testutil.GitLabCILocal(t, dir, tt.vars, "--list-json")
			got := createdJobs(t, out)
			if !slices.Equal(got, tt.want) {
				t.Errorf("jobs %q, want %q", got, tt.want)
			}
		})
	}
}

// createdJobs reads gitlab-ci-local's job list, keeping the jobs the pipeline creates and
// checking that each job's needs are among them.
func createdJobs(t *testing.T, out []byte) []string {
	t.Helper()
	var jobs []struct {
		Name, When string
		Needs      []struct{ Job string }
	}
	if err := json.Unmarshal(out, &jobs); err != nil {
		t.Fatalf("reading gitlab-ci-local's job list: %v\n%s", err, out)
	}
	var names []string
	for _, j := range jobs {
		if j.When != "never" {
			names = append(names, j.Name)
		}
	}
	for _, j := range jobs {
		for _, n := range j.Needs {
			if j.When != "never" && !slices.Contains(names, n.Job) {
				t.Errorf("job %q needs %q, which this pipeline does not create", j.Name, n.Job)
			}
		}
	}
	return names
}

// repo makes dir a git repository with the pipeline, README.md and versions.yaml committed
// on main, main as origin's default branch, and branch (when given) checked out with a
// commit that changes the file change.
func repo(t *testing.T, dir string, pipeline []byte, branch, change string) {
	t.Helper()
	git := func(args ...string) {
		t.Helper()
		testutil.Git(t, dir, args...)
	}
	write := func(name, content string) {
		t.Helper()
		testutil.WriteFile(t, filepath.Join(dir, name), content)
	}
	write(".gitlab-ci.yml", string(pipeline))
	write("README.md", "readme\n")
	write("versions.yaml", "versions\n")
	git("init", "-q", "-b", "main")
	git("remote", "add", "origin", "https://gitlab.studip.de/studip/docker.git")
	git("add", "-A")
	git("commit", "-q", "-m", "main")
	// gitlab-ci-local takes the default branch from origin/HEAD and compares
	// rules:changes with origin/<default branch>.
	git("update-ref", "refs/remotes/origin/main", "HEAD")
	git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
	if branch == "" {
		return
	}
	git("checkout", "-q", "-b", branch)
	if change != "" {
		write(change, "changed\n")
		git("add", "-A")
		git("commit", "-q", "-m", "change "+change)
	}
}
