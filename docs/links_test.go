package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/mod/modfile"
)

// pages are the Markdown files whose links are checked, relative to the repository root.
func pages(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil || len(docs) == 0 {
		t.Fatalf("no pages in ../docs: %v", err)
	}
	return append([]string{"../README.md", "../examples/README.md"}, docs...)
}

var (
	fence   = regexp.MustCompile("(?ms)^```.*?^```[ \t]*$")
	mdLink  = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading = regexp.MustCompile(`(?m)^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$`)
	scheme  = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)
)

// prose is a page without its code blocks, where neither links nor headings are.
func prose(text string) string {
	return fence.ReplaceAllStringFunc(text, func(block string) string {
		return strings.Repeat("\n", strings.Count(block, "\n"))
	})
}

// TestLinks checks that every relative link of the README, the examples' README and docs/
// leads to a file of the repository, and every #anchor to a heading of its page.
func TestLinks(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string][]string{}
	anchorsOf := func(page string) []string {
		if a, ok := anchors[page]; ok {
			return a
		}
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		anchors[page] = headingAnchors(string(data))
		return anchors[page]
	}
	for _, page := range pages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		text := prose(string(data))
		for _, m := range mdLink.FindAllStringSubmatchIndex(text, -1) {
			link := text[m[2]:m[3]]
			if scheme.MatchString(link) || inCodeSpan(text, m[0]) {
				continue
			}
			where := fmt.Sprintf("%s:%d: %s", strings.TrimPrefix(page, "../"), strings.Count(text[:m[0]], "\n")+1, link)
			target, anchor, _ := strings.Cut(link, "#")
			file := page
			if target != "" {
				file = filepath.Join(filepath.Dir(page), filepath.FromSlash(target))
			}
			abs, err := filepath.Abs(file)
			if err != nil || !strings.HasPrefix(abs, root+string(filepath.Separator)) && abs != root {
				t.Errorf("%s: leads out of the repository", where)
				continue
			}
			if _, err := os.Stat(file); err != nil {
				t.Errorf("%s: no such file or folder", where)
				continue
			}
			if anchor != "" {
				if !strings.HasSuffix(file, ".md") {
					t.Errorf("%s: an anchor into a file that is not Markdown", where)
				} else if !slices.Contains(anchorsOf(file), anchor) {
					t.Errorf("%s: %s has no heading with the anchor #%s (it has %s)", where,
						strings.TrimPrefix(filepath.ToSlash(file), "../"), anchor, strings.Join(anchorsOf(file), ", "))
				}
			}
		}
	}
}

// inCodeSpan tells whether pos is inside a `code span` of its line.
func inCodeSpan(text string, pos int) bool {
	start := strings.LastIndex(text[:pos], "\n") + 1
	return strings.Count(text[start:pos], "`")%2 == 1
}

// headingAnchors are the anchors GitHub and GitLab give a page's headings: lower case, the
// Markdown marks and punctuation dropped, spaces as hyphens, "-1", "-2" after repeats.
func headingAnchors(text string) []string {
	var anchors []string
	seen := map[string]int{}
	for _, m := range heading.FindAllStringSubmatch(prose(text), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			anchors = append(anchors, fmt.Sprintf("%s-%d", a, n))
		} else {
			anchors = append(anchors, a)
		}
		seen[a]++
	}
	return anchors
}

func TestHeadingAnchors(t *testing.T) {
	got := headingAnchors("# Title\n## The database's sql_mode\n```sh\n# not a heading\n```\n## `versions.yaml`\n" +
		"## CI/CD variables\n## Pipelines: build, test, publish\n## Tags\n## Tags\n")
	want := []string{"title", "the-databases-sql_mode", "versionsyaml", "cicd-variables", "pipelines-build-test-publish", "tags", "tags-1"}
	if !slices.Equal(got, want) {
		t.Errorf("headingAnchors = %q, want %q", got, want)
	}
}

// TestReadmeTestCommand checks that the README shows, as a command of its own, exactly what
// .ci/run runs last: the test command of CI.
func TestReadmeTestCommand(t *testing.T) {
	run, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(run)), "\n")
	command := strings.TrimSpace(lines[len(lines)-1])
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range fence.FindAllString(string(readme), -1) {
		if slices.Contains(strings.Split(block, "\n"), command) {
			return
		}
	}
	t.Errorf("README.md: no code block has the line %q, the command .ci/run runs last: the README's test command must be CI's", command)
}

// TestDaggerVersionSaidOnce checks that the documentation names the Dagger version of go.mod
// in one place, the developers' page, which the others link.
func TestDaggerVersionSaidOnce(t *testing.T) {
	data, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	version := ""
	for _, r := range mod.Require {
		if r.Mod.Path == "dagger.io/dagger" {
			version = strings.TrimPrefix(r.Mod.Version, "v")
		}
	}
	if version == "" {
		t.Fatal("go.mod: no requirement of dagger.io/dagger")
	}
	const home = "../docs/developers.md"
	for _, page := range pages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		n := strings.Count(string(data), version)
		switch {
		case page == home && n == 0:
			t.Errorf("%s does not name Dagger %s, the version of dagger.io/dagger in go.mod", home, version)
		case page != home && n > 0:
			t.Errorf("%s names Dagger %s: link %s#engine instead", page, version, home)
		}
	}
}
