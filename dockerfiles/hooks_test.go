package dockerfiles

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// hookScript is a hook of the tests: it appends its name, uid and working directory to
// $HOOK_LOG, and with query the number of migrations in schema_version, asked of the
// database with the container's variables (MYSQL_PWD: no password on a command line).
func hookScript(query bool, exit int) string {
	script := "#!/bin/sh\nset -eu\nprintf '%s %s %s\\n' \"${0##*/}\" \"$(id -u)\" \"$(pwd)\" >>\"$HOOK_LOG\"\n"
	if query {
		script += `MYSQL_PWD=$MYSQL_PASSWORD mariadb --host="$MYSQL_HOST" --port="$MYSQL_PORT" --user="$MYSQL_USER" ` +
			`--batch --skip-column-names --execute='SELECT COUNT(*) FROM schema_version' "$MYSQL_DATABASE" >>"$HOOK_LOG"` + "\n"
	}
	return script + fmt.Sprintf("exit %d\n", exit)
}

// hooksDir makes a hooks directory (STUDIP_HOOKS_DIR) that the web server's user can read,
// with the files given (name -> content, mode), and the log the hooks write to.
func hooksDir(t *testing.T, files map[string]string, modes map[string]os.FileMode) (dir, log string) {
	t.Helper()
	dir = tempDir(t, 0o755)
	for name, content := range files {
		path := filepath.Join(dir, name)
		testutil.WriteFile(t, path, content)
		mode, ok := modes[name]
		if !ok {
			mode = 0o755
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir, filepath.Join(tempDir(t, 0o777), "hooks.log")
}

// hookUID is the uid hooks run as: the web server's when the entrypoint runs as root.
func hookUID(t *testing.T) int {
	if runningAsRoot() {
		return webUID(t)
	}
	return os.Getuid()
}

// TestEntrypointHooks: the executable *.sh files of the hooks directory run in the order of
// their names, after the install and the migrations, with the database reachable, in the
// tree, as the web server's user, before the server starts; others are skipped; a failing
// hook stops the start, naming it.
func TestEntrypointHooks(t *testing.T) {
	t.Run("in order, after the migrations", func(t *testing.T) {
		t.Parallel()
		db := newDatabase(t)
		root := newTree(t, treeSpec{layout: "6", migrations: []string{"001_add_news.sql", "002_add_news_body.sql"}})
		dir, log := hooksDir(t, map[string]string{
			"20-second.sh":         hookScript(false, 0),
			"10-first.sh":          hookScript(true, 0),
			"15-not-executable.sh": hookScript(false, 0),
			"30-not-a-hook.txt":    hookScript(false, 0),
		}, map[string]os.FileMode{"15-not-executable.sh": 0o644})
		out, code := entrypoint(t, root, db, fixtureLog(t), "AUTO_MIGRATE=1", "STUDIP_HOOKS_DIR="+dir, "HOOK_LOG="+log)
		if code != 0 {
			t.Fatalf("exit code %d", code)
		}
		uid := hookUID(t)
		if got, want := mustRead(t, log), fmt.Sprintf("10-first.sh %d %s\n2\n20-second.sh %d %s\n", uid, root, uid, root); got != want {
			t.Errorf("the hooks wrote %q, want %q", got, want)
		}
		mustContain(t, out, "skipping hook "+dir+"/15-not-executable.sh: it is not executable")
		mustNotContain(t, out, "30-not-a-hook")
		// Their messages come in this order: migrations, hooks, the server.
		order := []string{"migrations done", "running hook " + dir + "/10-first.sh", "running hook " + dir + "/20-second.sh", finalCommandRan}
		for i := 1; i < len(order); i++ {
			if a, b := strings.Index(out, order[i-1]), strings.Index(out, order[i]); a < 0 || b < a {
				t.Errorf("%q is not before %q", order[i-1], order[i])
			}
		}
	})
	t.Run("a failing hook stops the start", func(t *testing.T) {
		t.Parallel()
		db := newDatabase(t)
		dir, log := hooksDir(t, map[string]string{"10-fails.sh": hookScript(false, 3), "20-after.sh": hookScript(false, 0)}, nil)
		out, code := entrypoint(t, newTree(t, treeSpec{layout: "6"}), db, fixtureLog(t), "STUDIP_HOOKS_DIR="+dir, "HOOK_LOG="+log)
		if code == 0 {
			t.Errorf("exit code 0")
		}
		mustContain(t, out, "studip-entrypoint: error: running hook "+dir+"/10-fails.sh: exit code 3; not starting")
		mustNotContain(t, out, finalCommandRan, "20-after.sh")
		if got := mustRead(t, log); strings.Contains(got, "20-after.sh") {
			t.Errorf("a hook ran after the one that failed: %q", got)
		}
	})
}
