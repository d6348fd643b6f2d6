package pipelines_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/pipelines"
	"gitlab.studip.de/studip/docker/plan"
)

const (
	cosignKey      = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----"
	cosignPassword = "k3y-Pa55word"
)

// syftReports makes the fake engine answer each syft scan's JSON report with a manifest
// digest made from the platform scanned, as syft reports the manifest it read.
func syftReports(engine *daggertest.Engine) {
	engine.Written(func(file *daggertest.Node) (string, bool) {
		for _, e := range file.Steps("withExec") {
			args := e.Strings("args")
			if i := slices.Index(args, "--platform"); len(args) > 0 && args[0] == "/syft" && i > 0 {
				return fmt.Sprintf(`{"source":{"type":"image","metadata":{"manifestDigest":%q}}}`, manifestOf(args[i+1])), true
			}
		}
		return "", false
	})
}

func manifestOf(platform string) string {
	sum := sha256.Sum256([]byte("manifest " + platform))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// cosignRuns are the cosign commands that were run, by their subcommand.
func cosignRuns(engine *daggertest.Engine) map[string][]*daggertest.Node {
	out := map[string][]*daggertest.Node{}
	for _, ev := range engine.Evaluated("sync") {
		for _, e := range ev.Node.Steps("withExec") {
			if args := e.Strings("args"); len(args) > 1 && args[0] == "cosign" {
				out[args[1]] = append(out[args[1]], e)
			}
		}
	}
	return out
}

// Every push is signed (the index, recursively) and attests one SPDX SBOM per platform, that
// syft made of the pushed platform image, to that platform's manifest; cosign has the key
// and its password as secrets only, and the plaintexts go to the engine once each.
func TestPublishSignsAndAttestsEveryPush(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	engine := daggertest.New("linux/amd64")
	syftReports(engine)
	steps := pipelines.Steps{Publish: &pipelines.Publish{Username: "bot", Password: "pw",
		Sign: pipelines.Signing{Key: cosignKey, Password: cosignPassword}}}
	results := runOn(t, engine, p, plan.Filter{}, steps)
	runs := cosignRuns(engine)
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Target, r.Err)
		}
		index := r.Pushed[0]
		signs := slices.DeleteFunc(slices.Clone(runs["sign"]), func(n *daggertest.Node) bool { return !slices.Contains(n.Strings("args"), index) })
		if len(signs) != 1 || !slices.Equal(signs[0].Strings("args"), []string{"cosign", "sign", "--yes", "--recursive", "--key", "env://COSIGN_PRIVATE_KEY", index}) {
			t.Errorf("%s: want %s signed once with the key, got %v", r.Target, index, signs)
		}
		repo, _, _ := strings.Cut(index, "@")
		for _, pl := range r.Target.Platforms {
			subject := repo + "@" + manifestOf(pl.String())
			var attests []*daggertest.Node
			for _, n := range runs["attest"] {
				if slices.Contains(n.Strings("args"), subject) {
					attests = append(attests, n)
				}
			}
			if len(attests) != 1 {
				t.Errorf("%s %s: %d attestations of %s, want one", r.Target, pl, len(attests), subject)
				continue
			}
			checkAttestation(t, attests[0], index, pl.String())
		}
	}
	checkSecrets(t, engine, cosignKey, cosignPassword)
}

