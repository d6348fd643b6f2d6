// Package gitlabci writes the GitLab CI child pipeline that builds a plan, each job running
// `go run ./ci <command>` for its part under Dagger, so that a full rebuild spreads over many
// runners: a test pipeline has one job per target; a publish pipeline one job per version
// and platform, on a runner of that platform where the project names one, pushing to a
// staging repository, then one job per version that publishes the indexes. .gitlab-ci.yml generates it with `go run ./ci
// gitlab` and triggers it. Like plan, the package is pure: no Dagger, no I/O but the writer.
package gitlabci

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// Command is what the jobs of a child pipeline do with their target.
type Command string

const (
	Test    Command = "test"    // build and smoke-test, push nothing (merge requests)
	Publish Command = "publish" // build, test and push every tag
)

// ParseCommand accepts test or publish.
func ParseCommand(s string) (Command, error) {
	switch c := Command(s); c {
	case Test, Publish:
		return c, nil
	}
	return "", fmt.Errorf("unknown command %q (known: %s, %s)", s, Test, Publish)
}

// What a child job runs on. DaggerVersion must equal the dagger.io/dagger version in go.mod:
// the CLI that `dagger run` starts and the SDK in ./ci speak one protocol (a test checks it).
const (
	GoImage       = "golang:1.26-bookworm" // also the image of .gitlab-ci.yml's own jobs
	DockerVersion = "28.5.1"               // the docker:dind service and the docker CLI that Dagger drives
	DaggerVersion = "0.21.9"
)

// ChildFile is the child pipeline's name, as the generate jobs write it and the trigger jobs
// include it.
const ChildFile = "child-pipeline.yml"

// Options are the inputs of a child pipeline besides the plan.
type Options struct {
	Command Command
	File    string   // the versions file the plan came from; every job reads it again
	Args    []string // the `ci gitlab` arguments, quoted in the header so the file says where it came from
	// RunnerTags are the runner tags of the jobs that build one platform, so that each runs
	// on a runner of that platform; a platform without tags runs on any runner (emulated).
	RunnerTags map[versions.Platform][]string
	// Commits are the commits the versions' refs named when the pipeline was generated, by
	// version name (plan.Options.Commits): every job of a publish builds its version's, so
	// that its platform jobs and its assemble job agree however the branch moves meanwhile.
	Commits map[string]string
}

// RunnerTagsVariable is the CI/CD variable that holds the runner tags (comma-separated) of
// platform pl's jobs: STUDIP_RUNNER_TAGS_AMD64, STUDIP_RUNNER_TAGS_ARM64, ...
func RunnerTagsVariable(pl versions.Platform) string {
	name := pl.Arch
	if pl.Variant != "" {
		name += "_" + pl.Variant
	}
	return "STUDIP_RUNNER_TAGS_" + strings.ToUpper(name)
}

// Stages of a publish pipeline: the platform jobs push each platform's images to the
// staging repository, then one job per version assembles and publishes the indexes.
const (
	StageStage   = "stage"
	PublishStage = "publish"
)

// StagingVariable names the staging repository in the child pipeline; a project variable
// overrides the default, the project's own registry.
const StagingVariable = "STUDIP_STAGING_REPOSITORY"

