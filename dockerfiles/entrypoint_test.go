package dockerfiles

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// TestEntrypointInstall starts a container's entrypoint on an empty database, then again on
// the same database: the first start installs the dumps of the tree's layout, the second
// keeps every row and installs nothing, and neither overwrites a configuration file.
func TestEntrypointInstall(t *testing.T) {
	cases := []struct {
		name, layout, demo string
		dumps              []string
	}{
		{"5.x", "5", "", []string{"studip.sql", "studip_default_data.sql", "studip_resources_default_data.sql", "studip_root_user.sql"}},
		{"5.x with demo data", "5", "1", []string{"studip.sql", "studip_default_data.sql", "studip_resources_default_data.sql", "studip_root_user.sql",
			"studip_demo_data.sql", "studip_mvv_demo_data.sql", "studip_resources_demo_data.sql"}},
		{"6.x", "6", "", []string{"studip-base-installation.sql", "studip-root-user.sql"}},
		{"6.x with demo data", "6", "true", []string{"studip-demo-installation.sql"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := newDatabase(t)
			root := newTree(t, treeSpec{layout: c.layout})
			log := fixtureLog(t)

			out, code := entrypoint(t, root, db, log, "DEMO_DATA="+c.demo)
			if code != 0 {
				t.Fatalf("first start: exit code %d", code)
			}
			mustContain(t, out, finalCommandRan, "studip-entrypoint: installed Stud.IP")
			if got := lines(db.mustExec(t, "SELECT name FROM installed_dumps ORDER BY id")); !slices.Equal(got, c.dumps) {
				t.Errorf("installed %v, want %v", got, c.dumps)
			}
			if got := db.tables(t); slices.Contains(got, unfinishedTable) {
				t.Errorf("a finished install left %s behind: %v", unfinishedTable, got)
			}
			// The dumps are read as utf8mb4: the text arrives as it was written.
			if got := db.mustExec(t, "SELECT value FROM config WHERE field = 'UNI_NAME_CLEAN'"); got != "Universität Prüfstadt 🎓" {
				t.Errorf("UNI_NAME_CLEAN = %q", got)
			}
			if got, want := mustRead(t, filepath.Join(root, "config/config_local.inc.php")), mustRead(t, "common/config_local.inc.php"); got != want {
				t.Errorf("config_local.inc.php is not the template")
			}
			if got, want := mustRead(t, filepath.Join(root, "config/config.inc.php")), mustRead(t, filepath.Join(root, "config/config.inc.php.dist")); got != want {
				t.Errorf("config.inc.php is not config.inc.php.dist")
			}

			// What the site did between the starts, and an administrator's own configuration.
			db.mustExec(t, "INSERT INTO auth_user_md5 VALUES ('added_later')")
			testutil.WriteFile(t, filepath.Join(root, "config/config_local.inc.php"), "<?php // the administrator's\n")
			rowsBefore := db.mustExec(t, "SELECT username FROM auth_user_md5 ORDER BY username")

			out, code = entrypoint(t, root, db, log, "DEMO_DATA="+c.demo)
			if code != 0 {
				t.Fatalf("restart: exit code %d", code)
			}
			mustContain(t, out, finalCommandRan, "tables: installing nothing", "keeping config/config_local.inc.php", "keeping config/config.inc.php")
			if got := db.mustExec(t, "SELECT username FROM auth_user_md5 ORDER BY username"); got != rowsBefore {
				t.Errorf("after the restart the users are %q, were %q", got, rowsBefore)
			}
			if got := lines(db.mustExec(t, "SELECT name FROM installed_dumps ORDER BY id")); !slices.Equal(got, c.dumps) {
				t.Errorf("after the restart installed %v, want %v", got, c.dumps)
			}
			if got := mustRead(t, filepath.Join(root, "config/config_local.inc.php")); got != "<?php // the administrator's\n" {
				t.Errorf("the restart overwrote config_local.inc.php: %q", got)
			}
		})
	}
}

