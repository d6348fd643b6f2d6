// Package upstreamtest makes local bare git repositories shaped like Stud.IP's, for the
// tests of upstream and of `ci outdated`. Only tests import it.
package upstreamtest

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
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
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.Git(t, work, "init", "-q")
	for _, tag := range tags {
		testutil.WriteFile(t, filepath.Join(work, "composer.json"), composerJSON(tag))
		testutil.WriteFile(t, filepath.Join(work, "package.json"), `{"name": "studip", "engines": {"node": "`+tag.Node+`"}}`+"\n")
		testutil.WriteFile(t, filepath.Join(work, "VERSION"), "RELEASE "+strings.TrimPrefix(tag.Name, "v")+"\n")
		os.Remove(filepath.Join(work, "composer.lock"))
		if tag.Lock != nil {
			testutil.WriteFile(t, filepath.Join(work, "composer.lock"), composerLock(tag.Lock))
		}
		testutil.Git(t, work, "add", "-A")
		testutil.Git(t, work, "commit", "-q", "--allow-empty", "-m", "release "+tag.Name)
		if tag.Annotated {
			testutil.Git(t, work, "tag", "-a", "-m", "Stud.IP "+tag.Name, tag.Name)
		} else {
			testutil.Git(t, work, "tag", tag.Name)
		}
	}
	testutil.Git(t, root, "clone", "-q", "--bare", work, bare)
	testutil.Git(t, bare, "config", "uploadpack.allowFilter", "true")
	testutil.Git(t, bare, "config", "uploadpack.allowAnySHA1InWant", "true")
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