// checkAttestation asserts that attest attests, with the key, the SPDX SBOM that syft wrote
// of the platform pl of index.
func checkAttestation(t *testing.T, attest *daggertest.Node, index, pl string) {
	t.Helper()
	if args := attest.Strings("args"); !slices.Equal(args[:7], []string{"cosign", "attest", "--yes", "--type", "spdxjson", "--predicate", "/tmp/sbom.spdx.json"}) ||
		!slices.Contains(args, "env://COSIGN_PRIVATE_KEY") {
		t.Errorf("attests with %q", args)
	}
	var sbom *daggertest.Node
	for _, m := range attest.Steps("withMountedFile") {
		if m.Str("path") == "/tmp/sbom.spdx.json" {
			sbom = m.Ref("source")
		}
	}
	if sbom == nil || sbom.Str("path") != "/tmp/sbom.spdx.json" {
		t.Fatalf("attests no SBOM file: %v", attest)
	}
	scans := sbom.Steps("withExec")
	want := []string{"/syft", "scan", "registry:" + index, "--platform", pl, "--output", "spdx-json=/tmp/sbom.spdx.json"}
	if len(scans) != 1 || !slices.Equal(scans[0].Strings("args")[:7], want) {
		t.Errorf("the SBOM comes from %v, want syft %q", scans, want)
	}
	for _, n := range []*daggertest.Node{sbom, attest} {
		if !slices.ContainsFunc(n.Steps("withMountedSecret"), func(m *daggertest.Node) bool {
			return m.Ref("source").Field == "setSecret" || m.Ref("source").Field == "secret"
		}) {
			t.Errorf("no registry login for %v", n)
		}
	}
	var env []string
	for _, v := range attest.Steps("withSecretVariable") {
		env = append(env, v.Str("name"))
	}
	if !slices.Equal(env, []string{"COSIGN_PASSWORD", "COSIGN_PRIVATE_KEY"}) {
		t.Errorf("cosign's secret variables %q, want the key and its password", env)
	}
}

// checkSecrets asserts that each plaintext went to the engine in exactly one request, as a
// secret's, and appears in no step of the DAG but that secret.
func checkSecrets(t *testing.T, engine *daggertest.Engine, plaintexts ...string) {
	t.Helper()
	for _, s := range plaintexts {
		quoted := fmt.Sprintf("%q", s)
		quoted = quoted[1 : len(quoted)-1]
		sent := 0
		for _, q := range engine.Queries() {
			if strings.Contains(q, quoted) {
				sent++
			}
		}
		if sent != 1 {
			t.Errorf("a secret went to the engine in %d requests, want 1", sent)
		}
	}
	var inputs []*daggertest.Node
	for _, ev := range engine.Evals() {
		inputs = append(inputs, ev.Inputs()...)
	}
	for _, n := range daggertest.Reach(inputs...) {
		if n.Field == "setSecret" {
			continue
		}
		for _, s := range plaintexts {
			for _, line := range strings.Split(s, "\n") { // a key's body, too
				if !strings.HasPrefix(line, "-----") && strings.Contains(n.String(), line) {
					t.Errorf("a secret appears in the DAG: %v", n)
				}
			}
		}
	}
}

// Keyless signing: cosign gets the identity token as a secret and no key.
func TestPublishSignsKeylessWithAnIdentityToken(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"
	p := planWith(t, nightlyFile, plan.Options{})
	engine := daggertest.New("linux/amd64")
	syftReports(engine)
	steps := pipelines.Steps{Publish: &pipelines.Publish{Username: "bot", Password: "pw", Sign: pipelines.Signing{IDToken: token}}}
	for _, r := range runOn(t, engine, p, plan.Filter{Versions: []string{"6.0"}, Bases: nil}, steps) {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Target, r.Err)
		}
	}
	runs := cosignRuns(engine)
	if len(runs["sign"]) != 2 || len(runs["attest"]) != 4 {
		t.Fatalf("%d signatures and %d attestations, want 2 targets signed and 4 images attested", len(runs["sign"]), len(runs["attest"]))
	}
	for _, n := range append(runs["sign"], runs["attest"]...) {
		if slices.Contains(n.Strings("args"), "--key") {
			t.Errorf("keyless signing passes a key: %v", n.Strings("args"))
		}
		var env []string
		for _, v := range n.Steps("withSecretVariable") {
			env = append(env, v.Str("name"))
		}
		if !slices.Equal(env, []string{"SIGSTORE_ID_TOKEN"}) {
			t.Errorf("cosign's secret variables %q, want the identity token", env)
		}
	}
	checkSecrets(t, engine, token)
}

// Without signing nothing is signed or attested (ci says so once).
func TestPublishUnsignedRunsNoCosign(t *testing.T) {
	p := planWith(t, nightlyFile, plan.Options{})
	engine := daggertest.New("linux/amd64")
	for _, r := range runOn(t, engine, p, plan.Filter{Versions: []string{"6.0"}}, publishAll) {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Target, r.Err)
		}
	}
	if runs := cosignRuns(engine); len(runs) != 0 {
		t.Errorf("an unsigned publish ran cosign: %v", runs)
	}
}