// unfinishedTable marks a first install that has not finished (docker-entrypoint.sh).
const unfinishedTable = "studip_image_unfinished_install"

// TestEntrypointUnfinishedInstall: a first install that stopped half-way (a dump failed, or
// its container was stopped) leaves its marker; the next start drops what it left, views and
// tables with foreign keys alike, and installs again.
func TestEntrypointUnfinishedInstall(t *testing.T) {
	want := []string{"studip-base-installation.sql", "studip-root-user.sql"}
	t.Run("a dump failed", func(t *testing.T) {
		t.Parallel()
		db := newDatabase(t)
		root := newTree(t, treeSpec{layout: "6"})
		log := fixtureLog(t)
		testutil.WriteFile(t, filepath.Join(root, "db/studip-root-user.sql"), "THIS IS NOT SQL;\n")
		out, code := entrypoint(t, root, db, log)
		if code == 0 {
			t.Fatalf("exit code 0 with a broken dump")
		}
		mustContain(t, out, "installing db/studip-root-user.sql into database "+db.name+" failed; the next start drops the partial installation")
		if got := db.tables(t); !slices.Contains(got, unfinishedTable) {
			t.Fatalf("the failed install left no %s: %v", unfinishedTable, got)
		}

		copyFile(t, "testdata/db6/studip-root-user.sql", filepath.Join(root, "db/studip-root-user.sql"))
		out, code = entrypoint(t, root, db, log)
		if code != 0 {
			t.Fatalf("the start after the failed one: exit code %d", code)
		}
		mustContain(t, out, "!!! AN EARLIER INSTALL DID NOT FINISH: database "+db.name+" holds the 5 tables of a first install", finalCommandRan)
		if got := lines(db.mustExec(t, "SELECT name FROM installed_dumps ORDER BY id")); !slices.Equal(got, want) {
			t.Errorf("installed %v, want %v", got, want)
		}
		if got := db.tables(t); slices.Contains(got, unfinishedTable) {
			t.Errorf("%s is still there: %v", unfinishedTable, got)
		}
	})
	t.Run("stopped half-way", func(t *testing.T) {
		t.Parallel()
		db := newDatabase(t)
		// What a stopped install may leave: a table referenced by a foreign key (it sorts
		// first, so the drop needs the checks off), a view, a name that needs quoting.
		db.mustExec(t, "CREATE TABLE "+unfinishedTable+" (started TIMESTAMP);"+
			"CREATE TABLE installed_dumps (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL);"+
			"INSERT INTO installed_dumps (name) VALUES ('from the stopped install');"+
			"CREATE TABLE a_parent (id INT PRIMARY KEY) ENGINE=InnoDB;"+
			"CREATE TABLE b_child (parent INT, FOREIGN KEY (parent) REFERENCES a_parent (id)) ENGINE=InnoDB;"+
			"CREATE VIEW c_view AS SELECT id FROM a_parent;"+
			"CREATE TABLE `odd ``name` (x INT)")
		out, code := entrypoint(t, newTree(t, treeSpec{layout: "6"}), db, fixtureLog(t))
		if code != 0 {
			t.Fatalf("exit code %d", code)
		}
		mustContain(t, out, "holds the 6 tables of a first install that stopped half-way", "dropping them and installing again", "installed Stud.IP into database")
		if got, want := db.tables(t), []string{"auth_user_md5", "config", "installed_dumps", "schema_version"}; !slices.Equal(got, want) {
			t.Errorf("tables after the new install: %v, want %v", got, want)
		}
		if got := lines(db.mustExec(t, "SELECT name FROM installed_dumps ORDER BY id")); !slices.Equal(got, want) {
			t.Errorf("installed %v, want %v", got, want)
		}
	})
}

