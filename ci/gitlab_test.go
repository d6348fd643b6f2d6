package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
	"gitlab.studip.de/studip/docker/upstream"
)

// The child pipeline itself is tested in package gitlabci; these tests cover the command:
// its flags reach the pipeline, and bad input exits 2.
func TestGitLab(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		golden   string // stdout
		wantErr  string // in stderr
	}{
		{name: "publish one target", args: []string{"--file", "testdata/versions.yaml", "--command", "publish", "--version", "6.0", "--base", "apache"},
			golden: "gitlab-publish.yml"},
		{name: "test on one platform", args: []string{"-f", "testdata/versions.yaml", "--version", "5.4", "--platform", "linux/amd64"},
			golden: "gitlab-test.yml"},
		{name: "unknown command", args: []string{"-f", "testdata/versions.yaml", "--command", "build"}, wantCode: 2,
			wantErr: `ci gitlab: --command: unknown command "build" (known: test, publish)`},
		{name: "filter matching nothing", args: []string{"-f", "testdata/versions.yaml", "--version", "7.0"}, wantCode: 2,
			wantErr: "ci gitlab: --version 7.0 matches no target"},
		{name: "publish on one platform", args: []string{"-f", "testdata/versions.yaml", "--command", "publish", "--platform", "linux/amd64"}, wantCode: 2,
			wantErr: "ci gitlab: --platform: publish pushes every platform of a target"},
		{name: "stray argument", args: []string{"publish"}, wantCode: 2, wantErr: `ci gitlab: unexpected argument "publish"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCI(t, nil, append([]string{"gitlab"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
			if tt.golden != "" {
				golden(t, tt.golden, stdout)
			} else if stdout != "" {
				t.Errorf("stdout %q, want nothing on failure", stdout)
			}
		})
	}
}

// countingRemote counts the refs that ci gitlab asks the repository for.
type countingRemote struct {
	upstream.Git
	asked *[]string
}

func (r countingRemote) Commit(ctx context.Context, ref string) (string, error) {
	*r.asked = append(*r.asked, ref)
	return r.Git.Commit(ctx, ref)
}

// A publish pipeline pins each version to the commit its ref names now, asking once per
// ref however many bases and platforms the version has: every platform job and the
// assemble job build that commit. A test pipeline asks nothing; a ref the repository lacks
// fails the generate job, naming it and the repository.
func TestGitLabPinsSources(t *testing.T) {
	url := studipRepo(t)
	v603, err := upstream.Git{URL: url}.Commit(context.Background(), "v6.0.3")
	if err != nil {
		t.Fatal(err)
	}
	gitlab := func(args ...string) (int, string, string, []string) {
		var asked []string
		var out, errOut testutil.Buffer
		e := &env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" },
			remote: func(string) upstream.Resolver { return countingRemote{upstream.Git{URL: url}, &asked} }}
		code := run(context.Background(), append([]string{"gitlab", "-f", "testdata/versions.yaml"}, args...), e)
		return code, out.String(), errOut.String(), asked
	}

	code, stdout, stderr, asked := gitlab("--command", "publish", "--version", "6.0")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !slices.Equal(asked, []string{"v6.0.3"}) {
		t.Errorf("asked for %q, want v6.0.3 once for both bases", asked)
	}
	var jobs int
	for _, line := range strings.Split(stdout, "\n") {
		if strings.Contains(line, "./ci publish") {
			jobs++
			if !strings.Contains(line, " --ref-commit 6.0.3="+v603+" ") {
				t.Errorf("job builds no pinned commit %s: %s", v603, line)
			}
		}
	}
	if jobs != 3 {
		t.Errorf("%d publish jobs, want two platform jobs and the assemble job:\n%s", jobs, stdout)
	}

	if code, _, stderr, asked := gitlab("--version", "6.0"); code != 0 || len(asked) != 0 {
		t.Errorf("a test pipeline: exit %d, asked for %q; want no refs resolved\n%s", code, asked, stderr)
	}

	code, stdout, stderr, _ = gitlab("--command", "publish", "--version", "5.4")
	if want := "ci gitlab: pinning the source of 5.4.11: resolving v5.4.11 of " + url + ": no such branch or tag"; code != 1 || !strings.Contains(stderr, want) || stdout != "" {
		t.Errorf("a missing tag: exit %d, stdout %q, stderr:\n%s\nwant exit 1 and %q", code, stdout, stderr, want)
	}
}
