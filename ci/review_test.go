package main

import (
	"strings"
	"testing"
)

// The manifests themselves are tested in package reviewapp; this covers the command.
func TestReview(t *testing.T) {
	args := []string{"review", "--examples", "../examples", "--name", "feature-x", "--namespace", "studip-review-feature-x",
		"--domain", "review.example.org", "--image", "registry.example/studip/review:feature-x"}
	code, stdout, stderr := runCI(t, nil, args...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"kind: Namespace\nmetadata:\n", "  name: studip-review-feature-x\n", "- host: feature-x.review.example.org\n",
		"image: registry.example/studip/review:feature-x\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the manifests lack %q:\n%s", want, stdout)
		}
	}
	for name, tt := range map[string]struct {
		args    []string
		wantErr string
	}{
		"bad input":      {[]string{"review", "--examples", "../examples", "--name", "Feature_X", "--namespace", "ns", "--image", "r:t"}, `ci review: name "Feature_X"`},
		"no examples":    {append(args[:1:1], append([]string{"--examples", "nope"}, args[3:]...)...), "ci review: --examples: nope is not a directory"},
		"stray argument": {append(args[:len(args):len(args)], "extra"), `ci review: unexpected argument "extra"`},
		"every problem":  {[]string{"review", "--examples", "../examples"}, "domain is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCI(t, nil, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, tt.wantErr)
			}
		})
	}
}
