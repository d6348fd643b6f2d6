package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
)

// A second publish of the same inputs reports every target unchanged and counts them; the
// first says once that it publishes unsigned.
func TestPublishReportsUnchangedTargets(t *testing.T) {
	p := fixture(t)
	engine := daggertest.New("linux/amd64")
	engine.GitFile(fixtureSource, "", "package.json", `{"scripts": {"webpack-prod": "webpack --config webpack.prod.js --mode production"}}`)
	dockerfiles := t.TempDir() // the same build context each time, as in one checkout
	publish := func(args ...string) (code int, stdout, stderr string) {
		var out, errOut bytes.Buffer
		vars := map[string]string{"REGISTRY_USERNAME": "bot", "REGISTRY_PASSWORD": password}
		e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
		args = append([]string{"publish", "--file", fixtureFile, "--dockerfiles", dockerfiles}, args...)
		code = run(withConnect(context.Background(), engine.Connect), args, e)
		return code, out.String(), errOut.String()
	}
	code, stdout, stderr := publish()
	if code != 0 {
		t.Fatalf("first publish: exit %d, stderr:\n%s", code, stderr)
	}
	if n := strings.Count(stderr, "warning: publishing unsigned"); n != 1 {
		t.Errorf("the unsigned warning appears %d times, want once:\n%s", n, stderr)
	}
	for _, tg := range p.Targets {
		if !strings.Contains(stdout, "built "+tg.String()+"\n") {
			t.Errorf("the first publish does not report %s built:\n%s", tg, stdout)
		}
	}
	code, stdout, stderr = publish()
	if code != 0 {
		t.Fatalf("second publish: exit %d, stderr:\n%s", code, stderr)
	}
	for _, tg := range p.Targets {
		if !strings.Contains(stdout, "unchanged "+tg.String()+"\n") {
			t.Errorf("the second publish does not report %s unchanged:\n%s", tg, stdout)
		}
	}
	if want := "summary: 8 of 8 targets pushed (8 of them unchanged: nothing built)\n"; !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout)
	}
	code, stdout, _ = publish("--rebuild", "--version", "6.0")
	if code != 0 || !strings.Contains(stdout, "built 6.0.3 apache\n") {
		t.Errorf("--rebuild: exit %d, stdout:\n%s", code, stdout)
	}
}