// Write writes the child pipeline of p's targets, in plan order: for a test, one job per
// target; for a publish, one job per version and platform, then one per version.
func Write(w io.Writer, p *plan.Plan, opts Options) error {
	stages, vars, what := strs(string(opts.Command)), variables(), "one job per target"
	if opts.Command == Publish {
		stages, what = strs(StageStage, PublishStage), "one job per version and platform, then one per version,"
		if len(opts.Commits) > 0 {
			what = "each version's source pinned to the commit its ref named then (--ref-commit),\n" + what
		}
		vars.Content = append(vars.Content,
			str(StagingVariable), str("$CI_REGISTRY_IMAGE/staging"),
			str("STAGING_REGISTRY_USERNAME"), str("$CI_REGISTRY_USER"),
			str("STAGING_REGISTRY_PASSWORD"), str("$CI_REGISTRY_PASSWORD"))
	}
	root := mapping(
		pair{"stages", stages},
		pair{"variables", vars},
		pair{"default", defaults(opts.Command)},
	)
	if opts.Command == Publish {
		root.Content = append(root.Content, publishJobs(p, opts)...)
	} else {
		for _, t := range p.Targets {
			key := str(string(opts.Command) + " " + t.String())
			key.HeadComment = "tags: " + strings.Join(t.TagNames(), " ")
			job := mapping(pair{"stage", str(string(opts.Command))})
			if len(t.Platforms) == 1 {
				job.Content = append(job.Content, runnerTags(opts, t.Platforms[0])...)
			}
			job.Content = append(job.Content, str("script"), strs(JobCommand(opts.Command, opts.File, t)))
			root.Content = append(root.Content, key, job)
		}
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}, HeadComment: fmt.Sprintf(
		"Generated by `%s`:\n%s of %s. Do not edit; docs/release-managers.md (\"GitLab CI\") describes the pipelines.",
		strings.Join(append([]string{"go run ./ci gitlab"}, opts.Args...), " "), what, opts.File)}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing the child pipeline: %w", err)
	}
	return enc.Close()
}

// version is the targets of one --version value: a Stud.IP version (every base) or a test
// image, and the platforms any of them has, in plan order.
type version struct {
	name      string
	targets   []plan.Target
	platforms []versions.Platform
}

func byVersion(p *plan.Plan) []*version {
	var out []*version
	for _, t := range p.Targets {
		i := slices.IndexFunc(out, func(v *version) bool { return v.name == t.Name })
		if i < 0 {
			out, i = append(out, &version{name: t.Name}), len(out)
		}
		v := out[i]
		v.targets = append(v.targets, t)
		for _, pl := range t.Platforms {
			if !slices.Contains(v.platforms, pl) {
				v.platforms = append(v.platforms, pl)
			}
		}
	}
	return out
}

// publishJobs are a publish pipeline's jobs: per version, one platform job per platform on
// its runners, building every base of the version (so that npm and composer run once per
// job) into the staging repository, and the assemble job that needs them and publishes.
func publishJobs(p *plan.Plan, opts Options) []*yaml.Node {
	var out []*yaml.Node
	for _, v := range byVersion(p) {
		var needs []string
		for _, pl := range v.platforms {
			name := StageStage + " " + v.name + " " + pl.String()
			needs = append(needs, name)
			job := mapping(pair{"stage", str(StageStage)})
			job.Content = append(job.Content, runnerTags(opts, pl)...)
			job.Content = append(job.Content, str("script"), strs(StageCommand(opts.File, v.name, pl, opts.Commits[v.name])))
			out = append(out, str(name), job)
		}
		key := str(PublishStage + " " + v.name)
		var comments []string
		for _, t := range v.targets {
			comments = append(comments, "tags: "+strings.Join(t.TagNames(), " "))
		}
		key.HeadComment = strings.Join(comments, "\n")
		out = append(out, key, mapping(
			pair{"stage", str(PublishStage)},
			pair{"needs", strs(needs...)},
			pair{"script", strs(AssembleCommand(opts.File, v.name, opts.Commits[v.name]))},
		))
	}
	return out
}

// runnerTags is the tags key of a job that builds platform pl, if pl has runner tags.
func runnerTags(opts Options, pl versions.Platform) []*yaml.Node {
	tags := opts.RunnerTags[pl]
	if len(tags) == 0 {
		return nil
	}
	return []*yaml.Node{str("tags"), strs(tags...)}
}

// StageCommand is the script line of the platform job of version name on platform pl,
// building commit ("" to resolve the version's ref in the job).
func StageCommand(file, name string, pl versions.Platform, commit string) string {
	return publishCommand(file, name, commit, "--platform", pl.String(), "--stage", `"$`+StagingVariable+`"`)
}

// AssembleCommand is the script line of the assemble job of version name, whose platform
// jobs built commit.
func AssembleCommand(file, name, commit string) string {
	return publishCommand(file, name, commit, "--from-stage", `"$`+StagingVariable+`"`)
}