// TestEntrypointMigrations runs the entrypoint with and without AUTO_MIGRATE, with migrations
// that work and one that fails.
func TestEntrypointMigrations(t *testing.T) {
	cases := []struct {
		name       string
		tree       treeSpec
		env        []string
		wantCode   int
		wantOut    []string
		unwanted   []string
		wantSchema string // versions in schema_version after the start
		migrateRun int
	}{
		{
			name: "5.x, AUTO_MIGRATE", tree: treeSpec{layout: "5", migrations: []string{"001_add_news.sql", "002_add_news_body.sql"}},
			env: []string{"AUTO_MIGRATE=1"}, wantOut: []string{finalCommandRan, "migrations done"}, wantSchema: "1\n2", migrateRun: 1,
		},
		{
			name: "6.x, AUTO_MIGRATE", tree: treeSpec{layout: "6", migrations: []string{"001_add_news.sql", "002_add_news_body.sql"}},
			env: []string{"AUTO_MIGRATE=yes"}, wantOut: []string{finalCommandRan, "running the migrations: php cli/studip migrate", "migrations done"}, wantSchema: "1\n2", migrateRun: 1,
		},
		{
			name: "legacy cli/migrate.php, AUTO_MIGRATE", tree: treeSpec{layout: "5", migrations: []string{"001_add_news.sql"}, legacyCLI: true},
			env: []string{"AUTO_MIGRATE=on"}, wantOut: []string{finalCommandRan, "running the migrations: php cli/migrate.php", "migrations done"}, wantSchema: "1", migrateRun: 1,
		},
		{
			name: "failing migration", tree: treeSpec{layout: "6", migrations: []string{"001_add_news.sql", "003_broken.sql"}},
			env: []string{"AUTO_MIGRATE=1"}, wantOut: []string{finalCommandRan, "!!! MIGRATIONS FAILED (exit code 1)", "Starting anyway"}, wantSchema: "1", migrateRun: 1,
		},
		{
			name: "failing migration, STUDIP_MIGRATE_STRICT", tree: treeSpec{layout: "6", migrations: []string{"001_add_news.sql", "003_broken.sql"}},
			env: []string{"AUTO_MIGRATE=1", "STUDIP_MIGRATE_STRICT=1"}, wantCode: 1,
			wantOut: []string{"error: MIGRATIONS FAILED (exit code 1); STUDIP_MIGRATE_STRICT is set: not starting"}, unwanted: []string{finalCommandRan},
			wantSchema: "1", migrateRun: 1,
		},
		{
			name: "no AUTO_MIGRATE", tree: treeSpec{layout: "6", migrations: []string{"001_add_news.sql"}},
			env: []string{"AUTO_MIGRATE=0"}, wantOut: []string{finalCommandRan}, unwanted: []string{"running the migrations"}, migrateRun: 0,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := newDatabase(t)
			root := newTree(t, c.tree)
			log := fixtureLog(t)
			out, code := entrypoint(t, root, db, log, c.env...)
			if code != c.wantCode {
				t.Errorf("exit code %d, want %d", code, c.wantCode)
			}
			mustContain(t, out, c.wantOut...)
			mustNotContain(t, out, c.unwanted...)
			if got := db.mustExec(t, "SELECT version FROM schema_version ORDER BY version"); got != c.wantSchema {
				t.Errorf("schema versions %q, want %q", got, c.wantSchema)
			}
			runs := consoleRuns(t, log)
			if got := countRuns(runs, "migrate"); got != c.migrateRun {
				t.Errorf("the migration ran %d times, want %d", got, c.migrateRun)
			}
			if runningAsRoot() {
				for _, r := range runs {
					if r.uid != webUID(t) {
						t.Errorf("the console ran as uid %d, not as www-data", r.uid)
					}
				}
			}
		})
	}
}

