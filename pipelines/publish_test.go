package pipelines_test

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/pipelines"
	"gitlab.studip.de/studip/docker/plan"
)

// Publishing and exporting: what reaches the registry and the host, in which order, and
// what a failure keeps from them.

const password = "s3cret-Pa55word"

// publish runs every target of fleet with Steps.Publish on a fake engine, after fail (if
// set) has told the engine what to fail.
func publish(t *testing.T, dryRun bool, fail func(*daggertest.Engine)) (*plan.Plan, *daggertest.Engine, []pipelines.Result) {
	t.Helper()
	p := planOf(t, fleet, plan.Filter{})
	engine := newEngine("linux/amd64")
	if fail != nil {
		fail(engine)
	}
	pub := &pipelines.Publish{Username: "bot", Password: password, DryRun: dryRun}
	return p, engine, execute(t, engine, p, pipelines.Options{}, pipelines.Steps{Test: true, Publish: pub})
}

// pushesOf are the pushes of target tg's tags, in push order.
func pushesOf(engine *daggertest.Engine, tg plan.Target) []daggertest.Push {
	var out []daggertest.Push
	for _, push := range engine.Pushes() {
		if slices.ContainsFunc(tg.Tags, func(tag plan.Tag) bool { return tg.Ref(tag) == push.Ref }) {
			out = append(out, push)
		}
	}
	return out
}

func tagOf(tg plan.Target, ref string) plan.Tag {
	i := slices.IndexFunc(tg.Tags, func(tag plan.Tag) bool { return tg.Ref(tag) == ref })
	return tg.Tags[i]
}

