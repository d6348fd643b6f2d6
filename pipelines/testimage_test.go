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

// The test images' Dockerfile against the one list of tools Stud.IP's CI needs (ciTools),
// which the smoke test runs in every test image too.

const testImageDockerfile = "../dockerfiles/tests/Dockerfile"

// packageLine is one package of an install list, one a line as the Dockerfiles write them.
var packageLine = regexp.MustCompile(`^\s+([a-z0-9][a-z0-9.+-]*) *\\$`)

// missingTools names the ciTools that the Dockerfile dt provides neither by a Debian
// package it installs (apt-get install) nor by a file it copies from another stage.
func missingTools(t *testing.T, dt []byte) []string {
	t.Helper()
	ast, err := parser.Parse(strings.NewReader(string(dt)))
	if err != nil {
		t.Fatalf("parsing %s: %v", testImageDockerfile, err)
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatalf("parsing the instructions of %s: %v", testImageDockerfile, err)
	}
	lines := strings.Split(string(dt), "\n")
	var provided []string
	for _, cmd := range stages[len(stages)-1].Commands {
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
	dt, err := os.ReadFile(testImageDockerfile)
	if err != nil {
		t.Fatal(err)
	}
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
