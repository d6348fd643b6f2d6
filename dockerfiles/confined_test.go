package dockerfiles

import (
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// confinement runs a process as the restricted settings of Kubernetes and OpenShift run a
// container of the images: as a user other than root (an arbitrary uid with group 0, or
// www-data), with the Stud.IP tree read-only (as a read-only root filesystem has it) and owned
// by root, and only the data volume and a temporary directory writable. Where the machine
// allows it (root with CAP_SYS_ADMIN), it is built with a private mount namespace (unshare -m):
// the tree is bind-mounted read-only onto itself and the data directory onto the tree's data/.
// Elsewhere (an unprivileged CI container) the tree is read-only to the user by its owner and
// modes alone, and data/ is a link to the data directory. Then setpriv drops to the user.
type confinement struct {
	uid, gid int
	tree     string // read-only to the user
	data     string // the tree's data/, writable
	tmp      string // TMPDIR, writable by anyone, as /tmp is
	mounts   bool   // in a private mount namespace, with the tree mounted read-only
}

// arbitraryUID is a uid no account has, as OpenShift assigns them.
const arbitraryUID = 12345

var (
	mountProbe   sync.Once
	mountsWork   bool
	mountProblem string
)

// canMount says whether this machine lets the tests make a private mount namespace with a
// read-only bind mount; when not, why.
func canMount(t *testing.T) (bool, string) {
	mountProbe.Do(func() {
		dir, err := os.MkdirTemp("", "studip-mount-probe-")
		if err != nil {
			mountProblem = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		out, err := exec.Command(testutil.LookTool(t, "unshare"), "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
			`mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"`, "sh", dir).CombinedOutput()
		mountsWork = err == nil
		mountProblem = strings.TrimSpace(fmt.Sprintf("%v: %s", err, out))
	})
	return mountsWork, mountProblem
}

// newConfinement confines runs on tree as uid:gid with the data directory data, which becomes
// the tree's data/. It needs root, to mount and to drop to the user.
func newConfinement(t *testing.T, uid, gid int, tree, data string) *confinement {
	t.Helper()
	if !runningAsRoot() {
		if os.Getenv("CI") == "true" {
			t.Fatal("confining a run: dropping to another user (setpriv) needs root; CI runs the tests as root")
		}
		t.Skip("confining a run: dropping to another user (setpriv) needs root")
	}
	testutil.LookTool(t, "setpriv")
	c := &confinement{uid: uid, gid: gid, tree: tree, data: data, tmp: tempDir(t, 0o777)}
	if err := os.Chmod(c.tmp, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	testutil.LookTool(t, "mount")
	if ok, why := canMount(t); ok {
		c.mounts = true
		mustMkdir(t, filepath.Join(tree, "data"))
	} else {
		t.Logf("confining a run: no private mount namespace here (%s): the tree is read-only to uid %d by its owner and modes alone", why, uid)
		link := filepath.Join(tree, "data")
		if target, err := os.Readlink(link); err != nil || target != data {
			if err := os.Symlink(data, link); err != nil {
				t.Fatal(err)
			}
		}
	}
	return c
}

// start starts a server with argv confined, as testutil.StartServer does.
func (c *confinement) start(t *testing.T, env, argv []string) *testutil.Server {
	t.Helper()
	argv = c.wrap(argv)
	if !filepath.IsAbs(argv[0]) {
		argv[0] = testutil.LookTool(t, argv[0])
	}
	return testutil.StartServer(t, env, argv[0], argv[1:]...)
}

// confineScript runs as root, in the new mount namespace where there is one, before it
// becomes the user.
const confineScript = `set -e
tree=$1 data=$2 uid=$3 gid=$4 mounts=$5
shift 5
if [ "$mounts" = true ]; then
    mount --bind "$tree" "$tree"
    mount -o remount,bind,ro "$tree"
    mount --bind "$data" "$tree/data"
fi
# As runc does for a container's user: its stdout and stderr (pipes) become the user's, so that
# it may open them again as /proc/self/fd/2 or /dev/stderr, as the official images' logs do.
for fd in 1 2; do
    if [ -p "/proc/self/fd/$fd" ]; then chown "$uid:$gid" "/proc/self/fd/$fd"; fi
done
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
`

// wrap is argv run confined; its first element is a command to look up in PATH.
func (c *confinement) wrap(argv []string) []string {
	confined := append([]string{"/bin/sh", "-c", confineScript, "sh", c.tree, c.data, fmt.Sprint(c.uid), fmt.Sprint(c.gid), fmt.Sprint(c.mounts)}, argv...)
	if c.mounts {
		confined = append([]string{"unshare", "--mount", "--propagation", "private", "--"}, confined...)
	}
	return confined
}

// env is what the confined run's environment adds: its temporary directory.
func (c *confinement) env() []string {
	return []string{"TMPDIR=" + c.tmp}
}

// startConfinedEntrypoint starts the entrypoint confined by c, with the database and the
// server's command (serverArgs), as startEntrypoint does.
func startConfinedEntrypoint(t *testing.T, c *confinement, db *database, logFile string, extra ...string) *scriptRun {
	t.Helper()
	env := append([]string{"STUDIP_ROOT=" + c.tree, "FIXTURE_LOG=" + logFile}, db.env()...)
	env = append(append(env, c.env()...), extra...)
	return startScriptIn(t, c, env, []string{db.password}, "docker-entrypoint.sh", serverArgs...)
}

// watchTree snapshots tree now; the check it returns fails t if tree has changed since,
// naming who changed it.
func watchTree(t *testing.T, tree string) func(who string) {
	t.Helper()
	before := snapshot(t, tree)
	return func(who string) {
		t.Helper()
		if snapshot(t, tree) != before {
			t.Errorf("%s changed the read-only tree", who)
		}
	}
}

// snapshot lists every file of a tree with its mode, size and time of change, to tell that
// nothing in it changed.
func snapshot(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		lines = append(lines, fmt.Sprintf("%s %v %d %d.%d", path, fi.Mode(), fi.Size(), st.Ctim.Sec, st.Ctim.Nsec))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestEntrypointConfined: as a user other than root (an arbitrary uid with group 0 as on
// OpenShift, or www-data) on a read-only tree owned by root, with only the data volume and
// the temporary directory writable, the entrypoint installs, restarts, upgrades with
// AUTO_MIGRATE and runs a hook, all as that user, and writes nothing into the tree; the data
// volume works when the group may write it and when the user owns it.
func TestEntrypointConfined(t *testing.T) {
	cases := []struct {
		name     string
		uid, gid int
		dataUID  int // owner of the data directory (group 0)
		dataMode os.FileMode
	}{
		{"arbitrary uid, group 0, data writable by the group", arbitraryUID, 0, 0, 0o775},
		{"arbitrary uid, group 0, data owned by the uid", arbitraryUID, 0, arbitraryUID, 0o755},
		{"www-data", -1, -1, -1, 0o755},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.uid < 0 {
				c.uid, c.gid, c.dataUID = webUID(t), webUID(t), webUID(t)
			}
			db := newDatabase(t)
			log := fixtureLog(t)
			data := tempDir(t, c.dataMode)
			if err := os.Chown(data, c.dataUID, 0); err != nil {
				t.Fatal(err)
			}
			hooks, hookLog := hooksDir(t, map[string]string{"10-check.sh": hookScript(true, 0)}, nil)
			env := []string{"AUTO_MIGRATE=1", "STUDIP_HOOKS_DIR=" + hooks, "HOOK_LOG=" + hookLog}

			// start runs the entrypoint confined on tree and checks what every start must do.
			start := func(tree string, wants ...string) {
				t.Helper()
				confined := newConfinement(t, c.uid, c.gid, tree, data)
				unchanged := watchTree(t, tree)
				r := startConfinedEntrypoint(t, confined, db, log, env...)
				if code := r.wait(); code != 0 {
					t.Fatalf("exit code %d", code)
				}
				mustContain(t, r.output.String(), append(wants, "keeping config/config_local.inc.php", "keeping config/config.inc.php", finalCommandRan)...)
				unchanged("the start")
			}

			v1 := newTree(t, treeSpec{layout: "6", migrations: []string{"001_add_news.sql"}, imageLayout: true, imageConfig: true})
			start(v1, "installed Stud.IP into database", "migrations done")
			start(v1, "installing nothing", "migrations done")
			v2 := newTree(t, treeSpec{layout: "6", migrations: []string{"001_add_news.sql", "002_add_news_body.sql"}, imageLayout: true, imageConfig: true})
			start(v2, "installing nothing", "migrations done")

			if got := db.mustExec(t, "SELECT version FROM schema_version ORDER BY version"); got != "1\n2" {
				t.Errorf("schema versions %q, want 1 and 2", got)
			}
			runs := consoleRuns(t, log)
			if got := countRuns(runs, "migrate"); got != 3 {
				t.Errorf("%d migration runs, want 3", got)
			}
			for _, r := range runs {
				if r.uid != c.uid {
					t.Errorf("the console ran as uid %d, want %d", r.uid, c.uid)
				}
			}
			want := fmt.Sprintf("10-check.sh %d %s\n1\n10-check.sh %d %s\n1\n10-check.sh %d %s\n2\n", c.uid, v1, c.uid, v1, c.uid, v2)
			if got := mustRead(t, hookLog); got != want {
				t.Errorf("the hook wrote %q, want %q", got, want)
			}
			// The data volume was seeded as the user; with group 0, the folders the start made
			// in it stay writable by the group, so by the next arbitrary uid (seeded files keep
			// their shipped mode: a new uid may replace them, as Stud.IP does).
			if got := mustRead(t, filepath.Join(data, "pictures/user/nobody_normal.png")); got != "shipped avatar\n" {
				t.Errorf("the seeded picture holds %q", got)
			}
			for _, name := range []string{"upload_doc", "pictures/user"} {
				fi, err := os.Stat(filepath.Join(data, name))
				if err != nil {
					t.Fatal(err)
				}
				if uid := int(fi.Sys().(*syscall.Stat_t).Uid); uid != c.uid {
					t.Errorf("data/%s belongs to uid %d, want %d", name, uid, c.uid)
				}
				if c.gid == 0 && fi.Mode()&0o020 == 0 {
					t.Errorf("data/%s has mode %v: not writable by the group", name, fi.Mode())
				}
			}
		})
	}
}

// TestEntrypointConfinedDataNotWritable: a data volume the user may not write stops the
// start at once, saying whose it must be.
func TestEntrypointConfinedDataNotWritable(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	data := tempDir(t, 0o755) // root's
	tree := newTree(t, treeSpec{layout: "6", imageLayout: true, imageConfig: true})
	r := startConfinedEntrypoint(t, newConfinement(t, arbitraryUID, 0, tree, data), db, fixtureLog(t))
	r.checkEnd(fmt.Sprintf("error: preparing the data directory: %s/data is not writable by uid %d (gid 0)", tree, arbitraryUID))
	mustNotContain(t, r.output.String(), finalCommandRan)
}

// confinedWebTree is webTree with its data directory apart, to be mounted as the volume.
func confinedWebTree(t *testing.T) (tree, data string) {
	t.Helper()
	tree = webTree(t)
	data = tempDir(t, 0o775)
	if err := os.Remove(data); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(tree, "data"), data); err != nil {
		t.Fatal(err)
	}
	return tree, data
}

// TestServersConfined: Apache with mod_php, and php-fpm, serve the fixture site as an
// arbitrary uid with group 0, as www-data, and as root (which they drop to www-data), from a
// read-only tree owned by root, with their run files in a directory of their own (as /run is
// in the images): PHP runs as the uid it should and sees the container's environment, Apache
// serves the picture through the link into the data volume, the health check is healthy, and
// the tree is left as it was.
func TestServersConfined(t *testing.T) {
	root := func(*testing.T) int { return 0 }
	users := []struct {
		name          string
		uid, gid, php func(*testing.T) int // php: the uid PHP runs as
	}{
		{"arbitrary uid, group 0", func(*testing.T) int { return arbitraryUID }, root, func(*testing.T) int { return arbitraryUID }},
		{"www-data", webUID, webUID, webUID},
		// As the images run by default: the servers drop root to www-data themselves.
		{"root", root, root, webUID},
	}
	for _, u := range users {
		t.Run("Apache and mod_php, "+u.name, func(t *testing.T) {
			t.Parallel()
			tree, data := confinedWebTree(t)
			uid := u.uid(t)
			c := newConfinement(t, uid, u.gid(t), tree, data)
			// Its configuration, pid file and logs (links to stdout and stderr): in a directory
			// readable and writable by the uid, as /run is.
			run := tempDir(t, 0o777)
			ini, scan := phpIni(t, true)
			address := closedAddress(t)
			_, port, _ := net.SplitHostPort(address)
			env := apacheEnv(t, run, scan, address, append([]string{containerEnv}, c.env()...)...)
			unchanged := watchTree(t, tree)
			startApache(t, c, env, apacheConfig(t, run, tree, ini)).WaitListening(t, address)
			t.Cleanup(func() { unchanged("the server") })

			checkSite(t, u.php(t), true, func(path string) (int, string) {
				resp, body := get(t, address, path)
				return resp.StatusCode, body
			})
			out, code := healthcheck(t, []string{"STUDIP_IMAGE_BASE=apache", "STUDIP_HTTP_PORT=" + port})
			checkResult(t, out, code, true, "answered 200 OK")
		})
		t.Run("php-fpm, "+u.name, func(t *testing.T) {
			t.Parallel()
			fpm := testutil.LookTool(t, phpFPM)
			tree, data := confinedWebTree(t)
			uid := u.uid(t)
			c := newConfinement(t, uid, u.gid(t), tree, data)
			run := tempDir(t, 0o777)
			ini, scan := phpIni(t, true)
			address := closedAddress(t)
			env := append([]string{"PATH=/usr/bin:/bin", "PHP_INI_SCAN_DIR=" + scan, containerEnv}, c.env()...)
			unchanged := watchTree(t, tree)
			c.start(t, env, []string{fpm, "-c", ini, "-y", fpmConfig(t, run, address, true), "-F"}).WaitListening(t, address)
			t.Cleanup(func() { unchanged("the server") })

			checkSite(t, u.php(t), false, func(path string) (int, string) {
				return http.StatusOK, fcgiGet(t, address, filepath.Join(tree, "public", path))
			})
			out, code := healthcheck(t, []string{"STUDIP_IMAGE_BASE=fpm-alpine"}, address)
			checkResult(t, out, code, true, "answered pong")
		})
	}
}

// checkSite asks the fixture site for its index page and whoami.php for the uid PHP runs as,
// and with static the picture in the data volume (php-fpm serves PHP alone: the web server in
// front serves files).
func checkSite(t *testing.T, uid int, static bool, get func(path string) (int, string)) {
	t.Helper()
	if status, body := get("/whoami.php"); status != http.StatusOK || body != fmt.Sprint(uid) {
		t.Errorf("GET /whoami.php: %d, %q: PHP does not run as uid %d", status, body, uid)
	}
	status, body := get("/index.php")
	if status != http.StatusOK {
		t.Fatalf("GET /index.php: %d:\n%s", status, body)
	}
	if got, want := decodeSeenEnv(t, body), (seenEnv{"db.example", "db.example"}); got != want {
		t.Errorf("index.php saw MYSQL_HOST as %+v, want %+v", got, want)
	}
	if !static {
		return
	}
	if status, body := get("/pictures/user/nobody_normal.png"); status != http.StatusOK || body != mustRead(t, "testdata/tree/public/pictures/user/nobody_normal.png") {
		t.Errorf("GET the picture through the link into the data volume: %d, %q", status, body)
	}
}

// TestCronConfined: the cron container runs confined as the web one does (an arbitrary uid
// with group 0, a read-only tree): the entrypoint sets up, studip-cron runs the worker as
// that uid and keeps its heartbeat in /tmp, and a stop signal ends it.
func TestCronConfined(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	log := fixtureLog(t)
	data := tempDir(t, 0o775)
	tree := newTree(t, treeSpec{layout: "6", imageLayout: true, imageConfig: true})
	c := newConfinement(t, arbitraryUID, 0, tree, data)
	heartbeat := filepath.Join(c.tmp, "studip-cron.heartbeat")
	env := append(append(db.env(), "STUDIP_ROOT="+tree, "FIXTURE_LOG="+log, "STUDIP_CRON_INTERVAL=1"), c.env()...)
	r := startScriptIn(t, c, append(env, "STUDIP_CRON_HEARTBEAT="+heartbeat), []string{db.password}, "docker-entrypoint.sh", "studip-cron")
	waitFor(t, "two runs of the worker", 30*time.Second, func() bool {
		return strings.Contains(r.output.String(), "studip-cron: run 2 finished")
	})
	stopWithin(t, r, syscall.SIGTERM, 5*time.Second)
	mustContain(t, r.output.String(), "studip-entrypoint: installed Stud.IP", "studip-entrypoint: starting studip-cron")
	runs := consoleRuns(t, log)
	if countRuns(runs, "cronjobs:worker") < 2 {
		t.Errorf("the worker ran %d times, want 2 or more", countRuns(runs, "cronjobs:worker"))
	}
	for _, run := range runs {
		if run.uid != arbitraryUID {
			t.Errorf("%s ran as uid %d, want %d", run.command, run.uid, arbitraryUID)
		}
	}
	if state, err := os.ReadFile(heartbeat); err != nil || (string(state) != "running\n" && string(state) != "idle\n") {
		t.Errorf("the heartbeat holds %q (%v)", state, err)
	}
}

// TestEntrypointConfinedTreeWithoutConfig: a read-only tree that lacks the config files the
// images ship stops the start, saying which and what to do.
func TestEntrypointConfinedTreeWithoutConfig(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	data := tempDir(t, 0o775)
	tree := newTree(t, treeSpec{layout: "6", imageLayout: true})
	r := startConfinedEntrypoint(t, newConfinement(t, arbitraryUID, 0, tree, data), db, fixtureLog(t))
	r.checkEnd(fmt.Sprintf("error: writing config/config_local.inc.php: %s/config is not writable by uid %d (a read-only tree?); mount the file there", tree, arbitraryUID))
	mustNotContain(t, r.output.String(), finalCommandRan)
}

// TestEntrypointConfinedHTTPPort: for Apache, STUDIP_HTTP_PORT must be a port, and as a user
// other than root a port that needs root (below the kernel's first unprivileged port, which
// the test gives the entrypoint in a file of its own) gets a warning that says what to set;
// the start goes on (some runtimes allow it).
func TestEntrypointConfinedHTTPPort(t *testing.T) {
	cases := []struct {
		name, port string
		first      string // the first unprivileged port
		warns      bool
		fails      string
	}{
		{name: "80, the default, ports below 1024 need root", port: "", first: "1024", warns: true},
		{name: "80, the runtime allows every port (as Docker does)", port: "", first: "0"},
		{name: "8080", port: "8080", first: "1024"},
		{name: "1024, the first unprivileged one", port: "1024", first: "1024"},
		{name: "not a number", port: "http", first: "1024", fails: "reading STUDIP_HTTP_PORT: 'http' is not a whole number"},
		{name: "out of range", port: "70000", first: "1024", fails: "reading STUDIP_HTTP_PORT: 70000 is not a port"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := newDatabase(t)
			tree := newTree(t, treeSpec{layout: "6", imageLayout: true, imageConfig: true})
			first := filepath.Join(tempDir(t, 0o755), "ip_unprivileged_port_start")
			testutil.WriteFile(t, first, c.first+"\n")
			r := startConfinedEntrypoint(t, newConfinement(t, arbitraryUID, 0, tree, tempDir(t, 0o775)), db, fixtureLog(t),
				"STUDIP_HTTP_PORT="+c.port, "STUDIP_TEST_UNPRIVILEGED_PORT_START="+first)
			if !r.checkEnd(c.fails) {
				return
			}
			warning := "studip-entrypoint: warning: APACHE CANNOT LISTEN ON PORT"
			if c.warns {
				mustContain(t, r.stderr.String(), warning)
				mustContain(t, r.output.String(), "set STUDIP_HTTP_PORT=8080")
			} else {
				mustNotContain(t, r.output.String(), warning)
			}
		})
	}
}

// TestEntrypointRootThenConfined: a data volume that a container started as root set up (on a
// read-only tree: root needs no write into it either) is then writable by an arbitrary uid
// with group 0: its start succeeds and an upload into data/upload_doc works. A folder of the
// volume that uid may not write (as older images left them: www-data's alone) stops its start,
// naming the folder.
func TestEntrypointRootThenConfined(t *testing.T) {
	for _, broken := range []bool{false, true} {
		name := "the volume as root left it"
		if broken {
			name = "data/upload_doc www-data's alone"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := newDatabase(t)
			// As a new named volume copies the image's data directory.
			data := tempDir(t, 0o775)
			if err := os.Chown(data, webUID(t), 0); err != nil {
				t.Fatal(err)
			}
			tree := newTree(t, treeSpec{layout: "6", imageLayout: true, imageConfig: true})
			asRoot := newConfinement(t, 0, 0, tree, data)
			unchanged := watchTree(t, tree)
			r := startConfinedEntrypoint(t, asRoot, db, fixtureLog(t))
			r.checkEnd("")
			mustContain(t, r.output.String(), "installed Stud.IP into database", finalCommandRan)
			unchanged("the start as root")
			upload := filepath.Join(data, "upload_doc")
			if broken {
				if err := os.Chown(upload, webUID(t), webUID(t)); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(upload, 0o755); err != nil {
					t.Fatal(err)
				}
			}

			confined := newConfinement(t, arbitraryUID, 0, tree, data)
			r = startConfinedEntrypoint(t, confined, db, fixtureLog(t))
			if broken {
				r.checkEnd(fmt.Sprintf("error: preparing the data directory: %s/data/upload_doc is not writable by uid %d (gid 0)", tree, arbitraryUID))
				mustNotContain(t, r.output.String(), finalCommandRan)
				return
			}
			r.checkEnd("")
			mustContain(t, r.output.String(), "installing nothing", finalCommandRan)
			// As Stud.IP stores an upload: in a folder named by the start of the file's id, made
			// by the first upload there; here one the server made as www-data after the start
			// as root (with the umask the entrypoint passes on), and one the uid makes.
			store := `umask 0002 && mkdir -p "$1/$2" && echo upload >"$1/$2/$2$3"`
			runConfined(t, newConfinement(t, webUID(t), webUID(t), tree, data), store, upload, "cd", "1")
			runConfined(t, confined, store, upload, "cd", "2")
			runConfined(t, confined, store, upload, "ab", "1")
		})
	}
}

// runConfined runs the shell script script with args confined by c, and fails the test when
// it fails.
func runConfined(t *testing.T, c *confinement, script string, args ...string) {
	t.Helper()
	argv := c.wrap(append([]string{"/bin/sh", "-c", script, "sh"}, args...))
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Errorf("running %q %q as uid %d: %v: %s", script, args, c.uid, err, out)
	}
}
