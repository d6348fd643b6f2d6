package main

import (
	"strings"
	"testing"
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
