package examples

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// TestReadmeQuickStart loads the README's first-try Compose file as docker compose would and
// checks that it works as written: the login matches the database, one data volume, cron as
// its own container that starts after web and does not migrate, and the same install choices
// (DEMO_DATA) in both, whichever takes the setup lock first.
func TestReadmeQuickStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(readmeBlock(t, "A first try", "```yaml\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	p := loadCompose(t, dir)
	db, web, cron := service(t, p, "db"), service(t, p, "web"), service(t, p, "cron")

	checkMariaDBImage(t, db.Image)
	checkUTF8MB4(t, db.Command)
	checkSQLMode(t, db.Command)
	serviceVolume(t, p, db, "/var/lib/mysql")
	for _, pair := range [][2]string{{"MYSQL_DATABASE", "MARIADB_DATABASE"}, {"MYSQL_USER", "MARIADB_USER"}, {"MYSQL_PASSWORD", "MARIADB_PASSWORD"}} {
		if got, want := serviceEnv(web, pair[0]), serviceEnv(db, pair[1]); got == "" || got != want {
			t.Errorf("web: %s=%q, want db's %s=%q", pair[0], got, pair[1], want)
		}
	}
	if host := serviceEnv(web, "MYSQL_HOST"); host != "db" {
		t.Errorf("web: MYSQL_HOST=%q, want db", host)
	}

	if web.Image != apacheTag || cron.Image != apacheTag {
		t.Errorf("images: web %q, cron %q, want both %q", web.Image, cron.Image, apacheTag)
	}
	if serviceVolume(t, p, web, dataDir).Source != serviceVolume(t, p, cron, dataDir).Source {
		t.Errorf("web and cron mount different data volumes")
	}
	if !slices.Equal(cron.Command, []string{cronRunner}) {
		t.Errorf("cron: command %q, want [%s]", cron.Command, cronRunner)
	}
	checkPublishes(t, p, "web", httpPort)
	checkDependsOn(t, cron, "web", types.ServiceConditionHealthy)

	if serviceEnv(web, "AUTO_MIGRATE") != "1" || serviceEnv(cron, "AUTO_MIGRATE") != "" {
		t.Errorf("AUTO_MIGRATE: web %q, cron %q, want web \"1\" and cron unset", serviceEnv(web, "AUTO_MIGRATE"), serviceEnv(cron, "AUTO_MIGRATE"))
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

// readmeBlock returns the body of the first code block that opens with fence after the
// paragraph starting with heading in ../README.md.
func readmeBlock(t *testing.T, heading, fence string) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "\n"+heading)
	if ok {
		_, after, ok = strings.Cut(after, "\n"+fence)
	}
	block, _, closed := strings.Cut(after, "\n```\n")
	if !ok || !closed {
		t.Fatalf("README.md: no %q block after %q", strings.TrimSpace(fence), heading)
	}
	return block + "\n"
}
