package upstream_test

import (
	"context"
	"errors"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
	"gitlab.studip.de/studip/docker/upstream"
	"gitlab.studip.de/studip/docker/upstream/upstreamtest"
	"gitlab.studip.de/studip/docker/versions"
)

func TestImportsNoDagger(t *testing.T) {
	testutil.ImportsNoDagger(t, "gitlab.studip.de/studip/docker/upstream/...")
}

func TestParseRelease(t *testing.T) {
	tests := []struct {
		tag, want string // want "" for no stable release
	}{
		{"v6.0.2", "6.0.2"},
		{"v6.0", "6.0.0"}, // Stud.IP tags X.Y.0 as vX.Y
		{"v6.1.0", "6.1.0"},
		{"v10.12.13", "10.12.13"},
		{"v6.2.beta", ""},
		{"v6.2-beta", ""},
		{"v6.2.0-rc.1", ""},
		{"v6.2.alpha1", ""},
		{"6.0.2", ""},
		{"v6", ""},
		{"v06.0.2", ""},
		{"studip-4.6", ""},
		{"v6.0.2^{}", ""},
	}
	for _, tt := range tests {
		r, ok := upstream.ParseRelease(tt.tag)
		got := ""
		if ok {
			got = r.Version.String()
		}
		if got != tt.want {
			t.Errorf("ParseRelease(%q) = %q, want %q", tt.tag, got, tt.want)
		}
	}
}

func TestReleasesHighestFirstOneTagPerVersion(t *testing.T) {
	got := upstream.Releases([]string{"v5.4.11", "v6.1", "v6.0.2", "v6.2.beta", "v6.1.0", "v6.0.10", "nightly"})
	var tags []string
	for _, r := range got {
		tags = append(tags, r.Tag)
	}
	if want := []string{"v6.1", "v6.0.10", "v6.0.2", "v5.4.11"}; !slices.Equal(tags, want) {
		t.Errorf("releases %q, want %q", tags, want)
	}
}

const versionsFile = `repository: docker.io/studip/studip
source: https://gitlab.studip.de/studip/studip.git
platforms: [linux/amd64]
bases: [apache]
versions:
  - version: 6.0.2
    php: "8.3"
    node: "22"
  - version: 5.5.8
    php: "8.2"
    node: "20"
  - version: 5.4.11
    php: "7.4"
    node: "20"
  - nightly: main
    php: "8.3"
    node: "22"
`

