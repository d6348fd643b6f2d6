package pipelines

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// The Dockerfiles against what the smoke test assumes of them: the test images' against the
// one list of tools Stud.IP's CI needs (ciTools), which the smoke test runs in every test
// image too; the runtimes' ENTRYPOINT and CMD, which it runs itself.

const testImageDockerfile = "../dockerfiles/tests/Dockerfile"

// lastStage parses the Dockerfile at path (or dt, if given) and returns its last stage.
func lastStage(t *testing.T, path string, dt []byte) instructions.Stage {
	t.Helper()
	ast, err := parser.Parse(strings.NewReader(string(dt)))
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatalf("parsing the instructions of %s: %v", path, err)
	}
	return stages[len(stages)-1]
}

func readDockerfile(t *testing.T, path string) []byte {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

// TestServerCommands: the smoke test starts each base's server as its image would.
func TestServerCommands(t *testing.T) {
	for base, want := range serverCommands {
		path := "../dockerfiles/" + string(base) + "/Dockerfile"
		var command []string
		for _, cmd := range lastStage(t, path, readDockerfile(t, path)).Commands {
			switch c := cmd.(type) {
			case *instructions.EntrypointCommand:
				command = slices.Clone(c.CmdLine)
			case *instructions.CmdCommand:
				command = append(command, c.CmdLine...)
			}
		}
		if !slices.Equal(command, want) {
			t.Errorf("%s: ENTRYPOINT and CMD %q, but the smoke test runs %q", path, command, want)
		}
	}
}

// packageLine is one package of an install list, one a line as the Dockerfiles write them.
var packageLine = regexp.MustCompile(`^\s+([a-z0-9][a-z0-9.+-]*) *\\$`)

// missingTools names the ciTools that the Dockerfile dt provides neither by a Debian
// package it installs (apt-get install) nor by a file it copies from another stage.
func missingTools(t *testing.T, dt []byte) []string {
	t.Helper()
	lines := strings.Split(string(dt), "\n")
	var provided []string
	for _, cmd := range lastStage(t, testImageDockerfile, dt).Commands {
		switch c := cmd.(type) {
		case *instructions.RunCommand:
			var src []string
			for _, r := range c.Location() {
				src = append(src, lines[r.Start.Line-1:r.End.Line]...)
			}
			if !strings.Contains(strings.Join(src, "\n"), "apt-get install") {
				continue
			}
			for _, line := range src {
				if m := packageLine.FindStringSubmatch(line); m != nil {
					provided = append(provided, m[1])
				}
			}
		case *instructions.CopyCommand:
			if c.From != "" {
				provided = append(provided, c.DestPath)
			}
		}
	}
	var missing []string
	for _, tool := range ciTools {
		if !slices.Contains(provided, tool.from) {
			missing = append(missing, strings.Fields(tool.command)[0]+" ("+tool.from+")")
		}
	}
	return missing
}

func TestTestImageDockerfileHasCITools(t *testing.T) {
	dt := readDockerfile(t, testImageDockerfile)
	if missing := missingTools(t, dt); missing != nil {
		t.Errorf("%s does not install what Stud.IP's CI calls: %s", testImageDockerfile, strings.Join(missing, ", "))
	}
	// The check sees a tool dropped from the install list, or a copy dropped.
	for _, drop := range []struct{ line, want string }{
		{"        make \\\n", "make (make)"},
		{"        zip \\\n", "zip (zip)"},
		{"COPY --from=composer /usr/bin/composer /usr/local/bin/composer\n", "composer (/usr/local/bin/composer)"},
	} {
		if !strings.Contains(string(dt), drop.line) {
			t.Fatalf("%s has no line %q to drop", testImageDockerfile, drop.line)
		}
		without := strings.Replace(string(dt), drop.line, "", 1)
		if missing := missingTools(t, []byte(without)); !slices.Equal(missing, []string{drop.want}) {
			t.Errorf("without %q: missing %q, want %q", drop.line, missing, drop.want)
		}
	}
}
