// Package upstreamtest makes local bare git repositories shaped like Stud.IP's, for the
// tests of upstream and of `ci outdated`. Only tests import it.
package upstreamtest

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Tag is a release tag of the fake Stud.IP repository and the files its commit holds.
type Tag struct {
	Name     string // v6.0.2, v6.1, v6.2.beta
	PHP      string // composer.json require.php; "" leaves it out
	Platform string // composer.json config.platform.php; "" leaves it out
	Node     string // package.json engines.node
	// Lock is composer.lock's packages and their require.php; nil leaves the file out.
	Lock      map[string]string
	Annotated bool // an annotated tag (Stud.IP's are), else a lightweight one
}

// Stud.IP's lines as their tags have them (read from Stud.IP's repository: v5.4.11,
// v5.5.8, v6.0.2 composer.json and package.json).
var (
	Line54 = Tag{PHP: "^7.2", Platform: "7.2.5", Node: ">=16"}
	Line55 = Tag{PHP: "^7.2", Platform: "7.4", Node: ">=16"}
	Line60 = Tag{PHP: "^8.1", Platform: "8.1", Node: ">=18 <23"}
)

// As is t under the tag name.
func (t Tag) As(name string) Tag { t.Name = name; t.Annotated = true; return t }

// Repo creates a bare repository with one commit per tag, in order, on the branch main,
// each holding composer.json, package.json and VERSION, and returns its file:// URL. Equal
// tags give equal commit IDs. The repository
// allows the partial fetches (--filter) that upstream.Git makes.
func Repo(t testing.TB, tags ...Tag) string {
	t.Helper()
	root := t.TempDir()
	work, bare := filepath.Join(root, "work"), filepath.Join(root, "studip.git")
	git := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.org",
			"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		// Fixed times make fixed commit IDs, which golden files can hold.
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	git(work, "init", "-q")
	for _, tag := range tags {
		write(t, work, "composer.json", composerJSON(tag))
		write(t, work, "package.json", `{"name": "studip", "engines": {"node": "`+tag.Node+`"}}`+"\n")
		write(t, work, "VERSION", "RELEASE "+strings.TrimPrefix(tag.Name, "v")+"\n")
		os.Remove(filepath.Join(work, "composer.lock"))
		if tag.Lock != nil {
			write(t, work, "composer.lock", composerLock(tag.Lock))
		}
		git(work, "add", "-A")
		git(work, "commit", "-q", "--allow-empty", "-m", "release "+tag.Name)
		if tag.Annotated {
			git(work, "tag", "-a", "-m", "Stud.IP "+tag.Name, tag.Name)
		} else {
			git(work, "tag", tag.Name)
		}
	}
	git(root, "clone", "-q", "--bare", work, bare)
	git(bare, "config", "uploadpack.allowFilter", "true")
	git(bare, "config", "uploadpack.allowAnySHA1InWant", "true")
	return "file://" + bare
}

func composerJSON(tag Tag) string {
	var b strings.Builder
	b.WriteString(`{"name": "studip/core", "config": {"vendor-dir": "composer"`)
	if tag.Platform != "" {
		b.WriteString(`, "platform": {"php": "` + tag.Platform + `"}`)
	}
	b.WriteString(`}, "require": {`)
	if tag.PHP != "" {
		b.WriteString(`"php": "` + tag.PHP + `", `)
	}
	b.WriteString(`"ext-gd": "*"}}` + "\n")
	return b.String()
}

func composerLock(packages map[string]string) string {
	var entries []string
	for _, name := range slices.Sorted(maps.Keys(packages)) {
		entries = append(entries, `{"name": "`+name+`", "version": "1.0.0", "require": {"php": "`+packages[name]+`"}}`)
	}
	return `{"packages": [` + strings.Join(entries, ", ") + `], "packages-dev": [{"name": "dev/tool", "require": {"php": ">=9.9"}}]}` + "\n"
}

func write(t testing.TB, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
