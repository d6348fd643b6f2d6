package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/gitlabapi/gitlabapitest"
	"gitlab.studip.de/studip/docker/internal/testutil"
	"gitlab.studip.de/studip/docker/upstream/upstreamtest"
)

// outdatedDay is the day the tests judge end of life on: PHP 8.1 and Node 20 have ended.
var outdatedDay = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// studipRepo is a bare repository with the tags of ci/testdata/release-versions.yaml's lines,
// plus what is new: the patch v6.0.4, the line v6.1 with other requirements, and a
// pre-release of 6.2 that must not be proposed.
func studipRepo(t *testing.T, extra ...upstreamtest.Tag) string {
	testutil.LookTool(t, "git")
	tags := []upstreamtest.Tag{
		upstreamtest.Line55.As("v5.5.8"),
		upstreamtest.Line60.As("v6.0"),
		upstreamtest.Line60.As("v6.0.3"),
	}
	return upstreamtest.Repo(t, append(tags, extra...)...)
}

var releaseFixtureData = sync.OnceValues(func() ([]byte, error) { return os.ReadFile("testdata/release-versions.yaml") })

// releaseFixture is the versions file of the release tests, read before any test changes
// directory.
func releaseFixture(t *testing.T) []byte {
	t.Helper()
	data, err := releaseFixtureData()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var newReleases = []upstreamtest.Tag{
	upstreamtest.Line60.As("v6.0.4"),
	{Name: "v6.1", PHP: "^8.2", Platform: "8.2", Node: ">=20 <25", Annotated: true,
		Lock: map[string]string{"ezyang/htmlpurifier": "~7.4.0 || ~8.0.0 || ~8.1.0 || ~8.2.0 || ~8.3.0", "nette/utils": "8.0 - 8.4"}},
	{Name: "v6.2.beta", PHP: "^8.4", Node: ">=24", Annotated: true},
}

// outdatedFile writes the release fixture with its source set to url and returns its path.
func outdatedFile(t *testing.T, dir, url string) string {
	t.Helper()
	data := bytes.Replace(releaseFixture(t), []byte("https://gitlab.studip.de/studip/studip.git"), []byte(url), 1)
	path := filepath.Join(dir, "versions.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runOutdatedOn runs `ci outdated args...` on outdatedDay, with vars as its environment.
func runOutdatedOn(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }, now: func() time.Time { return outdatedDay }}
	code = run(context.Background(), append([]string{"outdated"}, args...), e)
	return code, out.String(), errOut.String()
}

func TestOutdated(t *testing.T) {
	tests := []struct {
		name     string
		tags     []upstreamtest.Tag
		vars     map[string]string
		args     []string
		wantCode int
		golden   string // stdout, with the repository's URL written as SOURCE
		wantErr  string
		changed  bool // the file is edited
	}{
		{name: "up to date", args: nil, golden: "outdated-up-to-date.txt",
			tags: []upstreamtest.Tag{{Name: "v6.1.0-rc.1", PHP: "^8.2", Node: ">=20", Annotated: true}}},
		{name: "behind", tags: newReleases, wantCode: 1, golden: "outdated-behind.txt",
			wantErr: "ci outdated: versions.yaml is behind on 2 release(s)"},
		{name: "apply", tags: newReleases, args: []string{"--apply"}, wantCode: 1, golden: "outdated-apply.txt",
			wantErr: "ci outdated: versions.yaml is behind on 2 release(s)", changed: true},
		{name: "merge request without apply", tags: newReleases, args: []string{"--merge-request"}, wantCode: 2,
			wantErr: "ci outdated: --merge-request proposes the edit of --apply; pass both"},
		{name: "merge request without its variables", tags: newReleases, args: []string{"--apply", "--merge-request"}, wantCode: 2,
			wantErr: "ci outdated: --merge-request needs CI_API_V4_URL, CI_PROJECT_ID, CI_DEFAULT_BRANCH, STUDIP_BOT_TOKEN"},
		// Refused before the file is edited: the absolute path names no file of the repository.
		{name: "merge request of a file outside the repository", tags: newReleases, args: []string{"--apply", "--merge-request"}, wantCode: 2,
			vars:    map[string]string{"CI_API_V4_URL": "https://gitlab.example/api/v4", "CI_PROJECT_ID": "7", "CI_DEFAULT_BRANCH": "main", "STUDIP_BOT_TOKEN": "t"},
			wantErr: "ci outdated: --merge-request: --file versions.yaml must be a path inside the repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := studipRepo(t, tt.tags...)
			dir := t.TempDir()
			path := outdatedFile(t, dir, url)
			before, _ := os.ReadFile(path)
			code, stdout, stderr := runOutdatedOn(t, tt.vars, append([]string{"--file", path}, tt.args...)...)
			stdout, stderr = strings.ReplaceAll(stdout, path, "versions.yaml"), strings.ReplaceAll(stderr, path, "versions.yaml")
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) || tt.wantErr == "" && stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
			if tt.golden != "" {
				golden(t, tt.golden, strings.ReplaceAll(stdout, url, "SOURCE"))
			}
			after, _ := os.ReadFile(path)
			if changed := !bytes.Equal(before, after); changed != tt.changed {
				t.Errorf("file changed: %v, want %v:\n%s", changed, tt.changed, after)
			}
			if tt.changed {
				for _, want := range []string{"  - version: 6.1.0\n    php: \"8.3\"\n    node: \"24\"\n", "  - version: 6.0.4   # the current line\n"} {
					if !strings.Contains(string(after), want) {
						t.Errorf("the edited file lacks %q:\n%s", want, after)
					}
				}
			}
		})
	}
}

