package docs

import (
	"os"
	"regexp"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/versions"
)

// The end-of-life table of versions-and-tags.md repeats the dates of versions/lifecycle.go
// for the lines in use: every row must say what the code says, and every line the shipped
// versions.yaml uses must have a row.
func TestEndOfLifeTable(t *testing.T) {
	data, err := os.ReadFile("versions-and-tags.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`(?m)^\| (PHP|Node) ([0-9.]+) \| ([0-9-]+) \|$`).FindAllStringSubmatch(string(data), -1)
	if len(rows) == 0 {
		t.Fatal("versions-and-tags.md has no end-of-life table")
	}
	tables := map[string][]versions.Runtime{"PHP": versions.PHPLines, "Node": versions.NodeLines}
	listed := map[string]bool{}
	for _, row := range rows {
		kind, name, date := row[1], row[2], row[3]
		listed[kind+" "+name] = true
		r, ok := versions.FindRuntime(tables[kind], name)
		switch {
		case !ok:
			t.Errorf("the table lists %s %s, which versions/lifecycle.go does not", kind, name)
		case r.EOL.Format(time.DateOnly) != date:
			t.Errorf("the table says %s %s ends %s, versions/lifecycle.go says %s", kind, name, date, r.EOL.Format(time.DateOnly))
		}
	}
	f, err := versions.Load("../versions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var used []string
	for _, e := range f.Entries {
		used = append(used, "PHP "+e.PHP, "Node "+e.Node)
	}
	for _, test := range f.Tests {
		used = append(used, "PHP "+test.PHP, "Node "+test.Node)
	}
	for _, u := range used {
		if !listed[u] {
			t.Errorf("versions.yaml uses %s, which the end-of-life table does not list", u)
		}
	}
}
