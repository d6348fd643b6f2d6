package dockerfiles

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/opencontainers/go-digest"
)

var dockerfiles = []string{"apache/Dockerfile", "fpm-alpine/Dockerfile", "tests/Dockerfile"}

// defaultStage is the last stage of a Dockerfile, the one a build without a target makes:
// the runtime, or the test image.
func defaultStage(name string) string {
	if path.Dir(name) == "tests" {
		return "tests"
	}
	return "runtime"
}

// TestDockerfiles runs buildkit's own linter (the rules of docker build --check, for every
// stage) and the project's rules on every Dockerfile, and fails on any finding.
func TestDockerfiles(t *testing.T) {
	for _, name := range dockerfiles {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dt := readFile(t, name)
			for _, problem := range append(buildkitLint(t, name, dt), projectRules(t, dt, defaultStage(name))...) {
				t.Errorf("%s: %s", name, problem)
			}
		})
	}
}

// TestDockerfileChecksFindProblems makes sure both checks see what they are for.
func TestDockerfileChecksFindProblems(t *testing.T) {
	cases := []struct {
		name, dockerfile, want string
	}{
		{"ARG in FROM without default", "ARG PHP_IMAGE\nARG PHP_VERSION=8.3\nFROM ${PHP_IMAGE}:${PHP_VERSION}-apache AS runtime\n", "InvalidDefaultArgInFrom"},
		{"inconsistent casing", "ARG PHP_IMAGE=php\nARG PHP_VERSION=8.3\nFROM ${PHP_IMAGE}:${PHP_VERSION}-apache AS runtime\nrun true\nRUN true\n", "ConsistentInstructionCasing"},
		{"hard-wired base image", "FROM php:8.3-apache AS runtime\n", "no build argument can redirect"},
		{"unsorted packages", "ARG PHP_IMAGE=php\nARG PHP_VERSION=8.3\nFROM ${PHP_IMAGE}:${PHP_VERSION}-apache AS runtime\nRUN apt-get update; \\\n    apt-get install -y \\\n        zlib1g-dev \\\n        libzip-dev \\\n    ; \\\n    rm -rf /var/lib/apt/lists/*\n", "not sorted"},
		{"apt lists kept", "ARG PHP_IMAGE=php\nARG PHP_VERSION=8.3\nFROM ${PHP_IMAGE}:${PHP_VERSION}-apache AS runtime\nRUN apt-get update && apt-get install -y git\n", "without removing /var/lib/apt/lists"},
		{"apk cache kept", "ARG PHP_IMAGE=php\nARG PHP_VERSION=8.3\nFROM ${PHP_IMAGE}:${PHP_VERSION}-fpm-alpine AS runtime\nRUN apk add git\n", "without --no-cache"},
		{"Stud.IP copied in", "ARG PHP_IMAGE=php\nARG PHP_VERSION=8.3\nFROM ${PHP_IMAGE}:${PHP_VERSION}-apache AS runtime\nCOPY studip/ /var/www/studip/\n", "Stud.IP comes later"},
		{"runtime not last", "ARG PHP_IMAGE=php\nARG PHP_VERSION=8.3\nFROM ${PHP_IMAGE}:${PHP_VERSION}-apache AS runtime\nFROM runtime AS tests\n", "not runtime"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dt := []byte(c.dockerfile)
			problems := append(buildkitLint(t, "Dockerfile", dt), projectRules(t, dt, "runtime")...)
			if !strings.Contains(strings.Join(problems, "\n"), c.want) {
				t.Errorf("problems %q do not mention %q", problems, c.want)
			}
		})
	}
}

// offlineImages answers the linter's questions about base images without a registry: every
// image is an empty linux/amd64 one.
type offlineImages struct{}

func (offlineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	config := []byte(`{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/bin:/usr/bin:/bin"]}}`)
	return ref, digest.FromBytes(config), config, nil
}

// buildkitLint returns buildkit's lint warnings, as "line: rule: detail".
func buildkitLint(t *testing.T, name string, dt []byte) []string {
	t.Helper()
	ctx := context.Background()
	def, err := llb.Scratch().Marshal(ctx)
	if err != nil {
		t.Fatalf("marshalling an empty definition: %v", err)
	}
	sm := llb.NewSourceMap(nil, name, "Dockerfile", dt)
	sm.Definition = def
	res, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{SourceMap: sm, MetaResolver: offlineImages{}})
	if err != nil {
		t.Fatalf("linting %s: %v", name, err)
	}
	var problems []string
	if res.Error != nil {
		problems = append(problems, "build error: "+res.Error.Message)
	}
	for _, w := range res.Warnings {
		line := int32(0)
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = w.Location.Ranges[0].Start.Line
		}
		problems = append(problems, fmt.Sprintf("%d: %s: %s", line, w.RuleName, w.Detail))
	}
	return problems
}

