package docs

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// envDockerfiles are the Dockerfiles whose ENV lines give the defaults of the variables that
// defaultFromENV names.
var envDockerfiles = []string{"apache/Dockerfile", "fpm-alpine/Dockerfile", "tests/Dockerfile"}

// defaultFromENV says whether a variable's default is an ENV line of the Dockerfiles rather
// than a fallback in a script: the PHP_* settings (studip.ini cannot default them) and
// Apache's port.
func defaultFromENV(name string) bool {
	return strings.HasPrefix(name, "PHP_") || name == "STUDIP_HTTP_PORT"
}

// TestEnvironmentDefaults checks that the default column of the table of environment
// variables says what the Dockerfiles' ENV lines set, for the variables defaultFromENV names.
func TestEnvironmentDefaults(t *testing.T) {
	envs := map[string]map[string]string{}
	for _, file := range envDockerfiles {
		envs[file] = testutil.DockerfileEnv(t, filepath.Join("../dockerfiles", file))
	}
	for _, p := range defaultProblems(loadDefaults(t), envs) {
		t.Error(p)
	}
}

// TestEnvironmentDefaultsCatches shows that the check fails when a Dockerfile and the table
// disagree, with the Dockerfiles changed as a new default would change them.
func TestEnvironmentDefaultsCatches(t *testing.T) {
	defaults := loadDefaults(t)
	tests := []struct {
		name  string
		edit  map[string][2]string // Dockerfile -> {old, new} text
		rows  map[string]string    // table default set (variable -> default), "" drops the row
		wants []string             // each must occur in a problem; none: no problem
	}{
		{name: "the images as they are"},
		{
			name:  "a Dockerfile raises a limit the table does not",
			edit:  map[string][2]string{"fpm-alpine/Dockerfile": {"PHP_MEMORY_LIMIT=256M", "PHP_MEMORY_LIMIT=512M"}},
			wants: []string{"PHP_MEMORY_LIMIT: the table's default is `256M`, dockerfiles/fpm-alpine/Dockerfile sets 512M"},
		},
		{
			name:  "the table changes a default the Dockerfiles keep",
			rows:  map[string]string{"STUDIP_HTTP_PORT": "`8080`"},
			wants: []string{"STUDIP_HTTP_PORT: the table's default is `8080`, dockerfiles/apache/Dockerfile sets 80"},
		},
		{
			name:  "a Dockerfile sets a new PHP setting the table lacks",
			edit:  map[string][2]string{"tests/Dockerfile": {"PHP_OPCACHE_REVALIDATE_FREQ=2", "PHP_OPCACHE_REVALIDATE_FREQ=2 PHP_REALPATH_CACHE_SIZE=4M"}},
			wants: []string{"PHP_REALPATH_CACHE_SIZE is set by dockerfiles/tests/Dockerfile (4M) but has no row"},
		},
		{
			name:  "the table gives a default no Dockerfile sets",
			rows:  map[string]string{"PHP_POST_LIMIT": "`8M`"},
			wants: []string{"PHP_POST_LIMIT: the table's default is `8M`, but no Dockerfile sets it"},
		},
		{
			name:  "a default set by the image and no value in the table",
			rows:  map[string]string{"PHP_MAX_EXECUTION_TIME": "set by the image"},
			wants: []string{"PHP_MAX_EXECUTION_TIME: the table's default is \"set by the image\", dockerfiles/apache/Dockerfile sets 300"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			envs := map[string]map[string]string{}
			for _, file := range envDockerfiles {
				data, err := os.ReadFile(filepath.Join("../dockerfiles", file))
				if err != nil {
					t.Fatal(err)
				}
				text := string(data)
				if e, ok := tt.edit[file]; ok {
					if !strings.Contains(text, e[0]) {
						t.Fatalf("dockerfiles/%s has no %q to change", file, e[0])
					}
					text = strings.Replace(text, e[0], e[1], 1)
				}
				path := filepath.Join(dir, strings.ReplaceAll(file, "/", "-"))
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				envs[file] = testutil.DockerfileEnv(t, path)
			}
			rows := maps.Clone(defaults)
			for name, def := range tt.rows {
				if def == "" {
					delete(rows, name)
				} else {
					rows[name] = def
				}
			}
			problems := defaultProblems(rows, envs)
			if len(tt.wants) == 0 && len(problems) > 0 {
				t.Errorf("want no problem, got:\n%s", strings.Join(problems, "\n"))
			}
			for _, want := range tt.wants {
				if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
					t.Errorf("want a problem with %q, got:\n%s", want, strings.Join(problems, "\n"))
				}
			}
		})
	}
}

// defaultProblems compares the table's default column (variable -> its text) with what the
// Dockerfiles' ENV lines set (Dockerfile -> variable -> value), for the variables
// defaultFromENV names, and says what to change.
func defaultProblems(defaults map[string]string, envs map[string]map[string]string) []string {
	var problems []string
	setBy := map[string]bool{}
	for _, file := range slices.Sorted(maps.Keys(envs)) {
		env := envs[file]
		for _, name := range slices.Sorted(maps.Keys(env)) {
			if !defaultFromENV(name) {
				continue
			}
			setBy[name] = true
			def, ok := defaults[name]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s: %s is set by dockerfiles/%s (%s) but has no row in the table of environment variables: add one with the default `%s`",
					contractPath, name, file, env[name], env[name]))
			case defaultValue(def) != env[name]:
				problems = append(problems, fmt.Sprintf("%s: %s: the table's default is %s, dockerfiles/%s sets %s: make them agree",
					contractPath, name, quoteDefault(def), file, env[name]))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(defaults)) {
		if defaultFromENV(name) && !setBy[name] {
			problems = append(problems, fmt.Sprintf("%s: %s: the table's default is %s, but no Dockerfile sets it with ENV (%s)",
				contractPath, name, quoteDefault(defaults[name]), strings.Join(envDockerfiles, ", ")))
		}
	}
	return problems
}

var backticked = regexp.MustCompile("`([^`]*)`")

// defaultValue is the value a default column gives: its first `code` span, or "" when it
// names none ("(required)", "set by the image").
func defaultValue(column string) string {
	if m := backticked.FindStringSubmatch(column); m != nil {
		return m[1]
	}
	return ""
}

func quoteDefault(column string) string {
	if v := defaultValue(column); v != "" {
		return "`" + v + "`"
	}
	return fmt.Sprintf("%q", column)
}

// loadDefaults reads the default column of the table of environment variables: variable ->
// the column's text.
func loadDefaults(t *testing.T) map[string]string {
	t.Helper()
	defaults := map[string]string{}
	for _, line := range strings.Split(tableSection(t), "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) < 4 {
			continue
		}
		name := strings.TrimSpace(cells[0])
		if !strings.HasPrefix(name, "`") || !strings.HasSuffix(name, "`") {
			continue
		}
		defaults[strings.Trim(name, "`")] = strings.TrimSpace(cells[1])
	}
	if len(defaults) == 0 {
		t.Fatalf("%s: the section \"Environment variables\" has no table rows", contractPath)
	}
	return defaults
}