// TestEntrypointMigrationHint: a start without AUTO_MIGRATE on an installed database names the
// command that runs the migrations.
func TestEntrypointMigrationHint(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	root := newTree(t, treeSpec{layout: "6"})
	log := fixtureLog(t)
	if out, code := entrypoint(t, root, db, log); code != 0 || strings.Contains(out, "AUTO_MIGRATE is off") {
		t.Fatalf("first start: exit code %d; a fresh installation needs no hint", code)
	}
	out, code := entrypoint(t, root, db, log)
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	mustContain(t, out, "AUTO_MIGRATE is off", "as www-data in "+root+": php cli/studip migrate")
}

// TestEntrypointErrors: what stops a start, with a message that says why, and how fast.
func TestEntrypointErrors(t *testing.T) {
	closedPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		tree     treeSpec
		env      func(db *database) []string // replaces the database's variables
		want     string
		min, max time.Duration
	}{
		{name: "MYSQL_HOST missing", tree: treeSpec{layout: "6"}, env: without("MYSQL_HOST"), want: "error: checking the environment: MYSQL_HOST is required"},
		{name: "MYSQL_USER missing", tree: treeSpec{layout: "6"}, env: without("MYSQL_USER"), want: "error: checking the environment: MYSQL_USER is required"},
		{name: "MYSQL_DATABASE missing", tree: treeSpec{layout: "6"}, env: without("MYSQL_DATABASE"), want: "error: checking the environment: MYSQL_DATABASE is required"},
		{name: "password missing", tree: treeSpec{layout: "6"}, env: without("MYSQL_PASSWORD"), want: "error: checking the environment: MYSQL_PASSWORD or MYSQL_PASSWORD_FILE is required"},
		{name: "password twice", tree: treeSpec{layout: "6"}, env: with("MYSQL_PASSWORD_FILE=/etc/hostname"), want: "MYSQL_PASSWORD and MYSQL_PASSWORD_FILE are both set"},
		{name: "password file unreadable", tree: treeSpec{layout: "6"}, env: func(db *database) []string {
			return append(without("MYSQL_PASSWORD")(db), "MYSQL_PASSWORD_FILE=/nonexistent/secret")
		}, want: "reading MYSQL_PASSWORD_FILE: /nonexistent/secret is not a readable file"},
		{name: "flag neither true nor false", tree: treeSpec{layout: "6"}, env: with("DEMO_DATA=maybe"), want: "reading DEMO_DATA: 'maybe' is neither true"},
		{name: "a flag of the configuration, mistyped", tree: treeSpec{layout: "6"}, env: with("AUTO_PROXY=ja"), want: "reading AUTO_PROXY: 'ja' is neither true"},
		{name: "caching flag mistyped", tree: treeSpec{layout: "6"}, env: with("STUDIP_CACHING_ENABLE=enabled"), want: "reading STUDIP_CACHING_ENABLE: 'enabled' is neither true"},
		{name: "port not a number", tree: treeSpec{layout: "6"}, env: with("MYSQL_PORT=db"), want: "reading MYSQL_PORT: 'db' is not a whole number"},
		{name: "upload limit not a size", tree: treeSpec{layout: "6"}, env: with("PHP_UPLOAD_LIMIT=1.5G"),
			want: "error: reading PHP_UPLOAD_LIMIT: '1.5G' is not a size: want digits, optionally followed by K, M or G"},
		{
			name: "database unreachable", tree: treeSpec{layout: "6"}, env: with(fmt.Sprint("MYSQL_PORT=", closedPort), "STUDIP_DB_WAIT=2"),
			want: fmt.Sprintf("error: waiting for the database: 127.0.0.1:%d did not answer within 2 s", closedPort),
			min:  2 * time.Second, max: 10 * time.Second,
		},
		{
			name: "wrong password", tree: treeSpec{layout: "6"}, env: func(db *database) []string {
				return append(without("MYSQL_PASSWORD")(db), "MYSQL_PASSWORD=wrong", "STUDIP_DB_WAIT=60")
			},
			want: "Access denied for user", max: 10 * time.Second,
		},
		{
			name: "tree without dumps", tree: treeSpec{noDumps: true}, env: with(),
			want: "has no Stud.IP dumps; looked for db/studip-base-installation.sql, db/studip-demo-installation.sql (Stud.IP 6) and db/studip.sql (Stud.IP 5)",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := newDatabase(t)
			root := newTree(t, c.tree)
			r := startScript(t, append(c.env(db), "STUDIP_ROOT="+root), []string{db.password}, "docker-entrypoint.sh", serverArgs...)
			r.checkEnd(c.want)
			mustNotContain(t, r.output.String(), finalCommandRan)
			if r.elapsed < c.min || (c.max > 0 && r.elapsed > c.max) {
				t.Errorf("gave up after %v, want between %v and %v", r.elapsed, c.min, c.max)
			}
		})
	}
}

