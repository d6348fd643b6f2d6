package dockerfiles

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// TestDataDirectory: the first start links public/pictures and public/plugins_packages into
// the data directory and seeds them with what the tree ships, from a tree in either layout,
// without overwriting what is there, and hands the data directory to the web server's user.
func TestDataDirectory(t *testing.T) {
	cases := []struct {
		name   string
		tree   treeSpec
		before map[string]string // files in the data directory before the start
		want   map[string]string // files in the data directory after it
	}{
		{
			name: "plain tree", tree: treeSpec{layout: "6"},
			want: map[string]string{"pictures/user/nobody_normal.png": "shipped avatar\n", "pictures/licenses/cc.svg": "shipped licence logo\n", "plugins_packages/.gitkeep": ""},
		},
		{
			name: "image layout", tree: treeSpec{layout: "6", imageLayout: true},
			want: map[string]string{"pictures/user/nobody_normal.png": "shipped avatar\n", "pictures/licenses/cc.svg": "shipped licence logo\n", "plugins_packages/.gitkeep": ""},
		},
		{
			name: "files already there are kept", tree: treeSpec{layout: "6", imageLayout: true},
			before: map[string]string{"pictures/user/nobody_normal.png": "the site's own avatar\n", "upload_doc/ab/cd": "an upload\n"},
			want:   map[string]string{"pictures/user/nobody_normal.png": "the site's own avatar\n", "pictures/licenses/cc.svg": "shipped licence logo\n", "upload_doc/ab/cd": "an upload\n"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := newDatabase(t)
			root := newTree(t, c.tree)
			for name, content := range c.before {
				testutil.WriteFile(t, filepath.Join(root, "data", name), content)
			}
			if _, code := entrypoint(t, root, db, fixtureLog(t)); code != 0 {
				t.Fatalf("exit code %d", code)
			}
			for name, content := range c.want {
				if got := mustRead(t, filepath.Join(root, "data", name)); got != content {
					t.Errorf("data/%s holds %q, want %q", name, got, content)
				}
			}
			for _, name := range []string{"pictures", "plugins_packages"} {
				if link, err := os.Readlink(filepath.Join(root, "public", name)); err != nil || link != "../data/"+name {
					t.Errorf("public/%s links to %q (%v), want ../data/%s", name, link, err, name)
				}
			}
			for _, dir := range []string{"upload_doc", "archiv", "oer", "media_cache", "assets_cache"} {
				if fi, err := os.Stat(filepath.Join(root, "data", dir)); err != nil || !fi.IsDir() {
					t.Errorf("data/%s is missing: %v", dir, err)
				}
			}
			if runningAsRoot() {
				for _, name := range []string{".", "pictures", "pictures/user/nobody_normal.png", "upload_doc"} {
					if uid := ownerOf(t, filepath.Join(root, "data", name)); uid != webUID(t) {
						t.Errorf("data/%s belongs to uid %d, not to www-data", name, uid)
					}
				}
			}
		})
	}
}

func ownerOf(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

// TestReplacement: a new container (a pristine tree, the same data directory and database)
// serves every uploaded file, picture and installed plugin of the one it replaces.
func TestReplacement(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	log := fixtureLog(t)
	old := newTree(t, treeSpec{layout: "6", imageLayout: true})
	if _, code := entrypoint(t, old, db, log); code != 0 {
		t.Fatalf("first container: exit code %d", code)
	}
	// What Stud.IP writes at run time, through the paths it uses.
	written := map[string]string{
		"data/upload_doc/4f/4f2a":                        "an uploaded file\n",
		"public/pictures/user/4f2a_normal.png":           "a user's picture\n",
		"public/plugins_packages/acme/Plugin/plugin.php": "<?php // an installed plugin\n",
	}
	for name, content := range written {
		testutil.WriteFile(t, filepath.Join(old, name), content)
	}
	db.mustExec(t, "INSERT INTO auth_user_md5 VALUES ('added_later')")

	replacement := newTree(t, treeSpec{layout: "6"})
	moveDataDirectory(t, old, replacement)
	out, code := entrypoint(t, replacement, db, log)
	if code != 0 {
		t.Fatalf("replacement: exit code %d", code)
	}
	mustContain(t, out, "installing nothing")
	for name, content := range written {
		if got := mustRead(t, filepath.Join(replacement, name)); got != content {
			t.Errorf("the replacement's %s holds %q, want %q", name, got, content)
		}
	}
	if got := db.mustExec(t, "SELECT COUNT(*) FROM auth_user_md5 WHERE username = 'added_later'"); got != "1" {
		t.Errorf("the replacement lost a row")
	}
}

// moveDataDirectory mounts one container's data volume into the next one's tree.
func moveDataDirectory(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(filepath.Join(from, "data"), filepath.Join(to, "data")); err != nil {
		t.Fatal(err)
	}
}

// TestUpgrade: a newer image (a tree with one more migration) started on the database and data
// of an older one keeps all of it and, with AUTO_MIGRATE, migrates; two such containers
// started at once never run the migrations at the same time.
func TestUpgrade(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	log := fixtureLog(t)
	v1 := newTree(t, treeSpec{layout: "6", migrations: []string{"001_add_news.sql"}, imageLayout: true})
	if _, code := entrypoint(t, v1, db, log, "AUTO_MIGRATE=1"); code != 0 {
		t.Fatalf("v1: exit code %d", code)
	}
	db.mustExec(t, "INSERT INTO news (topic) VALUES ('written by v1')")
	testutil.WriteFile(t, filepath.Join(v1, "data/upload_doc/v1"), "uploaded under v1\n")
	rowsBefore := db.mustExec(t, "SELECT username FROM auth_user_md5 ORDER BY username")

	v2 := newTree(t, treeSpec{layout: "6", migrations: []string{"001_add_news.sql", "002_add_news_body.sql"}, imageLayout: true})
	moveDataDirectory(t, v1, v2)
	// Two replicas of the new image on one data volume (ReadWriteMany storage); their trees
	// are the same image, so they share one here.
	runs := []*scriptRun{
		startEntrypoint(t, v2, db, log, "AUTO_MIGRATE=1"),
		startEntrypoint(t, v2, db, log, "AUTO_MIGRATE=1"),
	}
	for _, r := range runs {
		if code := r.wait(); code != 0 {
			t.Errorf("v2: exit code %d", code)
		}
	}
	if got := db.mustExec(t, "SELECT version FROM schema_version ORDER BY version"); got != "1\n2" {
		t.Errorf("schema versions %q, want 1 and 2", got)
	}
	if got := db.mustExec(t, "SELECT topic FROM news"); got != "written by v1" {
		t.Errorf("news after the upgrade: %q", got)
	}
	if got := db.mustExec(t, "SELECT username FROM auth_user_md5 ORDER BY username"); got != rowsBefore {
		t.Errorf("users after the upgrade %q, were %q", got, rowsBefore)
	}
	if got := mustRead(t, filepath.Join(v2, "data/upload_doc/v1")); got != "uploaded under v1\n" {
		t.Errorf("the upload after the upgrade holds %q", got)
	}
	// v1 migrated once; each v2 container once more, one after the other.
	checkNoOverlap(t, consoleRuns(t, log), 3)
}
