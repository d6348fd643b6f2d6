package templates

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"gitlab.studip.de/studip/docker/gitlabci"
	"gitlab.studip.de/studip/docker/internal/testutil"
)

// studipPipeline is a .gitlab-ci.yml shaped like Stud.IP's own (its spec header, workflow
// rules, stages and a job of its own) that includes the review-app component with the
// inputs given (YAML lines at the include's indentation).
func studipPipeline(inputs string) string {
	return `spec:
  inputs:
    phpversion:
      type: string
      default: "8.1"
---
workflow:
  rules:
    - if: '$CI_PIPELINE_SOURCE == "merge_request_event"'
    - if: '$CI_COMMIT_REF_PROTECTED == "true"'

image: studip/studip:tests-php$[[ inputs.phpversion ]]

variables:
  GIT_DEPTH: 1

stages:
  - build
  - checks
  - test
  - release

include:
  - component: gitlab.studip.de/studip/docker/review-app@` + componentTag + `
    inputs:
` + inputs + `
lint-php:
  stage: checks
  script:
    - make lint
`
}

// componentTag is a release tag of the component, in the scheme of its own that keeps it
// apart from the Stud.IP release tags (vX.Y.Z) that publish images.
const componentTag = "review-app-v1.2.0"

const requiredInputs = `      kube_context: studip/agents:review
      domain: review.studip.example
      tool_ref: ` + componentTag + `
`

// project makes dir a Stud.IP-like git checkout whose pipeline includes the component,
// served from gitlab-ci-local's include cache as if fetched from this project at componentTag (it
// does not fetch what is cached), with the default branch main and, when branch is given, that
// branch checked out with a commit of its own.
func project(t *testing.T, dir, pipeline, branch string) {
	t.Helper()
	component, err := os.ReadFile("review-app.yml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		".gitlab-ci.yml": pipeline,
		"VERSION":        "RELEASE 6.3.alpha\n",
		"composer.json":  `{"require": {"php": "^8.1"}}` + "\n",
		// gitlab-ci-local keeps its includes under .gitlab-ci-local/includes/<host of this
		// project's origin>/<project>/<ref>/.
		".gitlab-ci-local/includes/gitlab.studip.de/studip/docker/" + componentTag + "/templates/review-app.yml": string(component),
	}
	for name, content := range files {
		testutil.WriteFile(t, filepath.Join(dir, name), content)
	}
	git := func(args ...string) {
		t.Helper()
		testutil.Git(t, dir, args...)
	}
	git("init", "-q", "-b", "main")
	git("remote", "add", "origin", "https://gitlab.studip.de/studip/studip.git")
	git("add", ".gitlab-ci.yml", "VERSION", "composer.json")
	git("commit", "-q", "-m", "main")
	git("update-ref", "refs/remotes/origin/main", "HEAD")
	git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
	if branch != "" {
		git("checkout", "-q", "-b", branch)
		git("commit", "-q", "--allow-empty", "-m", "a change")
	}
}

type job struct {
	Name, Stage, When string
	AllowFailure      bool `json:"allow_failure"`
}

// jobs are the jobs that gitlab-ci-local says a pipeline with vars creates.
func jobs(t *testing.T, dir string, vars map[string]string) map[string]job {
	t.Helper()
	var list []job
	out := testutil.GitLabCILocal(t, dir, vars, "--list-json")
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("reading gitlab-ci-local's job list: %v\n%s", err, out)
	}
	created := map[string]job{}
	for _, j := range list {
		if j.When != "never" {
			created[j.Name] = j
		}
	}
	return created
}

var reviewJobs = []string{"review-app build", "review-app deploy", "review-app stop"}