// with returns the database's variables plus extra ones (later ones win in exec).
func with(extra ...string) func(*database) []string {
	return func(db *database) []string { return append(db.env(), extra...) }
}

// without returns the database's variables but one.
func without(name string) func(*database) []string {
	return func(db *database) []string {
		return slices.DeleteFunc(db.env(), func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
	}
}

// TestEntrypointPasswordFile: the password can come from a file (a Docker or Kubernetes
// secret); both the entrypoint and Stud.IP's configuration read it.
func TestEntrypointPasswordFile(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	root := newTree(t, treeSpec{layout: "6", migrations: []string{"001_add_news.sql"}})
	secret := filepath.Join(tempDir(t, 0o755), "password")
	testutil.WriteFile(t, secret, db.password+"\n")
	env := append(without("MYSQL_PASSWORD")(db), "STUDIP_ROOT="+root, "FIXTURE_LOG="+fixtureLog(t), "MYSQL_PASSWORD_FILE="+secret, "AUTO_MIGRATE=1")
	r := startScript(t, env, []string{db.password}, "docker-entrypoint.sh", serverArgs...)
	if code := r.wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	// The fixture console reached the database with config_local.inc.php's credentials.
	mustContain(t, r.output.String(), "studip-entrypoint: migrations done", finalCommandRan)
	if got := db.mustExec(t, "SELECT version FROM schema_version"); got != "1" {
		t.Errorf("schema versions %q", got)
	}
}

// TestEntrypointConcurrentStarts starts two containers on one empty database and one fresh
// data volume at once: one installs, the other waits for the lock and installs nothing, and
// their migrations never run at the same time.
func TestEntrypointConcurrentStarts(t *testing.T) {
	for _, layout := range []string{"5", "6"} {
		t.Run(layout+".x", func(t *testing.T) {
			t.Parallel()
			db := newDatabase(t)
			log := fixtureLog(t)
			// One tree (of the image's layout) for both: replicas on one data volume
			// (ReadWriteMany storage) seed it together.
			root := newTree(t, treeSpec{layout: layout, migrations: []string{"001_add_news.sql"}, imageLayout: true})
			runs := []*scriptRun{
				startEntrypoint(t, root, db, log, "AUTO_MIGRATE=1"),
				startEntrypoint(t, root, db, log, "AUTO_MIGRATE=1"),
			}
			installs := 0
			for _, r := range runs {
				if code := r.wait(); code != 0 {
					t.Errorf("exit code %d", code)
				}
				installs += strings.Count(r.output.String(), "installed Stud.IP into database")
			}
			if installs != 1 {
				t.Errorf("%d installations, want 1", installs)
			}
			if got := db.mustExec(t, "SELECT name, COUNT(*) FROM installed_dumps GROUP BY name HAVING COUNT(*) > 1"); got != "" {
				t.Errorf("dumps installed twice: %s", got)
			}
			checkNoOverlap(t, consoleRuns(t, log), 2)
		})
	}
}

// TestEntrypointLockOutlivesWaitTimeout: on a server that closes connections idle for a second,
// the setup lock still holds through a migration that takes three: the second container waits.
func TestEntrypointLockOutlivesWaitTimeout(t *testing.T) {
	t.Parallel()
	db := newDatabaseOn(t, startServer(t, "--wait-timeout=1", "--interactive-timeout=1"))
	log := fixtureLog(t)
	root := newTree(t, treeSpec{layout: "6", migrations: []string{"004_slow.sql"}, imageLayout: true})
	runs := []*scriptRun{
		startEntrypoint(t, root, db, log, "AUTO_MIGRATE=1"),
		startEntrypoint(t, root, db, log, "AUTO_MIGRATE=1"),
	}
	for _, r := range runs {
		if code := r.wait(); code != 0 {
			t.Errorf("exit code %d", code)
		}
		mustContain(t, r.output.String(), "released the setup lock")
		mustNotContain(t, r.output.String(), "LOST THE SETUP LOCK")
	}
	checkNoOverlap(t, consoleRuns(t, log), 2)
}

// checkNoOverlap checks that the migrations ran want times, to their end, one after the other.
func checkNoOverlap(t *testing.T, runs []consoleRun, want int) {
	t.Helper()
	runs = slices.DeleteFunc(runs, func(r consoleRun) bool { return r.command != "migrate" })
	if len(runs) != want {
		t.Fatalf("%d migration runs, want %d:\n%s", len(runs), want, describe(runs))
	}
	slices.SortFunc(runs, func(a, b consoleRun) int { return int((a.start - b.start) * 1e6) })
	for i, r := range runs {
		if !r.ended {
			t.Errorf("a migration run did not end:\n%s", describe(runs))
		}
		if i > 0 && r.start < runs[i-1].end {
			t.Errorf("two migration runs overlap:\n%s", describe(runs))
		}
	}
}

// TestEntrypointServerCommand: the entrypoint sets up for the image's server, named or by its
// path; a first argument that is an option goes to the server, as in the official images (the
// apache image has apache2-foreground, the fpm image php-fpm).
func TestEntrypointServerCommand(t *testing.T) {
	cases := []struct {
		name, bin string
		args      func(bin string) []string
		want      string
	}{
		{"apache, options", "testdata/bin-apache", func(string) []string { return []string{"-DFOREGROUND", "-X"} },
			"apache2-foreground called with: -DFOREGROUND -X"},
		{"fpm-alpine, options", "testdata/bin-fpm", func(string) []string { return []string{"-F", "-R"} },
			"php-fpm called with: -F -R"},
		{"fpm-alpine by its path", "testdata/bin-fpm", func(bin string) []string { return []string{filepath.Join(bin, "php-fpm"), "-F"} },
			"php-fpm called with: -F"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := newDatabase(t)
			root := newTree(t, treeSpec{layout: "6"})
			bin, err := filepath.Abs(c.bin)
			if err != nil {
				t.Fatal(err)
			}
			// Only this server on PATH, as in its image.
			env := append(db.env(), "STUDIP_ROOT="+root, "PATH="+bin+":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
			r := startScript(t, env, []string{db.password}, "docker-entrypoint.sh", c.args(bin)...)
			if code := r.wait(); code != 0 {
				t.Fatalf("exit code %d", code)
			}
			mustContain(t, r.output.String(), "studip-entrypoint: installed Stud.IP", c.want)
		})
	}
}

// TestEntrypointOtherCommands: any command but the server and studip-cron runs at once, as in
// the official images: without a database, touching nothing, saying nothing of its own, with
// the command's exit code.
func TestEntrypointOtherCommands(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		tool     string // the tool the command needs
		wantOut  string // all of the output
		wantCode int
	}{
		{name: "php", args: []string{"php", "-r", "echo 42;"}, tool: "php", wantOut: "42"},
		{name: "sh, its exit code", args: []string{"sh", "-c", "echo ok; exit 3"}, wantOut: "ok\n", wantCode: 3},
		{name: "a server's name as an argument", args: []string{"echo", "apache2-foreground"}, wantOut: "apache2-foreground\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.tool != "" {
				testutil.LookTool(t, c.tool)
			}
			root := tempDir(t, 0o755)
			r := startScript(t, []string{"STUDIP_ROOT=" + root}, nil, "docker-entrypoint.sh", c.args...)
			if code := r.wait(); code != c.wantCode {
				t.Errorf("exit code %d, want %d", code, c.wantCode)
			}
			if got := r.output.String(); got != c.wantOut {
				t.Errorf("output %q, want %q", got, c.wantOut)
			}
			if entries, err := os.ReadDir(root); err != nil || len(entries) > 0 {
				t.Errorf("STUDIP_ROOT holds %v (%v), want nothing", entries, err)
			}
		})
	}
}