// The tags naming one version go before the floating ones, so that a failure never moves a
// floating tag to an image that lacks its fixed one; a target whose tags all float (nightly,
// a test image) pushes its first tag first. Every tag is pushed once.
func TestPushOrder(t *testing.T) {
	fixedTag := regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-|$)`)
	p, engine, _ := publish(t, false, nil)
	for _, tg := range p.Targets {
		pushes := pushesOf(engine, tg)
		var order []string
		for _, push := range pushes {
			order = append(order, tagOf(tg, push.Ref).Name)
		}
		if len(order) != len(tg.Tags) {
			t.Errorf("%s: pushed %q, want each of its %d tags once", tg, order, len(tg.Tags))
			continue
		}
		floating := slices.IndexFunc(pushes, func(push daggertest.Push) bool { return tagOf(tg, push.Ref).Floating })
		for i, push := range pushes {
			tag := tagOf(tg, push.Ref)
			if !tag.Floating && !fixedTag.MatchString(tag.Name) {
				t.Errorf("%s: %s is pushed as a fixed tag", tg, tag.Name)
			}
			if !tag.Floating && floating >= 0 && i > floating {
				t.Errorf("%s: the fixed tag %s went after the floating %s: %q", tg, tag.Name, order[floating], order)
			}
		}
		if floating == 0 && order[0] != tg.Tags[0].Name {
			t.Errorf("%s: its tags all float and %s went first, want its first tag %s", tg, order[0], tg.Tags[0].Name)
		}
	}
}

// Each push is one index of the target's image on every platform of the target.
func TestPushCarriesEveryPlatform(t *testing.T) {
	p, engine, _ := publish(t, false, nil)
	for _, push := range engine.Pushes() {
		tg, ok := targetOf(p, push.Image)
		if !ok || !slices.ContainsFunc(tg.Tags, func(tag plan.Tag) bool { return tg.Ref(tag) == push.Ref }) {
			t.Errorf("pushed %s, which is not a tag of the image's target %s", push.Ref, tg)
			continue
		}
		want := platformNames(tg)
		if !slices.Equal(push.Platforms, want) {
			t.Errorf("%s carries %v, want every platform of %s: %v", push.Ref, push.Platforms, tg, want)
		}
	}
}

// A result lists what the registry answered, each reference with its digest, in push order.
func TestResultListsDigests(t *testing.T) {
	p, engine, results := publish(t, false, nil)
	for _, r := range results {
		var want []string
		for _, push := range pushesOf(engine, r.Target) {
			want = append(want, push.Digest)
		}
		if !slices.Equal(r.Pushed, want) || len(want) != len(r.Target.Tags) {
			t.Errorf("%s: Pushed = %q, want the registry's answers %q", r.Target, r.Pushed, want)
		}
	}
	if len(results) != len(p.Targets) {
		t.Errorf("%d results, want %d", len(results), len(p.Targets))
	}
}

// The password reaches the engine in one request, as one secret's plaintext, however many
// pushes use it, and appears nowhere else: not in the DAG, not in an error.
func TestPasswordSentOnce(t *testing.T) {
	_, engine, results := publish(t, false, func(e *daggertest.Engine) {
		e.FailPublish(func(address string) bool { return strings.HasSuffix(address, ":5.5.8") })
	})
	requests := engine.Requests(password)
	if len(requests) != 1 {
		t.Errorf("the password went to the engine in %d requests, want 1", len(requests))
	}
	for _, q := range requests {
		if strings.Contains(strings.Replace(q, `plaintext:"`+password+`"`, "", 1), password) {
			t.Errorf("the password appears outside the secret: %s", q)
		}
	}
	secrets := engine.Secrets()
	if len(secrets) != 1 || secrets[0].Str("plaintext") != password {
		t.Errorf("secrets %v, want the password as one", secrets)
	}
	for _, n := range engine.Reached() {
		if n.Field != "setSecret" && strings.Contains(n.String(), password) {
			t.Errorf("the password appears in the DAG: %v", n)
		}
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			if strings.Contains(r.Err.Error(), password) {
				t.Errorf("%s: the error shows the password: %v", r.Target, r.Err)
			}
		}
	}
	if failed == 0 {
		t.Error("no push failed: the errors were not checked")
	}
}

// A failed push of a fixed tag fails its target and moves none of its floating tags; the
// other targets push everything.
func TestFailedPushMovesNoFloatingTag(t *testing.T) {
	_, engine, results := publish(t, false, func(e *daggertest.Engine) {
		e.FailPublish(func(address string) bool { return strings.HasSuffix(address, ":6.0.3") })
	})
	for _, r := range results {
		pushes := pushesOf(engine, r.Target)
		if r.Target.String() != "6.0.3 apache" {
			if r.Err != nil || len(pushes) != len(r.Target.Tags) {
				t.Errorf("%s: %d of %d tags pushed, err %v; want all", r.Target, len(pushes), len(r.Target.Tags), r.Err)
			}
			continue
		}
		want := "pushing 6.0.3 apache as registry.example/studip/studip:6.0.3: "
		if r.Err == nil || !strings.HasPrefix(r.Err.Error(), want) {
			t.Errorf("err = %v, want %q...", r.Err, want)
		}
		for _, push := range pushes {
			if tagOf(r.Target, push.Ref).Floating {
				t.Errorf("the failed target's floating tag %s was pushed", push.Ref)
			}
		}
	}
}

// A target whose build failed on one platform pushes nothing at all.
func TestFailedBuildPushesNothing(t *testing.T) {
	_, engine, results := publish(t, false, func(e *daggertest.Engine) {
		e.FailDockerBuild("fpm-alpine/Dockerfile", "linux/arm64", "ERROR: unable to select packages\n")
	})
	failed := 0
	for _, r := range results {
		pushes := pushesOf(engine, r.Target)
		switch {
		case r.Err != nil:
			failed++
			if len(pushes) > 0 || len(r.Pushed) > 0 {
				t.Errorf("%s failed to build but pushed %v", r.Target, r.Pushed)
			}
		case len(pushes) != len(r.Target.Tags):
			t.Errorf("%s: %d of %d tags pushed", r.Target, len(pushes), len(r.Target.Tags))
		}
	}
	if failed != 2 { // nightly and 6.0.3 on fpm-alpine; 5.5.8 is not built for arm64
		t.Errorf("%d targets failed, want the 2 fpm-alpine targets on arm64", failed)
	}
}

// A dry run builds and tests everything, pushes nothing, sends no password, and lists the
// references it would push, in push order.
func TestDryRunPushesNothing(t *testing.T) {
	_, engine, results := publish(t, true, nil)
	if pushes := engine.Pushes(); len(pushes) != 0 {
		t.Errorf("a dry run pushed %v", pushes)
	}
	if len(engine.Requests(password)) != 0 {
		t.Error("a dry run sent the password")
	}
	if len(engine.Checks()) == 0 {
		t.Error("a dry run tested nothing")
	}
	for _, r := range results {
		if len(r.Pushed) != len(r.Target.Tags) {
			t.Errorf("%s: would push %q, want each of its tags", r.Target, r.Pushed)
		}
		for _, ref := range r.Pushed {
			if strings.Contains(ref, "@") {
				t.Errorf("%s: would push %s, a digest without a push", r.Target, ref)
			}
		}
	}
}

// An export writes one tarball per target, every platform in it, named after its first tag.
func TestExport(t *testing.T) {
	p := planOf(t, fleet, plan.Filter{})
	engine := newEngine("linux/amd64")
	dir := t.TempDir()
	results := execute(t, engine, p, pipelines.Options{}, pipelines.Steps{Export: dir})
	exports := engine.Exports()
	if len(exports) != len(p.Targets) {
		t.Errorf("%d exports, want one per target (%d)", len(exports), len(p.Targets))
	}
	for _, ex := range exports {
		tg, _ := targetOf(p, ex.Image)
		want := platformNames(tg)
		if path := filepath.Join(dir, tg.Tags[0].Name+".tar"); ex.Path != path {
			t.Errorf("%s exported to %s, want %s", tg, ex.Path, path)
		}
		if !slices.Equal(ex.Platforms, want) {
			t.Errorf("%s exported for %v, want %v", tg, ex.Platforms, want)
		}
	}
	for _, r := range results {
		if want := filepath.Join(dir, r.Target.Tags[0].Name+".tar"); r.Err != nil || r.Exported != want {
			t.Errorf("%s: Exported %q, err %v; want %s", r.Target, r.Exported, r.Err, want)
		}
	}
}
