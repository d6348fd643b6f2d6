package gitlabapi_test

import (
	"context"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/gitlabapi"
	"gitlab.studip.de/studip/docker/gitlabapi/gitlabapitest"
	"gitlab.studip.de/studip/docker/internal/testutil"
)

// The merge request job runs ci outdated, which needs no engine.
func TestImportsNoDagger(t *testing.T) {
	testutil.ImportsNoDagger(t, "gitlab.studip.de/studip/docker/gitlabapi/...")
}

const token = "glpat-secret-token-1234"

func client(s *gitlabapitest.Server) *gitlabapi.Client {
	return &gitlabapi.Client{API: s.API(), Project: s.Project, Token: token, HTTP: s.Client()}
}

func proposal(version, content string) gitlabapi.Proposal {
	return gitlabapi.Proposal{
		Branch: "studip-outdated/" + version, Target: "main",
		Files:         map[string][]byte{"versions.yaml": []byte(content)},
		CommitMessage: "versions: Stud.IP " + version,
		Title:         "versions: Stud.IP " + version, Description: "Stud.IP " + version + " is out.",
		Label: "studip-outdated",
	}
}

func TestProposeOpensOnceThenUpdates(t *testing.T) {
	s := gitlabapitest.New(t, "42", token, map[string]string{"versions.yaml": "version: 6.0.2\n", "README.md": "readme\n"})
	c := client(s)
	ctx := context.Background()

	// First run: a branch with the edit and one merge request.
	out, err := c.Propose(ctx, proposal("6.0.3", "version: 6.0.3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Created || !out.Committed || out.MergeRequest.IID != 1 {
		t.Errorf("first run: %+v, want a commit and merge request !1 created", out)
	}
	if got, _ := s.File("studip-outdated/6.0.3", "versions.yaml"); got != "version: 6.0.3\n" {
		t.Errorf("branch holds %q", got)
	}
	if got, _ := s.File("studip-outdated/6.0.3", "README.md"); got != "readme\n" {
		t.Errorf("the branch does not start from main: README.md %q", got)
	}

	// Same change again: nothing new, not even a commit (which would start a pipeline).
	out, err = c.Propose(ctx, proposal("6.0.3", "version: 6.0.3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if out.Created || out.Committed || out.Edited || out.MergeRequest.IID != 1 {
		t.Errorf("second run of the same change: %+v, want merge request !1 left as it is", out)
	}

	// The same release, but the file on main moved on: the branch is rebuilt on top of main,
	// the merge request's description follows; still one merge request.
	p := proposal("6.0.3", "# a comment\nversion: 6.0.3\n")
	p.Description = "Stud.IP 6.0.3 is out (rebased)."
	out, err = c.Propose(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if out.Created || !out.Committed || !out.Edited || out.MergeRequest.IID != 1 {
		t.Errorf("third run: %+v, want merge request !1 updated with a new commit", out)
	}
	mrs := s.MergeRequests()
	if len(mrs) != 1 || mrs[0].Description != p.Description || mrs[0].State != "opened" {
		t.Errorf("merge requests %+v, want one, open, with the new description", mrs)
	}
	if n := s.Commits("studip-outdated/6.0.3"); n != 2 {
		t.Errorf("%d commits on the branch, want 2", n)
	}
	if mrs[0].Labels == nil || mrs[0].Labels[0] != "studip-outdated" {
		t.Errorf("labels %q", mrs[0].Labels)
	}
}

// A newer change (6.0.4 before 6.0.3 was merged) opens its own merge request and closes the
// older one: there is one open proposal at any time.
func TestProposeSupersedes(t *testing.T) {
	s := gitlabapitest.New(t, "studip/docker", token, map[string]string{"versions.yaml": "version: 6.0.2\n"})
	c := client(s)
	ctx := context.Background()
	if _, err := c.Propose(ctx, proposal("6.0.3", "version: 6.0.3\n")); err != nil {
		t.Fatal(err)
	}
	out, err := c.Propose(ctx, proposal("6.0.4", "version: 6.0.4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Created || len(out.Superseded) != 1 || out.Superseded[0].IID != 1 {
		t.Fatalf("%+v, want !2 created and !1 superseded", out)
	}
	mrs := s.MergeRequests()
	if mrs[0].State != "closed" || len(mrs[0].Notes) != 1 || !strings.Contains(mrs[0].Notes[0], "Superseded by !2") {
		t.Errorf("old merge request %+v, want it closed with a note naming !2", mrs[0])
	}
	if mrs[1].State != "opened" {
		t.Errorf("new merge request %+v, want it open", mrs[1])
	}
}

// A maintainer who closes the merge request declines the change: it is not proposed again,
// while a newer change is.
func TestProposeRespectsADeclinedChange(t *testing.T) {
	s := gitlabapitest.New(t, "42", token, map[string]string{"versions.yaml": "version: 6.0.2\n"})
	c := client(s)
	ctx := context.Background()
	if _, err := c.Propose(ctx, proposal("6.0.3", "version: 6.0.3\n")); err != nil {
		t.Fatal(err)
	}
	s.Decline(1)
	out, err := c.Propose(ctx, proposal("6.0.3", "version: 6.0.3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Declined || out.Created || out.Committed || out.MergeRequest.IID != 1 || len(s.MergeRequests()) != 1 {
		t.Errorf("%+v, want the declined !1 reported and nothing done", out)
	}
	if out, err = c.Propose(ctx, proposal("6.0.4", "version: 6.0.4\n")); err != nil || !out.Created {
		t.Errorf("a newer change: %+v, %v; want it opened", out, err)
	}
}

func TestProposeErrorsKeepTheTokenOut(t *testing.T) {
	s := gitlabapitest.New(t, "42", "another-token", map[string]string{"versions.yaml": "x\n"})
	_, err := client(s).Propose(context.Background(), proposal("6.0.3", "y\n"))
	if err == nil {
		t.Fatal("a wrong token: no error")
	}
	if msg := err.Error(); !strings.Contains(msg, "401 Unauthorized") || !strings.Contains(msg, "is the token valid") || strings.Contains(msg, token) {
		t.Errorf("error %q, want a 401 that explains itself and holds no token", msg)
	}
	for _, r := range s.Requests() {
		if strings.Contains(r.URL, token) || strings.Contains(r.Body, token) {
			t.Errorf("%s %s carries the token outside its header", r.Method, r.URL)
		}
	}
}
