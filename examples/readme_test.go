package examples

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadmeQuickStart loads the first-try Compose file of the administrators' guide
// (docs/administrators.md) as docker compose would and checks that it works as written: the login matches the database, one data volume, cron as
// its own container that starts after web and does not migrate, and the same install choices
// (DEMO_DATA) in both, whichever takes the setup lock first.
func TestReadmeQuickStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(docBlock(t, "../docs/administrators.md", "## A first try", "```yaml\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	p := loadCompose(t, dir)
	db := checkMariaDBService(t, p)
	web, cron := checkWebAndCron(t, p, apacheTag)
	checkPublishes(t, p, "web", httpPort)
	for _, pair := range [][2]string{{"MYSQL_DATABASE", "MARIADB_DATABASE"}, {"MYSQL_USER", "MARIADB_USER"}, {"MYSQL_PASSWORD", "MARIADB_PASSWORD"}} {
		if got, want := serviceEnv(web, pair[0]), serviceEnv(db, pair[1]); got == "" || got != want {
			t.Errorf("web: %s=%q, want db's %s=%q", pair[0], got, pair[1], want)
		}
	}
	if host := serviceEnv(web, "MYSQL_HOST"); host != "db" {
		t.Errorf("web: MYSQL_HOST=%q, want db", host)
	}
	if serviceEnv(web, "DEMO_DATA") != "1" {
		t.Errorf("web: DEMO_DATA=%q, want 1: the first try is the demo", serviceEnv(web, "DEMO_DATA"))
	}
	for _, name := range slices.Sorted(maps.Keys(web.Environment)) {
		if name != "AUTO_MIGRATE" && serviceEnv(web, name) != serviceEnv(cron, name) {
			t.Errorf("%s: web %q, cron %q, want the same", name, serviceEnv(web, name), serviceEnv(cron, name))
		}
	}
}

// docBlock returns the body of the first code block that opens with fence after the line
// starting with heading in the Markdown file path.
func docBlock(t *testing.T, path, heading, fence string) string {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "\n"+heading)
	if ok {
		_, after, ok = strings.Cut(after, "\n"+fence)
	}
	block, _, closed := strings.Cut(after, "\n```\n")
	if !ok || !closed {
		t.Fatalf("%s: no %q block after %q", path, strings.TrimSpace(fence), heading)
	}
	return block + "\n"
}