// TestEntrypointSQLMode: a database server whose global sql_mode is strict, as MariaDB's
// default is, gets a loud warning on both streams; the start goes on.
func TestEntrypointSQLMode(t *testing.T) {
	cases := []struct {
		name    string
		options []string // of a server of the test's own; none: the package's server, with MariaDB's defaults
		strict  bool
	}{
		{name: "MariaDB's default", strict: true},
		{name: "--sql-mode=NO_ENGINE_SUBSTITUTION, as the examples run it", options: []string{"--sql-mode=NO_ENGINE_SUBSTITUTION"}},
		{name: "STRICT_ALL_TABLES", options: []string{"--sql-mode=STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION"}, strict: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := needServer(t)
			if c.options != nil {
				srv = startServer(t, c.options...)
			}
			db := newDatabaseOn(t, srv)
			r := startEntrypoint(t, newTree(t, treeSpec{layout: "6"}), db, fixtureLog(t))
			if code := r.wait(); code != 0 {
				t.Fatalf("exit code %d", code)
			}
			out := r.output.String()
			mustContain(t, out, finalCommandRan)
			if !c.strict {
				mustNotContain(t, out, "STRICT SQL MODE")
				return
			}
			mustContain(t, out, "studip-entrypoint: !!! STRICT SQL MODE on the database server (", "--sql-mode=NO_ENGINE_SUBSTITUTION", "Starting anyway")
			mustContain(t, r.stderr.String(), "studip-entrypoint: warning: STRICT SQL MODE on the database server (")
		})
	}
}