var (
	installsPackages = regexp.MustCompile(`\b(apt-get install|apk add)\b`)
	// One package a line, as the Dockerfiles write their lists.
	packageLine = regexp.MustCompile(`^\s+([a-z0-9][a-z0-9.+-]*|\$[A-Z_]+) *\\$`)
)

// projectRules checks this project's rules: base images only through build arguments with
// defaults, package lists sorted, package caches removed in the layer that filled them,
// nothing of Stud.IP copied in, and the stage named last (the default stage, wantLast).
func projectRules(t *testing.T, dt []byte, wantLast string) []string {
	t.Helper()
	stages := parseStages(t, dt)
	var problems []string
	stageNames := map[string]bool{}
	for _, st := range stages {
		if !strings.HasPrefix(st.BaseName, "${") && !stageNames[st.BaseName] {
			problems = append(problems, fmt.Sprintf("stage %q starts from %q, which no build argument can redirect to a mirror", st.Name, st.BaseName))
		}
		stageNames[st.Name] = true
		for _, cmd := range st.Commands {
			problems = append(problems, commandProblems(cmd, sourceOf(dt, cmd))...)
		}
	}
	if last := stages[len(stages)-1]; last.Name != wantLast {
		problems = append(problems, fmt.Sprintf("the last (default) stage is %q, not %s", last.Name, wantLast))
	}
	return problems
}

func parseStages(t *testing.T, dt []byte) []instructions.Stage {
	t.Helper()
	ast, err := parser.Parse(strings.NewReader(string(dt)))
	if err != nil {
		t.Fatalf("parsing: %v", err)
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatalf("parsing the instructions: %v", err)
	}
	return stages
}

// TestDockerfileHealthcheck: the runtime stage, and so every image the pipeline builds on it,
// installs studip-healthcheck (mode 0755), tells it the base, and runs it as the HEALTHCHECK of
// the contract; no other stage has a HEALTHCHECK (the tests stage's CI jobs serve nothing).
func TestDockerfileHealthcheck(t *testing.T) {
	for _, name := range dockerfiles {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stages := parseStages(t, readFile(t, name))
			for i, st := range stages {
				var health *instructions.HealthCheckCommand
				env := map[string]string{}
				installed := false
				for _, cmd := range inheritedCommands(stages, i) {
					switch c := cmd.(type) {
					case *instructions.HealthCheckCommand:
						health = c
					case *instructions.EnvCommand:
						for _, kv := range c.Env {
							env[kv.Key] = kv.Value
						}
					case *instructions.CopyCommand:
						if slices.Contains(c.SourcePaths, "common/studip-healthcheck") && c.DestPath == "/usr/local/bin/" && c.Chmod == "0755" {
							installed = true
						}
					}
				}
				if st.Name != "runtime" {
					if health != nil {
						t.Errorf("stage %s has %s", st.Name, health.String())
					}
					continue
				}
				if !installed {
					t.Errorf("stage runtime does not copy common/studip-healthcheck to /usr/local/bin/ with --chmod=0755")
				}
				if base := path.Dir(name); env["STUDIP_IMAGE_BASE"] != base {
					t.Errorf("stage runtime sets STUDIP_IMAGE_BASE=%q, want %q", env["STUDIP_IMAGE_BASE"], base)
				}
				if health == nil {
					t.Fatalf("stage runtime has no HEALTHCHECK")
				}
				h := health.Health
				got := fmt.Sprintf("%q start-period %v interval %v timeout %v retries %d", h.Test, h.StartPeriod, h.Interval, h.Timeout, h.Retries)
				if want := `["CMD" "studip-healthcheck"] start-period 10m0s interval 30s timeout 10s retries 3`; got != want {
					t.Errorf("stage runtime: HEALTHCHECK %s, want %s", got, want)
				}
			}
		})
	}
}

