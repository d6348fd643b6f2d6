package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// today is the day the commands run on in tests, so that what ci check warns of is known.
var today = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// runCI runs a ci command in process, as `go run ./ci args...` would, with the given
// environment variables and no others, on the day today.
func runCI(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }, now: func() time.Time { return today }}
	code = run(context.Background(), args, e)
	return code, out.String(), errOut.String()
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name), []byte(got))
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "no command", args: nil, wantCode: 2, wantErr: "usage: go run ./ci <command>"},
		{name: "help", args: []string{"-h"}, wantCode: 0, wantErr: "  plan     print the targets and their tags"},
		{name: "unknown command", args: []string{"deploy"}, wantCode: 2, wantErr: `ci: unknown command "deploy"`},
		{name: "command help", args: []string{"plan", "-h"}, wantCode: 0, wantErr: "--json"},
		{name: "unknown flag", args: []string{"plan", "--jsn"}, wantCode: 2, wantErr: "ci plan: unknown flag: --jsn"},
		{name: "stray argument", args: []string{"check", "extra"}, wantCode: 2, wantErr: `ci check: unexpected argument "extra"`},
		{name: "bad base", args: []string{"plan", "-f", "testdata/versions.yaml", "--base", "nginx"}, wantCode: 2,
			wantErr: `ci plan: --base: unknown base "nginx" (known: apache, fpm-alpine)`},
		{name: "bad platform", args: []string{"plan", "-f", "testdata/versions.yaml", "--platform", "arm64"}, wantCode: 2,
			wantErr: `ci plan: --platform: platform "arm64" is not os/arch[/variant], e.g. linux/amd64`},
		{name: "filter matching nothing", args: []string{"plan", "-f", "testdata/versions.yaml", "--version", "5.3"}, wantCode: 2,
			wantErr: "ci plan: --version 5.3 matches no target (known: nightly, 6.1.0-beta.1, 6.0, 5.5, 5.4, tests, tests-php8.4, tests-php8.3, tests-php8.2, tests-php8.1, tests-php7.4)"},
		{name: "missing file", args: []string{"plan", "-f", "testdata/nope.yaml"}, wantCode: 1,
			wantErr: "ci plan: reading versions file: open testdata/nope.yaml: no such file or directory"},
		{name: "bad SOURCE_DATE_EPOCH", args: []string{"plan", "-f", "testdata/versions.yaml"}, wantCode: 2,
			wantErr: `SOURCE_DATE_EPOCH="soon" is not a number of seconds since 1970`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{}
			if tt.name == "bad SOURCE_DATE_EPOCH" {
				vars["SOURCE_DATE_EPOCH"] = "soon"
			}
			code, _, stderr := runCI(t, vars, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
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
