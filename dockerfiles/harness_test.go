package dockerfiles

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// treeSpec describes a small Stud.IP-like tree built from testdata/.
type treeSpec struct {
	layout      string // "5" (db/studip.sql and friends) or "6" (db/studip-*-installation.sql)
	migrations  []string
	legacyCLI   bool // cli/migrate.php and cli/cronjob-worker.php instead of cli/studip
	imageLayout bool // shipped pictures under seed/ and links in public/, as the pipeline builds it
	imageConfig bool // config_local.inc.php and config.inc.php in config/, as the runtime Dockerfiles put them
	noDumps     bool
}

// newTree builds a fixture tree in a fresh directory that the web server's user can read.
func newTree(t *testing.T, spec treeSpec) string {
	t.Helper()
	root := tempDir(t, 0o755)
	copyDir(t, "testdata/tree", root)
	if !spec.noDumps {
		copyDir(t, "testdata/db"+spec.layout, filepath.Join(root, "db"))
	}
	mustMkdir(t, filepath.Join(root, "db", "migrations"))
	for _, m := range spec.migrations {
		copyFile(t, filepath.Join("testdata/migrations", m), filepath.Join(root, "db", "migrations", m))
	}
	consoles := []string{"studip"}
	if spec.legacyCLI {
		consoles = []string{"migrate.php", "cronjob-worker.php"}
	}
	mustMkdir(t, filepath.Join(root, "cli"))
	for _, name := range consoles {
		copyFile(t, "testdata/console.php", filepath.Join(root, "cli", name))
	}
	if spec.imageLayout {
		mustMkdir(t, filepath.Join(root, "seed"))
		for _, name := range []string{"pictures", "plugins_packages"} {
			if err := os.Rename(filepath.Join(root, "public", name), filepath.Join(root, "seed", name)); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../data/"+name, filepath.Join(root, "public", name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if spec.imageConfig {
		for _, name := range []string{"config_local.inc.php", "config.inc.php"} {
			copyFile(t, filepath.Join("common", name), filepath.Join(root, "config", name))
		}
	}
	return root
}

// tempDir makes a directory with the given mode, which t.TempDir (0700) does not allow: the
// scripts run parts of their work as the web server's user.
func tempDir(t *testing.T, mode os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "studip-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		copyFile(t, path, filepath.Join(to, rel))
		return nil
	})
	if err != nil {
		t.Fatalf("copying %s: %v", from, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	dt, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, to, string(dt))
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(dt)
}

// scriptRun is one run of one of the images' scripts.
type scriptRun struct {
	t         *testing.T
	name      string // the script, below common/
	cmd       *exec.Cmd
	output    *testutil.Buffer // stdout and stderr, as a container's log has them
	stderr    *testutil.Buffer
	secrets   []string
	heartbeat string // studip-cron's heartbeat file (STUDIP_CRON_HEARTBEAT), of this run alone
	started   time.Time
	done      chan struct{}
	err       error
	elapsed   time.Duration
}

// startScript starts one of the images' scripts (a path below common/) with the given
// environment on top of a minimal one. secrets must never appear in its output.
func startScript(t *testing.T, env []string, secrets []string, script string, args ...string) *scriptRun {
	t.Helper()
	return startScriptIn(t, nil, env, secrets, script, args...)
}

// startScriptIn is startScript, confined by c unless it is nil.
func startScriptIn(t *testing.T, c *confinement, env []string, secrets []string, script string, args ...string) *scriptRun {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("common", script))
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{abs}, args...)
	busybox := busyboxMode && isShellScript(t, abs)
	if busybox {
		// As the fpm-alpine image runs it: its /bin/sh is busybox (here it is dash).
		argv = append([]string{busyboxSetup(t).busybox, "sh"}, argv...)
	}
	if c != nil {
		argv = c.wrap(argv)
	}
	return startRun(t, script, "", env, secrets, argv, busybox)
}

// startSourced runs the shell script source with the entrypoint's functions loaded: it sources
// docker-entrypoint.sh (whose guard keeps _main from running) from the scripts' directory,
// under busybox sh in busybox mode, with startScript's environment.
func startSourced(t *testing.T, env []string, secrets []string, source string) *scriptRun {
	t.Helper()
	common, err := filepath.Abs("common")
	if err != nil {
		t.Fatal(err)
	}
	sh := "/bin/sh"
	if busyboxMode {
		sh = busyboxSetup(t).busybox
	}
	// $0 is "sh", so that the entrypoint takes itself to be sourced.
	argv := []string{sh, "-c", ". ./docker-entrypoint.sh\n" + source, "sh"}
	if busyboxMode {
		argv = slices.Insert(argv, 1, "sh")
	}
	return startRun(t, "a shell with the entrypoint's functions", common, env, secrets, argv, busyboxMode)
}