// TestPasswordNeverOnCommandLine samples every process's command line (what ps shows to
// anyone in the container) while the entrypoint installs and migrates: the password must
// never be there.
func TestPasswordNeverOnCommandLine(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	root := newTree(t, treeSpec{layout: "5", migrations: []string{"001_add_news.sql", "002_add_news_body.sql"}})
	r := startEntrypoint(t, root, db, fixtureLog(t), "AUTO_MIGRATE=1", "DEMO_DATA=1")
	seen := map[string]bool{}
	for sampling := true; sampling; {
		select {
		case <-r.done:
			sampling = false
		case <-time.After(2 * time.Millisecond):
		}
		for _, cmdline := range commandLines() {
			if strings.Contains(cmdline, db.password) {
				t.Errorf("a command line shows the password: %q", cmdline)
			}
			for _, marker := range []string{"mariadb --defaults-file=", "php cli/studip migrate"} {
				if strings.Contains(cmdline, marker) {
					seen[marker] = true
				}
			}
		}
	}
	if code := r.wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	// The sampling saw the database client and the console, or it proved nothing.
	if len(seen) != 2 {
		t.Errorf("sampling saw only %v of the entrypoint's clients", seen)
	}
}

// commandLines reads the command line of every process, with spaces between the arguments.
func commandLines() []string {
	entries, _ := os.ReadDir("/proc")
	var cmdlines []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		if dt, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil {
			cmdlines = append(cmdlines, strings.ReplaceAll(string(dt), "\x00", " "))
		}
	}
	return cmdlines
}