func TestOutdatedErrorsExitTwo(t *testing.T) {
	dir := t.TempDir()
	path := outdatedFile(t, dir, "file://"+filepath.Join(dir, "no-such-repository.git"))
	code, _, stderr := runOutdatedOn(t, nil, "--file", path)
	if code != 2 || !strings.Contains(stderr, "ci outdated: listing the tags of file://") {
		t.Errorf("exit %d, stderr %s; want 2 and the failed listing", code, stderr)
	}
}

// The scheduled job's run: --apply --merge-request opens the merge request once; a second
// run for the same change leaves it as it is; when up to date, the API is not called at
// all. The token is in no output.
func TestOutdatedMergeRequest(t *testing.T) {
	const token = "glpat-bot-token-5678"
	fixture := releaseFixture(t)
	gitlab := gitlabapitest.New(t, "7", token, map[string]string{"versions.yaml": string(fixture)})
	vars := map[string]string{"CI_API_V4_URL": gitlab.API(), "CI_PROJECT_ID": "7", "CI_DEFAULT_BRANCH": "main", "STUDIP_BOT_TOKEN": token}
	url := studipRepo(t, newReleases...)
	upToDate := studipRepo(t)
	// The job runs in the repository's root, with the default --file versions.yaml.
	dir := t.TempDir()
	t.Chdir(dir)

	schedule := func(wantOut string) {
		t.Helper()
		outdatedFile(t, dir, url) // a fresh checkout of main
		code, stdout, stderr := runOutdatedOn(t, vars, "--apply", "--merge-request")
		if code != 0 || !strings.Contains(stdout, wantOut) {
			t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0 and %q", code, stdout, stderr, wantOut)
		}
		if strings.Contains(stdout+stderr, token) {
			t.Errorf("the output holds the token:\n%s%s", stdout, stderr)
		}
	}
	schedule("Opened merge request !1")
	schedule("Merge request !1 ")
	mrs := gitlab.MergeRequests()
	if len(mrs) != 1 {
		t.Fatalf("%d merge requests, want 1: %+v", len(mrs), mrs)
	}
	mr := mrs[0]
	branch := "studip-outdated/6.1.0-6.0.4"
	if mr.SourceBranch != branch || mr.TargetBranch != "main" || mr.Title != "versions: Stud.IP 6.1.0 (new line), 6.0.4" {
		t.Errorf("merge request %s -> %s %q", mr.SourceBranch, mr.TargetBranch, mr.Title)
	}
	for _, want := range []string{"6.1: new line 6.1.0 (tag v6.1), php 8.3, node 24", "latest: 6.0.3 -> 6.1.0", "STUDIP_VERSION=X.Y.Z"} {
		if !strings.Contains(mr.Description, want) {
			t.Errorf("description lacks %q:\n%s", want, mr.Description)
		}
	}
	if n := gitlab.Commits(branch); n != 1 {
		t.Errorf("%d commits on %s, want 1 (the second run changes nothing)", n, branch)
	}
	edited, err := os.ReadFile(filepath.Join(dir, "versions.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := gitlab.File(branch, "versions.yaml"); got != string(edited) || !strings.Contains(got, "  - version: 6.0.4") {
		t.Errorf("the branch's versions.yaml:\n%s\nwant the edit of the checked-out file:\n%s", got, edited)
	}
	for _, r := range gitlab.Requests() {
		if r.Header.Get("PRIVATE-TOKEN") != token || strings.Contains(r.URL+r.Body, token) {
			t.Errorf("%s %s: the token must travel in the PRIVATE-TOKEN header alone", r.Method, r.URL)
		}
	}

	// Up to date: no merge request, no call.
	calls := len(gitlab.Requests())
	outdatedFile(t, dir, upToDate)
	code, stdout, stderr := runOutdatedOn(t, vars, "--apply", "--merge-request")
	if code != 0 || !strings.Contains(stdout, "is up to date") {
		t.Errorf("up to date: exit %d\n%s%s", code, stdout, stderr)
	}
	if n := len(gitlab.Requests()); n != calls {
		t.Errorf("up to date: %d calls to the API, want none", n-calls)
	}
}