// startRun starts argv in dir (the test's own directory if empty) with the scripts' PATH and
// env on top of a minimal environment; with busybox, busybox mode's PATH.
func startRun(t *testing.T, name, dir string, env, secrets, argv []string, busybox bool) *scriptRun {
	t.Helper()
	common, err := filepath.Abs("common")
	if err != nil {
		t.Fatal(err)
	}
	fakeApache, err := filepath.Abs("testdata/bin-apache")
	if err != nil {
		t.Fatal(err)
	}
	r := &scriptRun{t: t, name: name, output: &testutil.Buffer{}, stderr: &testutil.Buffer{}, secrets: secrets, done: make(chan struct{}),
		// Parallel tests must not share the default /tmp/studip-cron.heartbeat.
		heartbeat: filepath.Join(t.TempDir(), "studip-cron.heartbeat")}
	env = append([]string{
		// The images' scripts, and a stand-in for the apache image's server.
		"PATH=" + common + ":" + fakeApache + ":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
		"STUDIP_CONFIG_TEMPLATE=" + filepath.Join(common, "config_local.inc.php"),
		"STUDIP_CRON_HEARTBEAT=" + r.heartbeat,
	}, env...)
	if busybox {
		env = append(env, "PATH="+busyboxSetup(t).path(t, lastPath(env)))
	}
	r.cmd = exec.CommandContext(withTimeout(t), argv[0], argv[1:]...)
	r.cmd.Dir = dir
	r.cmd.Env = env
	r.cmd.Stdout, r.cmd.Stderr = r.output, io.MultiWriter(r.output, r.stderr)
	r.started = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		r.err = r.cmd.Wait()
		r.elapsed = time.Since(r.started)
		close(r.done)
	}()
	return r
}

// wait waits for the script to end and returns its exit code.
func (r *scriptRun) wait() int {
	r.t.Helper()
	<-r.done
	out := r.output.String()
	for _, s := range r.secrets {
		if strings.Contains(out, s) {
			r.t.Errorf("the output shows the secret %q:\n%s", s, out)
		}
	}
	// Shown when the test fails or runs with -v.
	r.t.Logf("output of %s (exit code %d, %v):\n%s", r.name, exitCode(r.err), r.elapsed.Round(time.Millisecond), out)
	return exitCode(r.err)
}

// checkEnd waits for the script to end and checks how: with fails "", that it succeeded (else
// the test stops); otherwise that it failed, its output showing fails. It tells whether the
// script succeeded, for the checks of a success to follow.
func (r *scriptRun) checkEnd(fails string) bool {
	r.t.Helper()
	code := r.wait()
	if fails == "" {
		if code != 0 {
			r.t.Fatalf("exit code %d", code)
		}
		return true
	}
	if code == 0 {
		r.t.Errorf("exit code 0")
	}
	mustContain(r.t, r.output.String(), fails)
	return false
}

// entrypoint runs the entrypoint to its end with the tree, the database and extra variables,
// and the server's command (serverArgs).
func entrypoint(t *testing.T, root string, db *database, logFile string, extra ...string) (string, int) {
	t.Helper()
	r := startEntrypoint(t, root, db, logFile, extra...)
	code := r.wait()
	return r.output.String(), code
}

func startEntrypoint(t *testing.T, root string, db *database, logFile string, extra ...string) *scriptRun {
	t.Helper()
	env := append([]string{"STUDIP_ROOT=" + root, "FIXTURE_LOG=" + logFile}, db.env()...)
	return startScript(t, append(env, extra...), []string{db.password}, "docker-entrypoint.sh", serverArgs...)
}

// serverArgs is the command the entrypoint runs in the tests: the apache image's server, for
// which it sets everything up; the stand-in on startScript's PATH prints its arguments.
var serverArgs = []string{"apache2-foreground", finalCommandRan}

const finalCommandRan = "final command ran"

// fixtureLog is where the fixture console writes what it did, in a directory that the web
// server's user can write.
func fixtureLog(t *testing.T) string {
	t.Helper()
	return filepath.Join(tempDir(t, 0o777), "console.log")
}

// consoleRun is one command of the fixture console, as its log tells it.
type consoleRun struct {
	command     string
	start, end  float64
	uid, status int
	ended       bool
}

