package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
	"gitlab.studip.de/studip/docker/upstream"
)

// today is the day the commands run on in tests, so that what ci check warns of is known.
var today = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// runCI runs a ci command in process, as `go run ./ci args...` would, with the given
// environment variables and no others, on the day today.
func runCI(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut testutil.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }, now: func() time.Time { return today },
		remote: studipRemote(t)}
	code = run(context.Background(), args, e)
	return code, out.String(), errOut.String()
}

// studipRemote answers for every git URL from one local bare repository shaped like
// Stud.IP's (studipRepo: main, v5.5.8, v6.0, v6.0.3), made on first use, as git would.
func studipRemote(t *testing.T) func(string) upstream.Resolver {
	repo := sync.OnceValue(func() string { return studipRepo(t) })
	return func(string) upstream.Resolver { return upstream.Git{URL: repo()} }
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name), []byte(got))
}

func TestUsage(t *testing.T) {
	const fixture = "testdata/versions.yaml"
	known := "(known: nightly, 6.1.0-beta.1, 6.0, 5.5, 5.4, tests, tests-php8.4, tests-php8.3, tests-php8.2, tests-php8.1, tests-php7.4)"
	tests := []struct {
		name     string
		vars     map[string]string
		args     []string
		wantCode int
		wantOut  string // in stdout; stderr must then be empty
		wantErr  string // in stderr; stdout must then be empty
	}{
		{name: "no command", args: nil, wantCode: 2, wantErr: "usage: go run ./ci <command>"},
		{name: "-h", args: []string{"-h"}, wantOut: "  plan     print the targets and their tags"},
		{name: "--help", args: []string{"--help"}, wantOut: "  plan     print the targets and their tags"},
		{name: "help", args: []string{"help"}, wantOut: "  plan     print the targets and their tags"},
		{name: "help for a command", args: []string{"help", "plan"}, wantOut: "usage: go run ./ci plan [--file F]"},
		{name: "help for an unknown command", args: []string{"help", "deploy"}, wantCode: 2, wantErr: `ci: unknown command "deploy"`},
		{name: "help for two commands", args: []string{"help", "plan", "check"}, wantCode: 2, wantErr: `ci help: want one command, got ["plan" "check"]`},
		{name: "unknown command", args: []string{"deploy"}, wantCode: 2, wantErr: `ci: unknown command "deploy"`},
		{name: "command -h", args: []string{"plan", "-h"}, wantOut: "--json"},
		{name: "command --help", args: []string{"build", "--help"}, wantOut: "--export"},
		{name: "unknown flag", args: []string{"plan", "--jsn"}, wantCode: 2, wantErr: "ci plan: unknown flag: --jsn"},
		{name: "stray argument", args: []string{"check", "extra"}, wantCode: 2, wantErr: `ci check: unexpected argument "extra"`},
		{name: "bad base", args: []string{"plan", "-f", fixture, "--base", "nginx"}, wantCode: 2,
			wantErr: `ci plan: --base: unknown base "nginx" (known: apache, fpm-alpine)`},
		{name: "bad platform", args: []string{"plan", "-f", fixture, "--platform", "arm64"}, wantCode: 2,
			wantErr: `ci plan: --platform: platform "arm64" is not os/arch[/variant], e.g. linux/amd64`},
		{name: "empty version", args: []string{"plan", "-f", fixture, "--version", ""}, wantCode: 2,
			wantErr: "ci plan: --version: an empty value selects nothing; name one, e.g. --version 6.0, or leave the flag out for all"},
		{name: "empty version in a list", args: []string{"plan", "-f", fixture, "--version", "6.0,"}, wantCode: 2,
			wantErr: "ci plan: --version: an empty value selects nothing"},
		{name: "empty base", args: []string{"gitlab", "-f", fixture, "--base="}, wantCode: 2,
			wantErr: "ci gitlab: --base: an empty value selects nothing; name one, e.g. --base apache"},
		{name: "blank platform", args: []string{"plan", "-f", fixture, "--platform", " "}, wantCode: 2,
			wantErr: "ci plan: --platform: an empty value selects nothing"},
		{name: "version matching nothing", args: []string{"plan", "-f", fixture, "--version", "5.3"}, wantCode: 2,
			wantErr: "ci plan: --version 5.3 matches no target " + known},
		{name: "filters matching nothing together", args: []string{"plan", "-f", fixture, "--version", "6.1", "--base", "fpm-alpine"}, wantCode: 2,
			wantErr: "ci plan: --version and --base together match no target"},
		{name: "bad SOURCE_DATE_EPOCH", vars: map[string]string{"SOURCE_DATE_EPOCH": "soon"}, args: []string{"plan", "-f", fixture}, wantCode: 2,
			wantErr: `SOURCE_DATE_EPOCH="soon" is not a number of seconds since 1970`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCI(t, tt.vars, tt.args...)
			out, want, other := stdout, tt.wantOut, stderr
			if tt.wantErr != "" {
				out, want, other = stderr, tt.wantErr, stdout
			}
			if code != tt.wantCode || !strings.Contains(out, want) || other != "" {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d and %q, and nothing on the other stream", code, stdout, stderr, tt.wantCode, want)
			}
		})
	}
}

