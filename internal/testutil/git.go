package testutil

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Git runs git in dir as a test's committer at a fixed time (so that equal trees make equal
// commit IDs, which golden files can hold), with signing off and main as the default branch,
// whatever the user's configuration says, and returns its standard output without
// the final newline; the test fails with git's output if it fails.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(LookTool(t, "git"), append([]string{"-c", "user.name=test", "-c", "user.email=test@example.org",
		"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return strings.TrimSuffix(stdout.String(), "\n")
}

// GitLabCILocal runs gitlab-ci-local with args in dir, a git checkout holding a
// .gitlab-ci.yml, and returns its standard output; the test fails with its standard error if
// it fails. Its state goes to dir/.home. The pipeline has the variables vars, and none of
// gitlab-ci-local's own values for the ones that decide which jobs a pipeline creates
// (the pipeline source, tag, merge request branch, protection): those are unset unless vars
// sets them. With CI_COMMIT_TAG set, CI_COMMIT_BRANCH is unset, as in GitLab's tag pipelines.
func GitLabCILocal(t testing.TB, dir string, vars map[string]string, args ...string) []byte {
	t.Helper()
	bin := LookTool(t, "gitlab-ci-local")
	args = append(args, "--home", filepath.Join(dir, ".home"),
		"--ignore-predefined-vars", "CI_PIPELINE_SOURCE,CI_COMMIT_TAG,CI_MERGE_REQUEST_SOURCE_BRANCH_NAME,CI_COMMIT_REF_PROTECTED")
	for k, v := range vars {
		args = append(args, "--variable", k+"="+v)
	}
	if vars["CI_COMMIT_TAG"] != "" {
		args = append(args, "--unset-variable", "CI_COMMIT_BRANCH")
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if exitErr, ok := errors.AsType[*exec.ExitError](err); ok {
			stderr = exitErr.Stderr
		}
		t.Fatalf("gitlab-ci-local %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}
