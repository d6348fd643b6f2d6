package plan_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

const idFixture = header + `bases: [apache, fpm-alpine]
versions:
  - {version: 6.0.3, php: "8.3", node: "22"}
tests:
  - {php: "8.3", node: "22"}
`

var (
	amd64 = versions.Platform{OS: "linux", Arch: "amd64"}
	arm64 = versions.Platform{OS: "linux", Arch: "arm64"}
)

// fakeDigest is a valid digest made from s.
func fakeDigest(s string) string { return "sha256:" + fmt.Sprintf("%064x", []byte(s))[:64] }

// resolvedFor answers every image of t with a digest made from its reference.
func resolvedFor(t plan.Target) plan.Resolved {
	r := plan.Resolved{Context: fakeDigest("context"), Images: map[string]string{}}
	if t.Source != nil {
		r.Source = "0123456789abcdef0123456789abcdef01234567"
	}
	for _, img := range t.Images() {
		name := img[strings.LastIndex(img, "/")+1:]
		r.Images[img] = fakeDigest(name)
	}
	return r
}

func target(t *testing.T, p *plan.Plan, name string) plan.Target {
	t.Helper()
	for _, tg := range p.Targets {
		if tg.String() == name {
			return tg
		}
	}
	t.Fatalf("no target %s", name)
	return plan.Target{}
}

// The IDs of a fixed plan, with their planned inputs, stay the same on every run and
// machine: a change here means every published image gets rebuilt, which must be meant
// (then bump plan.RecipeVersion if the assembly changed, and go test -update).
func TestBuildIDGolden(t *testing.T) {
	p := mustPlan(t, idFixture)
	var b strings.Builder
	for _, name := range []string{"6.0.3 apache", "6.0.3 fpm-alpine", "tests-php8.3"} {
		tg := target(t, p, name)
		in := p.BuildInputs(tg)
		doc, err := json.MarshalIndent(in, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "# %s\n%s\n", name, doc)
		for _, pl := range []versions.Platform{amd64, arm64} {
			id, err := in.BuildID(pl, resolvedFor(tg))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %s\n", pl, id)
		}
	}
	testutil.Golden(t, "testdata/buildid.golden", []byte(b.String()))
}

// Each input of the build ID changes it.
func TestBuildIDChangesWithEachInput(t *testing.T) {
	p := mustPlan(t, idFixture)
	tg := target(t, p, "6.0.3 apache")
	base := p.BuildInputs(tg)
	baseID, err := base.BuildID(amd64, resolvedFor(tg))
	if err != nil {
		t.Fatal(err)
	}
	php, node := tg.Runtime.Bases[0].Image, tg.Source.NodeImage
	tests := []struct {
		name   string
		change func(in *plan.BuildInputs, pl *versions.Platform, r *plan.Resolved)
	}{
		{"source commit", func(_ *plan.BuildInputs, _ *versions.Platform, r *plan.Resolved) { r.Source = strings.Repeat("f", 40) }},
		{"source repository", func(in *plan.BuildInputs, _ *versions.Platform, _ *plan.Resolved) {
			in.Source.URL = "https://example.org/fork/studip.git"
		}},
		{"asset stage image", func(in *plan.BuildInputs, _ *versions.Platform, _ *plan.Resolved) {
			in.Source.NodeImage = "node:24-bookworm-slim"
		}},
		{"asset stage image digest", func(_ *plan.BuildInputs, _ *versions.Platform, r *plan.Resolved) {
			r.Images[node] = fakeDigest("other node")
		}},
		{"asset command", func(in *plan.BuildInputs, _ *versions.Platform, _ *plan.Resolved) {
			in.Source.Assets = []string{"npm", "run", "build"}
		}},
		{"dependency stage image", func(in *plan.BuildInputs, _ *versions.Platform, _ *plan.Resolved) {
			in.Source.ComposerImage = "composer:2.9"
		}},
		{"dependency stage image digest", func(_ *plan.BuildInputs, _ *versions.Platform, r *plan.Resolved) {
			r.Images[tg.Source.ComposerImage] = fakeDigest("other composer")
		}},
		{"base image digest", func(_ *plan.BuildInputs, _ *versions.Platform, r *plan.Resolved) {
			r.Images[php] = fakeDigest("php rebuilt")
		}},
		{"build context", func(_ *plan.BuildInputs, _ *versions.Platform, r *plan.Resolved) { r.Context = fakeDigest("edited") }},
		{"Dockerfile", func(in *plan.BuildInputs, _ *versions.Platform, _ *plan.Resolved) {
			in.Runtime.Dockerfile = "other/Dockerfile"
		}},
		{"Dockerfile stage", func(in *plan.BuildInputs, _ *versions.Platform, _ *plan.Resolved) { in.Runtime.Target = "debug" }},
		{"build argument", func(in *plan.BuildInputs, _ *versions.Platform, _ *plan.Resolved) {
			in.Runtime.BuildArgs = append(in.Runtime.BuildArgs, plan.BuildArg{Name: "EXTRA", Value: "1"})
		}},
		{"label", func(in *plan.BuildInputs, _ *versions.Platform, _ *plan.Resolved) {
			in.Labels = append(in.Labels, plan.Label{Key: plan.LabelCreated, Value: "2026-01-01T00:00:00Z"})
		}},
		{"platform", func(_ *plan.BuildInputs, pl *versions.Platform, _ *plan.Resolved) { *pl = arm64 }},
		{"recipe version", func(in *plan.BuildInputs, _ *versions.Platform, _ *plan.Resolved) { in.Recipe++ }},
	}
	seen := map[string]string{baseID: "the unchanged inputs"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := p.BuildInputs(tg) // fresh copies: the changes must not leak into other rows
			src := *in.Source
			in.Source = &src
			r := resolvedFor(tg)
			pl := amd64
			tt.change(&in, &pl, &r)
			id, err := in.BuildID(pl, r)
			if err != nil {
				t.Fatal(err)
			}
			if other, dup := seen[id]; dup {
				t.Errorf("changing the %s gives the ID of %s: %s", tt.name, other, id)
			}
			seen[id] = tt.name
		})
	}
}