// The jobs exist in merge request pipelines only: never on the default branch, a tag, or a
// branch push.
func TestReviewAppRules(t *testing.T) {
	mr := func(branch string) map[string]string {
		return map[string]string{"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": branch}
	}
	tests := []struct {
		name   string
		branch string
		vars   map[string]string
		want   bool
	}{
		{name: "merge request", branch: "1234-course-wizard", vars: mr("1234-course-wizard"), want: true},
		{name: "push to the default branch", vars: map[string]string{"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_REF_PROTECTED": "true"}},
		{name: "push to a branch", branch: "1234-course-wizard", vars: map[string]string{"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_REF_PROTECTED": "true"}},
		{name: "tag", vars: map[string]string{"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v6.0.3", "CI_COMMIT_REF_PROTECTED": "true"}},
		{name: "merge request from the default branch", vars: mr("main")},
		{name: "schedule", vars: map[string]string{"CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_REF_PROTECTED": "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			project(t, dir, studipPipeline(requiredInputs), tt.branch)
			got := jobs(t, dir, tt.vars)
			if _, ok := got["lint-php"]; !ok {
				t.Errorf("the project's own job is missing: %v", got)
			}
			for _, name := range reviewJobs {
				if _, ok := got[name]; ok != tt.want {
					t.Errorf("job %q created: %v, want %v", name, ok, tt.want)
				}
			}
			if !tt.want {
				return
			}
			if stop := got["review-app stop"]; stop.When != "manual" || !stop.AllowFailure {
				t.Errorf("stop job: when %s, allow_failure %v; want manual and allowed to fail", stop.When, stop.AllowFailure)
			}
			for _, name := range reviewJobs[:2] {
				if got[name].When != "on_success" {
					t.Errorf("%s: when %s, want on_success", name, got[name].When)
				}
			}
		})
	}
}

// preview is the merged pipeline that gitlab-ci-local shows, inputs applied.
func preview(t *testing.T, dir string) map[string]any {
	t.Helper()
	out := testutil.GitLabCILocal(t, dir, map[string]string{"CI_PIPELINE_SOURCE": "merge_request_event"}, "--preview")
	// The preview is one YAML document, after a "---" line.
	i := strings.Index(string(out), "---\n")
	if i < 0 {
		t.Fatalf("no YAML in gitlab-ci-local's preview:\n%s", out)
	}
	var m map[string]any
	if err := yaml.Unmarshal(out[i:], &m); err != nil {
		t.Fatalf("reading the preview: %v\n%s", err, out)
	}
	return m
}

func mapAt(t *testing.T, m map[string]any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			t.Fatalf("%s: no mapping %s in %v", strings.Join(keys, "."), k, m)
		}
		m = next
	}
	return m
}

func script(m map[string]any, key string) string {
	items, _ := m[key].([]any)
	var lines []string
	for _, it := range items {
		s, _ := it.(string)
		lines = append(lines, s)
	}
	return strings.Join(lines, "\n")
}