func parse(t *testing.T, text string) *versions.File {
	t.Helper()
	f, err := versions.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestBehind(t *testing.T) {
	tests := []struct {
		name string
		file string
		tags []string
		want []string // Update.String() without php and node
	}{
		{name: "up to date", file: versionsFile,
			tags: []string{"v5.3.12", "v5.4.11", "v5.5.8", "v6.0", "v6.0.1", "v6.0.2"}},
		{name: "a new patch of one line", file: versionsFile,
			tags: []string{"v5.4.11", "v5.5.8", "v6.0.2", "v6.0.3"},
			want: []string{"6.0: 6.0.2 -> 6.0.3 (tag v6.0.3)"}},
		{name: "the newest patch only, lines highest first", file: versionsFile,
			tags: []string{"v5.4.12", "v5.4.11", "v5.5.8", "v6.0.4", "v6.0.3", "v6.0.10"},
			want: []string{"6.0: 6.0.2 -> 6.0.10 (tag v6.0.10)", "5.4: 5.4.11 -> 5.4.12 (tag v5.4.12)"}},
		{name: "a new line tagged vX.Y", file: versionsFile,
			tags: []string{"v5.5.8", "v6.0.2", "v6.1"},
			want: []string{"6.1: new line 6.1.0 (tag v6.1), php , node "}},
		{name: "two new lines, each at its newest", file: versionsFile,
			tags: []string{"v6.0.2", "v6.1", "v6.1.1", "v6.2"},
			want: []string{"6.2: new line 6.2.0 (tag v6.2), php , node ", "6.1: new line 6.1.1 (tag v6.1.1), php , node "}},
		{name: "pre-release tags are never proposed", file: versionsFile,
			tags: []string{"v6.0.2", "v6.0.3-rc.1", "v6.1.beta", "v6.1.0-beta.1", "v6.2.alpha"}},
		{name: "an ended line that the file dropped is not proposed", file: versionsFile,
			tags: []string{"v5.3.13", "v6.0.2"}},
		{name: "a file behind is never moved down", file: versionsFile,
			tags: []string{"v6.0.1"}},
		{name: "a pre-release entry is behind its stable release",
			file: strings.Replace(versionsFile, "  - version: 6.0.2\n", "  - version: 6.1.0-beta.1\n    php: \"8.3\"\n    node: \"22\"\n  - version: 6.0.2\n", 1),
			tags: []string{"v6.0.2", "v6.1.0-beta.2", "v6.1"},
			want: []string{"6.1: 6.1.0-beta.1 -> 6.1.0 (tag v6.1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, u := range upstream.Behind(parse(t, tt.file), upstream.Releases(tt.tags)) {
				got = append(got, u.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("behind on\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// now is a day on which PHP 8.1 and Node 20 have ended and PHP 8.2 and Node 22 have not.
var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func TestRuntimes(t *testing.T) {
	files := func(composer, lock, pkg string) map[string][]byte {
		m := map[string][]byte{}
		if composer != "" {
			m[upstream.ComposerJSON] = []byte(composer)
		}
		if lock != "" {
			m[upstream.ComposerLock] = []byte(lock)
		}
		if pkg != "" {
			m[upstream.PackageJSON] = []byte(pkg)
		}
		return m
	}
	node := func(r string) string { return `{"engines": {"node": "` + r + `"}}` }
	tests := []struct {
		name              string
		composer, pkg     string
		lock              string // composer.lock; "" for none
		wantPHP, wantNode string
		wantErr           string
		wantNote          string
	}{
		{name: "Stud.IP 6.0", composer: `{"config": {"platform": {"php": "8.1"}}, "require": {"php": "^8.1"}}`, pkg: node(">=18 <23"),
			wantPHP: "8.5", wantNode: "22"},
		{name: "Stud.IP main", composer: `{"require": {"php": "^8.1"}}`, pkg: node(">=20"),
			wantPHP: "8.5", wantNode: "26"},
		{name: "an upper bound", composer: `{"require": {"php": ">=8.1 <8.4"}}`, pkg: node("^20 || ^22"),
			wantPHP: "8.3", wantNode: "22"},
		{name: "alternatives", composer: `{"require": {"php": "~8.2.0|~8.3.0"}}`, pkg: node("22.x"),
			wantPHP: "8.3", wantNode: "22"},
		{name: "platform alone is a lower bound", composer: `{"config": {"platform": {"php": "8.4"}}}`, pkg: node(">=24 <26"),
			wantPHP: "8.5", wantNode: "24"},
		{name: "platform above require's lowest", composer: `{"config": {"platform": {"php": "8.3"}}, "require": {"php": ">=8.1 <8.5"}}`, pkg: node(">=18"),
			wantPHP: "8.4", wantNode: "26"},
		{name: "only ended lines allowed", composer: `{"require": {"php": "^7.2"}}`, pkg: node("<=20"),
			wantPHP: "7.4", wantNode: "20", wantNote: "every such line has reached its end of life"},
		{name: "a locked package rules out newer lines (Stud.IP 6.0.2)", composer: `{"config": {"platform": {"php": "8.1"}}, "require": {"php": "^8.1"}}`,
			lock: `{"packages": [{"name": "a/lib", "require": {"php": "8.0 - 8.3"}}, {"name": "b/lib", "require": {"php": ">=7.1"}}, {"name": "c/lib"}]}`,
			pkg:  node(">=18 <23"), wantPHP: "8.3", wantNode: "22", wantNote: `php 8.4: not yet, a/lib requires php "8.0 - 8.3" (composer.lock)`},
		{name: "the lock's dev packages do not count", composer: `{"require": {"php": "^8.1"}}`,
			lock: `{"packages": [], "packages-dev": [{"name": "dev/tool", "require": {"php": ">=9.0"}}]}`,
			pkg:  node(">=18"), wantPHP: "8.5", wantNode: "26"},
		{name: "a lock constraint it cannot read is left out", composer: `{"require": {"php": "^8.1"}}`,
			lock: `{"packages": [{"name": "odd/lib", "require": {"php": "eight"}}]}`,
			pkg:  node(">=18"), wantPHP: "8.5", wantNode: "26", wantNote: "composer.lock: odd/lib's PHP requirement left out"},
		{name: "bad lock", composer: `{"require": {"php": "^8.1"}}`, lock: `{"packages": {}}`, pkg: node(">=18"),
			wantErr: "composer.lock: json: cannot unmarshal"},
		{name: "no composer.json", pkg: node(">=18"), wantErr: "composer.json: the tag has none"},
		{name: "no PHP named", composer: `{"require": {"ext-gd": "*"}}`, pkg: node(">=18"),
			wantErr: "composer.json names no PHP version"},
		{name: "no engines", composer: `{"require": {"php": "^8.1"}}`, pkg: `{"name": "studip"}`,
			wantErr: "package.json names no engines.node"},
		{name: "no known line", composer: `{"require": {"php": "^9.0"}}`, pkg: node(">=18"),
			wantErr: `no php line this project knows (versions.PHPLines, versions.NodeLines) meets require.php "^9.0"`},
		{name: "bad constraint", composer: `{"require": {"php": "latest"}}`, pkg: node(">=18"),
			wantErr: `composer.json: require.php: composer constraint "latest"`},
		{name: "bad JSON", composer: `{"require": `, pkg: node(">=18"), wantErr: "composer.json: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := upstream.Runtimes(files(tt.composer, tt.lock, tt.pkg), upstream.RuntimeOptions{Now: now})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rt.PHP != tt.wantPHP || rt.Node != tt.wantNode {
				t.Errorf("php %s node %s, want php %s node %s", rt.PHP, rt.Node, tt.wantPHP, tt.wantNode)
			}
			if notes := strings.Join(rt.Notes, "\n"); !strings.Contains(notes, tt.wantNote) {
				t.Errorf("notes\n%s\nwant %q among them", notes, tt.wantNote)
			}
		})
	}
}

// The whole of it against a bare repository with Stud.IP's tags, read with the git CLI.
func TestProposeFromGitRepository(t *testing.T) {
	testutil.LookTool(t, "git")
	url := upstreamtest.Repo(t,
		upstreamtest.Line54.As("v5.4.11"),
		upstreamtest.Line55.As("v5.5.8"),
		upstreamtest.Line60.As("v6.0"),
		upstreamtest.Line60.As("v6.0.2"),
		upstreamtest.Line60.As("v6.0.3"), // a new patch
		upstreamtest.Tag{Name: "v6.1", PHP: "^8.2", Platform: "8.2", Node: ">=20 <25", // a new line, lightweight tag
			Lock: map[string]string{"ezyang/htmlpurifier": "~7.4.0 || ~8.0.0 || ~8.1.0 || ~8.2.0 || ~8.3.0", "nette/utils": "8.0 - 8.4"}},
		upstreamtest.Tag{Name: "v6.2.beta", PHP: "^8.4", Node: ">=24", Annotated: true},   // a pre-release
		upstreamtest.Tag{Name: "v6.2.0-rc.1", PHP: "^8.4", Node: ">=24", Annotated: true}, // another spelling
	)
	repo := upstream.Git{URL: url}
	ctx := context.Background()

	tags, err := repo.Tags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tags)
	if want := []string{"v5.4.11", "v5.5.8", "v6.0", "v6.0.2", "v6.0.3", "v6.1", "v6.2.0-rc.1", "v6.2.beta"}; !slices.Equal(tags, want) {
		t.Errorf("tags %q, want %q", tags, want)
	}

	updates, err := upstream.Propose(ctx, repo, parse(t, versionsFile), upstream.RuntimeOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range updates {
		got = append(got, u.String())
	}
	want := []string{
		"6.1: new line 6.1.0 (tag v6.1), php 8.3, node 24",
		"6.0: 6.0.2 -> 6.0.3 (tag v6.0.3)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("proposed\n%q\nwant\n%q", got, want)
	}
	if len(updates) > 0 && !strings.Contains(strings.Join(updates[0].Notes, "\n"), `php 8.4: not yet, ezyang/htmlpurifier requires php`) {
		t.Errorf("the new line's notes do not say why: %q", updates[0].Notes)
	}
}

func TestGitFiles(t *testing.T) {
	testutil.LookTool(t, "git")
	url := upstreamtest.Repo(t, upstreamtest.Line60.As("v6.0.2"))
	repo := upstream.Git{URL: url}
	files, err := repo.Files(context.Background(), "v6.0.2", "composer.json", "VERSION", "missing.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, []string{"VERSION", "composer.json"}) {
		t.Errorf("files %q, want VERSION and composer.json (missing.json is not in the tag)", got)
	}
	if got := string(files["VERSION"]); got != "RELEASE 6.0.2\n" {
		t.Errorf("VERSION %q", got)
	}
	if _, err := repo.Files(context.Background(), "v9.9.9", "composer.json"); err == nil || !strings.Contains(err.Error(), "fetching v9.9.9 from "+url) {
		t.Errorf("a missing tag: error %v, want it to name the tag and the repository", err)
	}
	if _, err := (upstream.Git{URL: url + ".missing"}).Tags(context.Background()); err == nil || !strings.Contains(err.Error(), "listing the tags of") {
		t.Errorf("a missing repository: error %v", err)
	}
}

func TestLine(t *testing.T) {
	for in, want := range map[string]string{"6.0.2": "6.0", "6.1": "6.1", "6.3.alpha": "6.3", "6.2.beta": "6.2", "5.4.11": "5.4", "6.2.0-rc.1": "6.2"} {
		if got, err := upstream.Line(in); err != nil || got != want {
			t.Errorf("Line(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "six", "6", "RELEASE 6.0.2"} {
		if _, err := upstream.Line(bad); err == nil {
			t.Errorf("Line(%q): accepted", bad)
		}
	}
}

func TestTreeVersion(t *testing.T) {
	bootstrap := "<?php\n// Load enviroment\n//software version - please leave it as it is!\n$SOFTWARE_VERSION = '6.0.2';\n"
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    string
		wantErr string
	}{
		{name: "VERSION of a release", files: fstest.MapFS{"VERSION": {Data: []byte("RELEASE 6.0.2\n")}}, want: "6.0.2"},
		{name: "VERSION of main", files: fstest.MapFS{"VERSION": {Data: []byte("RELEASE 6.3.alpha\n")}}, want: "6.3.alpha"},
		{name: "bootstrap.php without VERSION", files: fstest.MapFS{"lib/bootstrap.php": {Data: []byte(bootstrap)}}, want: "6.0.2"},
		{name: "VERSION wins", files: fstest.MapFS{"VERSION": {Data: []byte("RELEASE 6.1\n")}, "lib/bootstrap.php": {Data: []byte(bootstrap)}}, want: "6.1"},
		{name: "garbled VERSION", files: fstest.MapFS{"VERSION": {Data: []byte("6.1\n")}}, wantErr: `VERSION: "6.1" is not RELEASE X.Y[.Z]`},
		{name: "no Stud.IP", files: fstest.MapFS{"README.md": {}}, wantErr: "not a Stud.IP tree"},
		{name: "no version in bootstrap.php", files: fstest.MapFS{"lib/bootstrap.php": {Data: []byte("<?php\n")}}, wantErr: "sets no $SOFTWARE_VERSION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := upstream.TreeVersion(tt.files)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("%q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// Commit resolves a ref as git names it, with the remote's answer of the moment: a branch,
// a tag (an annotated one to its commit, not the tag object), a full ref name; a commit ID
// as it is. What the remote lacks is a *RefError naming the ref and the repository.
func TestGitCommit(t *testing.T) {
	testutil.LookTool(t, "git")
	url := upstreamtest.Repo(t, upstreamtest.Line60.As("v6.0.2"), upstreamtest.Tag{Name: "v6.0.3", PHP: "^8.1", Node: ">=18"})
	revParse := func(rev string) string {
		out, err := exec.Command("git", "--git-dir", strings.TrimPrefix(url, "file://"), "rev-parse", "--verify", rev).Output()
		if err != nil {
			t.Fatalf("git rev-parse %s: %v", rev, err)
		}
		return strings.TrimSpace(string(out))
	}
	repo := upstream.Git{URL: url}
	for ref, want := range map[string]string{
		"main":                      revParse("main"),
		"refs/heads/main":           revParse("main"),
		"heads/main":                revParse("main"),
		"v6.0.2":                    revParse("v6.0.2^{commit}"),
		"v6.0.3":                    revParse("main"),
		revParse("v6.0.2^{commit}"): revParse("v6.0.2^{commit}"),
	} {
		if got, err := repo.Commit(context.Background(), ref); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %s", ref, got, err, want)
		}
	}
	if revParse("v6.0.2^{commit}") == revParse("v6.0.2") {
		t.Fatal("v6.0.2 is no annotated tag: the test cannot tell a peeled tag")
	}
	for _, tt := range []struct {
		repo upstream.Git
		ref  string
		want error
	}{
		{repo, "6.1", upstream.ErrNoSuchRef},
		{repo, "v6.0", upstream.ErrNoSuchRef},
		{upstream.Git{URL: url + ".missing"}, "main", nil},
	} {
		_, err := tt.repo.Commit(context.Background(), tt.ref)
		refErr, ok := errors.AsType[*upstream.RefError](err)
		if !ok || refErr.Ref != tt.ref || refErr.URL != tt.repo.URL || (tt.want != nil && !errors.Is(err, tt.want)) ||
			!strings.Contains(err.Error(), "resolving "+tt.ref+" of "+tt.repo.URL+": ") {
			t.Errorf("%s of %s: error %v, want a *RefError naming both", tt.ref, tt.repo.URL, err)
		}
	}
}
