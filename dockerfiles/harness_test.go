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
	writeFile(t, to, string(dt))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	mustMkdir(t, filepath.Dir(path))
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
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
	abs, err := filepath.Abs(filepath.Join("common", script))
	if err != nil {
		t.Fatal(err)
	}
	fakeApache, err := filepath.Abs("testdata/bin-apache")
	if err != nil {
		t.Fatal(err)
	}
	r := &scriptRun{t: t, output: &testutil.Buffer{}, stderr: &testutil.Buffer{}, secrets: secrets, done: make(chan struct{}),
		// Parallel tests must not share the default /tmp/studip-cron.heartbeat.
		heartbeat: filepath.Join(t.TempDir(), "studip-cron.heartbeat")}
	r.cmd = exec.CommandContext(withTimeout(t), abs, args...)
	r.cmd.Env = append([]string{
		// The images' scripts, and a stand-in for the apache image's server.
		"PATH=" + filepath.Dir(abs) + ":" + fakeApache + ":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
		"STUDIP_CONFIG_TEMPLATE=" + filepath.Join(filepath.Dir(abs), "config_local.inc.php"),
		"STUDIP_CRON_HEARTBEAT=" + r.heartbeat,
	}, env...)
	r.cmd.Stdout, r.cmd.Stderr = r.output, io.MultiWriter(r.output, r.stderr)
	r.started = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", script, err)
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
	r.t.Logf("output of %s (exit code %d, %v):\n%s", filepath.Base(r.cmd.Path), exitCode(r.err), r.elapsed.Round(time.Millisecond), out)
	return exitCode(r.err)
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