// inheritedCommands returns the commands that make up stage i: those of the stages it is
// built on (FROM another stage), then its own.
func inheritedCommands(stages []instructions.Stage, i int) []instructions.Command {
	for j := range i {
		if stages[j].Name == stages[i].BaseName {
			return append(inheritedCommands(stages, j), stages[i].Commands...)
		}
	}
	return stages[i].Commands
}

// sourceOf returns the lines of the Dockerfile an instruction was parsed from: the parser
// joins continued lines, and the package lists are one package a line.
func sourceOf(dt []byte, cmd instructions.Command) string {
	lines := strings.Split(string(dt), "\n")
	var src []string
	for _, r := range cmd.Location() {
		src = append(src, lines[r.Start.Line-1:r.End.Line]...)
	}
	return strings.Join(src, "\n")
}

// commandProblems checks one instruction, given with its source lines.
func commandProblems(cmd instructions.Command, script string) []string {
	var problems []string
	switch c := cmd.(type) {
	case *instructions.RunCommand:
		if !installsPackages.MatchString(script) {
			return nil
		}
		if strings.Contains(script, "apt-get install") && !strings.Contains(script, "rm -rf /var/lib/apt/lists/*") {
			problems = append(problems, c.String()+": apt-get install without removing /var/lib/apt/lists in the same RUN")
		}
		if strings.Contains(script, "apk add") && !strings.Contains(script, "--no-cache") {
			problems = append(problems, c.String()+": apk add without --no-cache")
		}
		problems = append(problems, unsortedLists(script)...)
	case *instructions.CopyCommand:
		for _, src := range c.SourcePaths {
			if c.From == "" && !slices.ContainsFunc([]string{"common/", "apache/", "fpm-alpine/", "tests/"}, func(dir string) bool { return strings.HasPrefix(src, dir) }) {
				problems = append(problems, fmt.Sprintf("%s copies %s: only this project's files belong here, Stud.IP comes later", c.String(), src))
			}
		}
	}
	return problems
}

func unsortedLists(script string) []string {
	var problems, list []string
	flush := func() {
		if !slices.IsSorted(list) {
			problems = append(problems, fmt.Sprintf("package list not sorted: %v", list))
		}
		list = nil
	}
	for _, line := range strings.Split(script, "\n") {
		if m := packageLine.FindStringSubmatch(line); m != nil {
			list = append(list, m[1])
			continue
		}
		flush()
	}
	flush()
	return problems
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	dt, err := os.ReadFile(filepath.FromSlash(name))
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

// TestDockerfileRuntimeForAnyUser: the runtime stages are what a user other than root and a
// read-only root filesystem need: the tree's two config files in place before the pipeline
// adds the tree, and the data directory the web server's, writable by group 0; the apache
// image listens on STUDIP_HTTP_PORT (80 by default) through its ports.conf.
func TestDockerfileRuntimeForAnyUser(t *testing.T) {
	for _, name := range runtimeDockerfiles {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			stages := parseStages(t, readFile(t, name))
			commands := inheritedCommands(stages, len(stages)-1)
			copied := map[string]string{} // source -> destination
			env := map[string]string{}
			var runs []string
			for _, cmd := range commands {
				switch c := cmd.(type) {
				case *instructions.CopyCommand:
					for _, src := range c.SourcePaths {
						copied[src] = c.DestPath
					}
				case *instructions.EnvCommand:
					for _, kv := range c.Env {
						env[kv.Key] = kv.Value
					}
				case *instructions.RunCommand:
					runs = append(runs, strings.Join(c.CmdLine, " "))
				}
			}
			want := map[string]string{
				"common/config_local.inc.php": "/var/www/studip/config/",
				"common/config.inc.php":       "/var/www/studip/config/",
			}
			if path.Dir(name) == "apache" {
				want["apache/ports.conf"] = "/etc/apache2/ports.conf"
				if env["STUDIP_HTTP_PORT"] != "80" {
					t.Errorf("STUDIP_HTTP_PORT is %q, want 80", env["STUDIP_HTTP_PORT"])
				}
			}
			for src, dest := range want {
				if copied[src] != dest {
					t.Errorf("%s is copied to %q, want %s", src, copied[src], dest)
				}
			}
			all := strings.Join(runs, "\n")
			for _, step := range []string{"chown www-data:root /var/www/studip/data", "chmod 2775 /var/www/studip/data"} {
				if !strings.Contains(all, step) {
					t.Errorf("no RUN does %q", step)
				}
			}
		})
	}
}