func publishCommand(file, name, commit string, args ...string) string {
	cmd := []string{"dagger", "run", "go", "run", "./ci", "publish", "--file", file, "--version", name}
	if commit != "" {
		cmd = append(cmd, "--ref-commit", name+"="+commit)
	}
	return strings.Join(append(cmd, args...), " ")
}

// JobCommand is the script line of t's job: the ci command for t alone (a test image has
// no base: its name alone selects it). A test names every platform of t, so that a pipeline
// generated for some platforms tests only those; publish takes no --platform, since it
// pushes all of a target's platforms as one index.
func JobCommand(c Command, file string, t plan.Target) string {
	args := []string{"dagger", "run", "go", "run", "./ci", string(c), "--file", file, "--version", t.Name}
	if t.Base != "" {
		args = append(args, "--base", string(t.Base))
	}
	if c == Test {
		for _, pl := range t.Platforms {
			args = append(args, "--platform", pl.String())
		}
	}
	return strings.Join(args, " ")
}

// variables follow Dagger's documented setup for GitLab: the engine runs in a docker:dind
// service, reached over TLS with the certificates the runner shares in /certs/client.
func variables() *yaml.Node {
	return mapping(
		pair{"DOCKER_HOST", str("tcp://docker:2376")},
		pair{"DOCKER_TLS_CERTDIR", str("/certs")},
		pair{"DOCKER_TLS_VERIFY", str("1")},
		pair{"DOCKER_CERT_PATH", str("/certs/client")},
		pair{"DOCKER_VERSION", str(DockerVersion)},
		pair{"DAGGER_VERSION", str(DaggerVersion)}, // read by Dagger's install.sh
		pair{"GOPATH", str("$CI_PROJECT_DIR/.go")}, // inside the project, where the cache can keep the modules
		pair{"GOFLAGS", str("-modcacherw")},        // lets the runner clean up the module files
		// Base images come through the group's dependency proxy (Docker Hub rate-limits pulls);
		// a project variable STUDIP_IMAGE_MIRROR overrides this, an empty one pulls directly.
		pair{"STUDIP_IMAGE_MIRROR", str("$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX")},
	)
}

// installTools installs the docker CLI (Dagger starts its engine with it) and the Dagger CLI
// pinned to the SDK's version, then logs in to the dependency proxy when the mirror is it:
// Dagger pulls with the client's docker credentials.
var installTools = []string{
	`curl -fsSL "https://download.docker.com/linux/static/stable/$(uname -m)/docker-$DOCKER_VERSION.tgz" | tar -xz -C /usr/local/bin --strip-components=1 docker/docker`,
	`curl -fsSL https://dl.dagger.io/dagger/install.sh | BIN_DIR=/usr/local/bin sh`,
	`case "$STUDIP_IMAGE_MIRROR" in "$CI_DEPENDENCY_PROXY_SERVER"/*) echo "$CI_DEPENDENCY_PROXY_PASSWORD" | docker login --username "$CI_DEPENDENCY_PROXY_USER" --password-stdin "$CI_DEPENDENCY_PROXY_SERVER" ;; esac`,
}

func defaults(c Command) *yaml.Node {
	d := mapping(
		pair{"image", str(GoImage)},
		pair{"services", strs("docker:$DOCKER_VERSION-dind")},
		// The parent's check job fills this cache; the many jobs here only read it.
		pair{"cache", mapping(
			pair{"key", mapping(pair{"files", strs("go.sum")})},
			pair{"paths", strs(".go/pkg/mod/")},
			pair{"policy", str("pull")},
		)},
		pair{"before_script", strs(installTools...)},
	)
	if c == Test {
		// A newer commit of the merge request makes these results moot; a push must not
		// stop half-way, so publish jobs keep the default.
		d.Content = append(d.Content, str("interruptible"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	return d
}

type pair struct {
	key   string
	value *yaml.Node
}

// mapping builds a YAML mapping that keeps the order given, unlike a Go map.
func mapping(pairs ...pair) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, p := range pairs {
		n.Content = append(n.Content, str(p.key), p.value)
	}
	return n
}

// str is a string scalar; the encoder quotes it where YAML would read another type.
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func strs(ss ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range ss {
		n.Content = append(n.Content, str(s))
	}
	return n
}