// consoleRuns reads the fixture console's log.
func consoleRuns(t *testing.T, logFile string) []consoleRun {
	t.Helper()
	f, err := os.Open(logFile)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var runs []consoleRun
	open := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// command event time pid uid [status]
		fields := strings.Fields(sc.Text())
		at, _ := strconv.ParseFloat(fields[2], 64)
		uid, _ := strconv.Atoi(fields[4])
		switch fields[1] {
		case "start":
			open[fields[3]] = len(runs)
			runs = append(runs, consoleRun{command: fields[0], start: at, uid: uid})
		case "end":
			r := &runs[open[fields[3]]]
			r.end, r.ended = at, true
			r.status, _ = strconv.Atoi(fields[5])
		}
	}
	return runs
}

// countRuns counts the runs of one console command.
func countRuns(runs []consoleRun, command string) int {
	return len(slices.DeleteFunc(slices.Clone(runs), func(r consoleRun) bool { return r.command != command }))
}

// webUID is the uid the scripts drop to when they run as root.
func webUID(t *testing.T) int {
	t.Helper()
	u, err := user.Lookup("www-data")
	if err != nil {
		t.Fatalf("looking up www-data: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	return uid
}

// waitFor polls cond until it holds, failing the test after the timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: not within %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
}

func mustNotContain(t *testing.T, out string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(out, u) {
			t.Errorf("the output has %q", u)
		}
	}
}

// lines splits a query's rows.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func runningAsRoot() bool { return os.Geteuid() == 0 }

func describe(runs []consoleRun) string {
	var b strings.Builder
	for _, r := range runs {
		fmt.Fprintf(&b, "%s %.3f-%.3f uid %d status %d\n", r.command, r.start, r.end, r.uid, r.status)
	}
	return b.String()
}

// --- busybox mode --------------------------------------------------------------------------

// busyboxModeVar=1 puts the tests in busybox mode: startScript runs the images' shell scripts
// as the fpm-alpine image does, with busybox's ash and applets (busybox grep, sed, find, ...)
// instead of Debian's dash and GNU tools. TestScriptsUnderBusybox runs the script tests so.
const busyboxModeVar = "STUDIP_TEST_BUSYBOX"

var busyboxMode = os.Getenv(busyboxModeVar) == "1"

// systemOwn says which of busybox's applets stay the system's tools in busybox mode, since
// the fpm-alpine image has them from packages of their own.
func systemOwn(applet string) bool {
	switch {
	// Not applets of today's busybox; kept out so that no busybox can stand in for the PHP
	// of the image or the fixtures, or for the mariadb-client package.
	case strings.HasPrefix(applet, "php"), strings.HasPrefix(applet, "mariadb"), strings.HasPrefix(applet, "mysql"):
		return true
	// The official PHP images install tar and xz; the images add su-exec.
	case applet == "tar", applet == "xz", applet == "su-exec":
		return true
	// The scripts drop root with su-exec where it is installed (fpm-alpine) and else with
	// util-linux's setpriv (apache). Alpine's busybox has a setpriv applet too, without
	// --reuid: TestConsoleDropsRoot checks that su-exec comes first. No package here has
	// su-exec, so busybox mode keeps util-linux's setpriv, the scripts' fallback.
	case applet == "setpriv":
		return true
	}
	return false
}

// busyboxDirs is busybox mode's PATH: made once per test binary in $TMPDIR, which
// TestScriptsUnderBusybox gives the binary and removes (a run by hand leaves it behind).
type busyboxDirs struct {
	busybox string // the binary
	// First on PATH: sh, and a shim for each of the images' shell scripts that runs it with
	// busybox sh. A script that the entrypoint execs by name (studip-cron) would otherwise run
	// with its shebang's /bin/sh, which the kernel takes from the file system, not from PATH:
	// dash here, busybox on Alpine.
	shims   string
	applets string // a link to busybox for each applet but the systemOwn ones
}

var (
	busyboxOnce sync.Once
	busyboxDir  busyboxDirs
	busyboxErr  error
)

func busyboxSetup(t *testing.T) busyboxDirs {
	t.Helper()
	// Resolved, as lookIn resolves what PATH finds (/bin is a link to /usr/bin on Debian).
	busybox, err := filepath.EvalSymlinks(testutil.LookTool(t, "busybox"))
	if err == nil {
		busybox, err = filepath.Abs(busybox)
	}
	if err != nil {
		t.Fatal(err)
	}
	busyboxOnce.Do(func() { busyboxDir, busyboxErr = makeBusyboxDirs(busybox) })
	if busyboxErr != nil {
		t.Fatalf("preparing busybox mode: %v", busyboxErr)
	}
	return busyboxDir
}