func TestReviewAppInputs(t *testing.T) {
	t.Run("given", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		project(t, dir, studipPipeline(requiredInputs+`      line: "6.1"
      auto_stop_in: 2 days
      deploy_stage: release
      ingress_class: nginx
`), "feature")
		m := preview(t, dir)
		build, deploy, stop := mapAt(t, m, "review-app build"), mapAt(t, m, "review-app deploy"), mapAt(t, m, "review-app stop")
		env := mapAt(t, deploy, "environment")
		want := map[string]any{
			"name": "review/$CI_COMMIT_REF_SLUG", "url": "https://$CI_COMMIT_REF_SLUG.review.studip.example/",
			"on_stop": "review-app stop", "auto_stop_in": "2 days",
		}
		for k, v := range want {
			if env[k] != v {
				t.Errorf("deploy environment %s = %v, want %v", k, env[k], v)
			}
		}
		if got := mapAt(t, stop, "environment"); got["action"] != "stop" || got["name"] != want["name"] {
			t.Errorf("stop environment %v, want action stop of %s", got, want["name"])
		}
		if build["stage"] != "build" || deploy["stage"] != "release" || stop["stage"] != "release" {
			t.Errorf("stages %v %v %v, want build, release, release", build["stage"], deploy["stage"], stop["stage"])
		}
		buildScript := script(build, "script")
		for _, w := range []string{
			`--branch "` + componentTag + `"`,
			`line="6.1"`,
			`go run ./ci build --source "$CI_PROJECT_DIR" ${line:+--version "$line"} --base apache --platform linux/amd64 --push "$REVIEW_APP_IMAGE"`,
			`--domain "review.studip.example"`, `--ingress-class "nginx"`, `--namespace "studip-$CI_ENVIRONMENT_SLUG"`,
		} {
			if !strings.Contains(buildScript, w) {
				t.Errorf("build script lacks %q:\n%s", w, buildScript)
			}
		}
		vars := mapAt(t, build, "variables")
		if vars["REVIEW_APP_IMAGE"] != "$CI_REGISTRY_IMAGE/review:$CI_COMMIT_REF_SLUG" ||
			vars["REGISTRY_USERNAME"] != "$CI_REGISTRY_USER" || vars["REGISTRY_PASSWORD"] != "$CI_JOB_TOKEN" {
			t.Errorf("build variables %v", vars)
		}
		if strings.Contains(buildScript, "CI_JOB_TOKEN") || strings.Contains(buildScript, "REGISTRY_PASSWORD") {
			t.Error("the build script names the registry password; it must reach ci build through the environment only")
		}
		for name, j := range map[string]map[string]any{"deploy": deploy, "stop": stop} {
			if s := script(j, "before_script"); !strings.Contains(s, `kubectl config use-context "studip/agents:review"`) {
				t.Errorf("%s does not use the agent's context:\n%s", name, s)
			}
		}
		if s := script(stop, "script"); !strings.Contains(s, `kubectl delete namespace "$ns"`) {
			t.Errorf("stop does not delete the namespace:\n%s", s)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		project(t, dir, studipPipeline(requiredInputs), "feature")
		m := preview(t, dir)
		build, deploy := mapAt(t, m, "review-app build"), mapAt(t, m, "review-app deploy")
		if got := mapAt(t, deploy, "environment")["auto_stop_in"]; got != "1 week" {
			t.Errorf("auto_stop_in %v, want 1 week", got)
		}
		if deploy["stage"] != "test" {
			t.Errorf("deploy stage %v, want test, a stage of Stud.IP's own", deploy["stage"])
		}
		s := script(build, "script")
		for _, w := range []string{`line=""`, `--branch "` + componentTag + `"`} {
			if !strings.Contains(s, w) {
				t.Errorf("build script lacks %q:\n%s", w, s)
			}
		}
		// The same engine and tools as this project's own image jobs.
		if imageName(build["image"]) != gitlabci.GoImage {
			t.Errorf("build image %v, want %s", build["image"], gitlabci.GoImage)
		}
		if svc, _ := build["services"].([]any); len(svc) != 1 || imageName(svc[0]) != "docker:"+gitlabci.DockerVersion+"-dind" {
			t.Errorf("build services %v, want docker:%s-dind", build["services"], gitlabci.DockerVersion)
		}
		if got := mapAt(t, build, "variables")["DAGGER_VERSION"]; got != gitlabci.DaggerVersion {
			t.Errorf("DAGGER_VERSION %v, want %s", got, gitlabci.DaggerVersion)
		}
	})
	// tool_ref has no default: an include pinned to a tag must not run another version's tool.
	for name, inputs := range map[string]string{
		"without kube_context and domain": "      line: \"6.1\"\n      tool_ref: " + componentTag + "\n",
		"without tool_ref":                "      kube_context: studip/agents:review\n      domain: review.studip.example\n",
	} {
		t.Run("required inputs "+name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			project(t, dir, studipPipeline(inputs), "feature")
			bin := testutil.LookTool(t, "gitlab-ci-local")
			cmd := exec.Command(bin, "--list", "--home", filepath.Join(dir, ".home"))
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "input: required value has not been provided") {
				t.Errorf("an include %s: %v\n%s\nwant an error naming the input", name, err, out)
			}
		})
	}
}

// imageName is an image or service as gitlab-ci-local writes it: a name, or {name: ...}.
func imageName(v any) string {
	if m, ok := v.(map[string]any); ok {
		v = m["name"]
	}
	s, _ := v.(string)
	return s
}

// Names in the test must match the component's.
func TestReviewAppJobNames(t *testing.T) {
	data, err := os.ReadFile("review-app.yml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var header, body map[string]any
	if err := dec.Decode(&header); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&body); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range body {
		names = append(names, k)
	}
	slices.Sort(names)
	if !slices.Equal(names, reviewJobs) {
		t.Errorf("jobs %q, want %q", names, reviewJobs)
	}
}