// What changes where an image comes from, or how the commit was named, is no input.
func TestBuildIDIgnoresMirrorAndRefName(t *testing.T) {
	f, err := versions.Parse(strings.NewReader(idFixture))
	if err != nil {
		t.Fatal(err)
	}
	direct, err := plan.New(f, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mirrored, err := plan.New(f, plan.Options{Mirror: "mirror.example/hub"})
	if err != nil {
		t.Fatal(err)
	}
	idOf := func(p *plan.Plan, ref string) string {
		tg := target(t, p, "6.0.3 apache")
		tg.Source.Ref = ref
		r := resolvedFor(tg)
		for img := range r.Images { // the same image, whichever way it is pulled
			r.Images[img] = fakeDigest(strings.TrimPrefix(img, "mirror.example/hub/"))
		}
		id, err := p.BuildInputs(tg).BuildID(amd64, r)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	want := idOf(direct, "v6.0.3")
	if got := idOf(mirrored, "v6.0.3"); got != want {
		t.Errorf("through the mirror: ID %s, want %s as pulled directly", got, want)
	}
	if got := idOf(direct, "6.0"); got != want {
		t.Errorf("the same commit by its branch: ID %s, want %s", got, want)
	}
	// A pinned plan builds what an unpinned one resolves: a platform job's image and one
	// built on one machine are one image, and the skip of unchanged targets sees it.
	pinned, err := plan.New(f, plan.Options{Commits: map[string]string{"6.0.3": strings.Repeat("c", 40)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := idOf(pinned, "v6.0.3"); got != want {
		t.Errorf("pinned to the commit it resolves to: ID %s, want %s", got, want)
	}
}

func TestBuildIDRefusesUnresolvedInputs(t *testing.T) {
	p := mustPlan(t, idFixture)
	tg := target(t, p, "6.0.3 apache")
	php := tg.Runtime.Bases[0].Image
	tests := []struct {
		name   string
		change func(r *plan.Resolved)
		want   string
	}{
		{"no commit", func(r *plan.Resolved) { r.Source = "" }, "the source is not resolved"},
		{"no context digest", func(r *plan.Resolved) { r.Context = "" }, "the build context has no digest"},
		{"a base not resolved", func(r *plan.Resolved) { delete(r.Images, php) }, "image php:8.3-apache is not resolved"},
		{"a tag for a digest", func(r *plan.Resolved) { r.Images[php] = "8.3-apache" }, `image php:8.3-apache resolved to "8.3-apache", not a sha256 digest`},
		{"an image the target does not pull", func(r *plan.Resolved) { r.Images["busybox"] = fakeDigest("busybox") }, "image busybox is not among the target's images"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := resolvedFor(tg)
			tt.change(&r)
			_, err := p.BuildInputs(tg).BuildID(amd64, r)
			var idErr *plan.BuildIDError
			if !errors.As(err, &idErr) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a BuildIDError saying %q", err, tt.want)
			}
		})
	}
}

// Without SOURCE_DATE_EPOCH the plan sets no creation time: the pipeline takes it from the
// source commit, so that a rebuild of the same inputs is the same image.
func TestNoCreationTimeWithoutSourceDateEpoch(t *testing.T) {
	f, err := versions.Parse(strings.NewReader(idFixture))
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.New(f, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range p.Targets {
		for _, l := range tg.Labels {
			if l.Key == plan.LabelCreated {
				t.Errorf("%s: label %s=%s without SOURCE_DATE_EPOCH", tg, l.Key, l.Value)
			}
		}
	}
}

// Each Dockerfile pins each of its planned bases with the planned argument: it declares the
// argument and appends it to that image's FROM as a digest, so that the build uses what the
// build ID names.
func TestDockerfilesPinTheirBases(t *testing.T) {
	f, err := versions.Load("../versions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.New(f, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	for _, tg := range p.Targets {
		rt := tg.Runtime
		for _, b := range rt.Bases {
			key := rt.Dockerfile + " " + b.Arg
			if checked[key] {
				continue
			}
			checked[key] = true
			data, err := os.ReadFile(filepath.Join("..", "dockerfiles", rt.Dockerfile))
			if errors.Is(err, os.ErrNotExist) {
				t.Logf("%s is not in this tree (yet): nothing to check", rt.Dockerfile)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			text := string(data)
			if !regexp.MustCompile(`(?m)^ARG ` + b.Arg + `(=|$)`).MatchString(text) {
				t.Errorf("%s does not declare ARG %s, which pins %s", rt.Dockerfile, b.Arg, b.Image)
			}
			pinned := "${" + b.Arg + ":+@}${" + b.Arg + "}"
			if !regexp.MustCompile(`(?m)^FROM \S*` + regexp.QuoteMeta(pinned) + `(\s|$)`).MatchString(text) {
				t.Errorf("%s has no FROM ending in %s: %s is not pinned to its digest", rt.Dockerfile, pinned, b.Image)
			}
		}
	}
	if len(checked) == 0 {
		t.Fatal("the shipped plan has no base images")
	}
}