func makeBusyboxDirs(busybox string) (busyboxDirs, error) {
	dir, err := os.MkdirTemp("", "studip-busybox-")
	if err != nil {
		return busyboxDirs{}, err
	}
	d := busyboxDirs{busybox: busybox, shims: filepath.Join(dir, "shims"), applets: filepath.Join(dir, "applets")}
	// 0755: the console, run as the web server's user, inherits the PATH.
	for _, sub := range []string{dir, d.shims, d.applets} {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return d, err
		}
		if err := os.Chmod(sub, 0o755); err != nil {
			return d, err
		}
	}
	list, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return d, fmt.Errorf("busybox --list: %w", err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if !systemOwn(applet) {
			if err := os.Symlink(busybox, filepath.Join(d.applets, applet)); err != nil {
				return d, err
			}
		}
	}
	if err := os.Symlink(busybox, filepath.Join(d.shims, "sh")); err != nil {
		return d, err
	}
	common, err := filepath.Abs("common")
	if err != nil {
		return d, err
	}
	entries, err := os.ReadDir(common)
	if err != nil {
		return d, err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		script := filepath.Join(common, e.Name())
		if sh, err := hasShShebang(script); err != nil {
			return d, err
		} else if !sh {
			continue
		}
		if strings.ContainsAny(busybox+script, "'\n") {
			return d, fmt.Errorf("cannot quote %s or %s for a shim", busybox, script)
		}
		shim := fmt.Sprintf("#!%s sh\nexec '%s' sh '%s' \"$@\"\n", busybox, busybox, script)
		if err := os.WriteFile(filepath.Join(d.shims, e.Name()), []byte(shim), 0o755); err != nil {
			return d, err
		}
	}
	return d, nil
}

// hasShShebang tells a shell script of the images from their PHP one (studip-healthcheck).
func hasShShebang(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	first, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && err != io.EOF {
		return false, err
	}
	return first == "#!/bin/sh\n", nil
}

func isShellScript(t *testing.T, path string) bool {
	t.Helper()
	sh, err := hasShShebang(path)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// systemDirs are where busybox mode's applets go in front of: after the scripts' own
// directory and the fixtures'.
var systemDirs = map[string]bool{"/usr/local/sbin": true, "/usr/local/bin": true, "/usr/sbin": true, "/usr/bin": true, "/sbin": true, "/bin": true}

// path makes a script's PATH one of busybox mode, and checks that it finds busybox's tools,
// the shims, and none of busybox for the tools the images have from packages.
func (d busyboxDirs) path(t *testing.T, path string) string {
	t.Helper()
	dirs := []string{d.shims}
	inserted := false
	for _, dir := range filepath.SplitList(path) {
		if systemDirs[dir] && !inserted {
			dirs, inserted = append(dirs, d.applets), true
		}
		dirs = append(dirs, dir)
	}
	if !inserted {
		dirs = append(dirs, d.applets)
	}
	path = strings.Join(dirs, string(filepath.ListSeparator))
	for _, tool := range []string{"sh", "grep", "sed", "find", "stat", "date", "tail", "chown", "mkfifo", "setpriv", "php", "mariadb", "studip-cron"} {
		got := lookIn(path, tool)
		want := d.busybox
		switch {
		case tool == "studip-cron":
			want = filepath.Join(d.shims, tool)
		case systemOwn(tool):
			if got == d.busybox {
				t.Fatalf("busybox mode: PATH %s finds busybox for %s", path, tool)
			}
			continue
		}
		if got != want {
			t.Fatalf("busybox mode: PATH %s finds %q for %s, want %s", path, got, tool, want)
		}
	}
	return path
}

// lookIn finds a command in path as a shell would, with its links resolved ("" if none).
func lookIn(path, name string) string {
	for _, dir := range filepath.SplitList(path) {
		file := filepath.Join(dir, name)
		if fi, err := os.Stat(file); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			if resolved, err := filepath.EvalSymlinks(file); err == nil {
				return resolved
			}
			return file
		}
	}
	return ""
}

// lastPath is the PATH that a process with the environment env gets (os/exec keeps the last).
func lastPath(env []string) string {
	path := ""
	for _, kv := range env {
		if value, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = value
		}
	}
	return path
}