// A --file that is no versions file is bad input (exit 2), told as FILE: what is wrong,
// then what to do.
func TestCheckFile(t *testing.T) {
	dir := t.TempDir()
	large := filepath.Join(dir, "large.yaml")
	if err := os.WriteFile(large, bytes.Repeat([]byte("# not a versions file\n"), 50_000), 0o644); err != nil {
		t.Fatal(err)
	}
	long := filepath.Join(dir, "long.yaml")
	content := "repository: docker.io/studip/studip\nsource: https://gitlab.studip.de/studip/studip.git\n" +
		"platforms: [linux/amd64]\nbases: [apache]\nversions:\n" + strings.Repeat("  - {version: 1.0.0}\n", 1001)
	if err := os.WriteFile(long, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		want []string // the lines of stderr
	}{
		{name: "missing", file: "testdata/nope.yaml", want: []string{
			"testdata/nope.yaml: no such file or directory",
			"ci check: name the versions file with --file (default: versions.yaml in the current directory)"}},
		{name: "a directory", file: "testdata", want: []string{
			"testdata: is a directory, not a versions file",
			"ci check: name the versions file with --file (default: versions.yaml in the current directory)"}},
		{name: "larger than 1 MiB", file: large, want: []string{
			large + ": the file is larger than 1024 KiB, the most a versions file may be; is it the right file?",
			"ci check: " + large + " has 1 problem(s); fix them and rerun"}},
		{name: "more than 1000 entries", file: long, want: []string{
			long + ":6: versions lists 1001 entries, more than the 1000 a versions file may hold; is it the right file?",
			"ci check: " + long + " has 1 problem(s); fix them and rerun"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCI(t, nil, "check", "--file", tt.file)
			if got := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); code != 2 || stdout != "" || !slices.Equal(got, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and:\n%s", code, stdout, stderr, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestCheck(t *testing.T) {
	code, stdout, stderr := runCI(t, nil, "check", "--file", "testdata/versions.yaml")
	// A valid file on lines past their end of life (on the day today): warnings, exit 0.
	wantWarnings := strings.Join([]string{
		"testdata/versions.yaml:17: warning: entry 5.5.8: Node 20 reached its end of life on 2026-04-30",
		"testdata/versions.yaml:20: warning: entry 5.4.11: PHP 7.4 reached its end of life on 2022-11-28",
		"testdata/versions.yaml:20: warning: entry 5.4.11: Node 20 reached its end of life on 2026-04-30",
		"testdata/versions.yaml:31: warning: test image php 8.1: PHP 8.1 reached its end of life on 2025-12-31",
		"testdata/versions.yaml:32: warning: test image php 7.4: PHP 7.4 reached its end of life on 2022-11-28",
	}, "\n") + "\n"
	if code != 0 || stdout != "testdata/versions.yaml: ok (5 entries, 5 test images, 14 targets)\n" || stderr != wantWarnings {
		t.Errorf("valid file: exit %d, stdout %q, stderr:\n%s\nwant:\n%s", code, stdout, stderr, wantWarnings)
	}
	// Every problem at once, each with file:line, exit 2 (the input is bad).
	code, stdout, stderr = runCI(t, nil, "check", "--file", "../versions/testdata/check/many-problems.yaml")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 2 || stdout != "" || len(lines) != 6 ||
		lines[0] != `../versions/testdata/check/many-problems.yaml:3: platform "linux" is not os/arch[/variant], e.g. linux/amd64` ||
		lines[5] != "ci check: ../versions/testdata/check/many-problems.yaml has 5 problem(s); fix them and rerun" {
		t.Errorf("invalid file: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

func TestCheckShippedVersionsFile(t *testing.T) {
	if code, _, stderr := runCI(t, nil, "check", "--file", "../versions.yaml"); code != 0 {
		t.Errorf("the shipped versions.yaml fails ci check (exit %d):\n%s", code, stderr)
	}
}

func TestPlanGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{name: "plan.txt", args: nil},
		{name: "plan.json", args: []string{"--json"}},
		{name: "plan-filtered.txt", args: []string{"--version", "6.0", "--version", "nightly", "--base", "fpm-alpine", "--platform", "linux/arm64"}},
		{name: "plan-filtered.json", args: []string{"--version", "5.4,tests-php8.2", "--json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCI(t, nil, append([]string{"plan", "--file", "testdata/versions.yaml"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden(t, tt.name, stdout)
		})
	}
}
