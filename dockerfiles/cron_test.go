package dockerfiles

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// stopWithin sends the signal and checks that the script ends with exit code 0 in time.
func stopWithin(t *testing.T, r *scriptRun, sig syscall.Signal, bound time.Duration) {
	t.Helper()
	sent := time.Now()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	code := r.wait()
	if took := time.Since(sent); took > bound {
		t.Errorf("stopped %v after %v, want within %v", took, sig, bound)
	}
	if code != 0 {
		t.Errorf("exit code %d after %v, want 0", code, sig)
	}
}

// TestCron: studip-cron runs the worker every interval, survives a failing run, runs it as the
// web server's user, keeps its heartbeat file (running, then idle), and stops within 5 s of a
// stop signal, whether a run is on or not.
func TestCron(t *testing.T) {
	cases := []struct {
		name    string
		tree    treeSpec
		env     []string
		failRun bool           // the first run fails
		runs    int            // runs to see before the signal
		ended   bool           // the last of them has ended: the signal comes in the pause
		signal  syscall.Signal // apache's image stops with SIGWINCH, fpm's with SIGQUIT
		wantOut []string
	}{
		{
			name: "every second, a failing run", tree: treeSpec{layout: "6"}, env: []string{"STUDIP_CRON_INTERVAL=1"},
			failRun: true, runs: 3, ended: true, signal: syscall.SIGTERM,
			wantOut: []string{"running php cli/studip cronjobs:worker every 1 s", "run 1 failed with exit code 1", "run 2 finished", "run 3 finished", "stopped"},
		},
		{
			name: "stopped during a run", tree: treeSpec{layout: "6"}, env: []string{"FIXTURE_WORKER_SECONDS=60"},
			runs: 1, signal: syscall.SIGTERM, wantOut: []string{"run 1 stopped after"},
		},
		{
			name: "a worker that loses the first stop signal", tree: treeSpec{layout: "6"},
			env:  []string{"FIXTURE_WORKER_SECONDS=60", "FIXTURE_WORKER_LOSE_TERM=1"},
			runs: 1, signal: syscall.SIGTERM, wantOut: []string{"run 1 stopped after"},
		},
		{
			name: "stopped in the pause, apache's stop signal", tree: treeSpec{layout: "6"},
			runs: 1, ended: true, signal: syscall.SIGWINCH, wantOut: []string{"run 1 finished", "stopped"},
		},
		{
			name: "fpm's stop signal, legacy cronjob-worker.php", tree: treeSpec{layout: "5", legacyCLI: true},
			runs: 1, ended: true, signal: syscall.SIGQUIT, wantOut: []string{"running php cli/cronjob-worker.php every 60 s", "run 1 finished"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			testutil.LookTool(t, "php")
			root := newTree(t, c.tree)
			log := fixtureLog(t)
			if c.failRun {
				testutil.WriteFile(t, log+".fail", "")
			}
			r := startScript(t, append([]string{"STUDIP_ROOT=" + root, "FIXTURE_LOG=" + log}, c.env...), nil, "studip-cron")
			waitFor(t, "the worker's runs", 30*time.Second, func() bool {
				if c.ended {
					// studip-cron has seen the run end: the signal comes in the pause.
					return strings.Contains(r.output.String(), fmt.Sprintf("run %d finished", c.runs))
				}
				return len(consoleRuns(t, log)) >= c.runs
			})
			stopWithin(t, r, c.signal, 5*time.Second)
			mustContain(t, r.output.String(), c.wantOut...)
			checkHeartbeat(t, r, consoleRuns(t, log))
			if runningAsRoot() {
				for _, run := range consoleRuns(t, log) {
					if run.uid != webUID(t) {
						t.Errorf("the worker ran as uid %d, not as www-data", run.uid)
					}
				}
			}
		})
	}
}

// checkHeartbeat checks the heartbeat file after studip-cron stopped: "running" when the stop
// came during run N (studip-cron says so), written after run N-1 ended and before run N's
// worker started (if it got that far); else "idle", written after the last run ended.
func checkHeartbeat(t *testing.T, r *scriptRun, runs []consoleRun) {
	t.Helper()
	fi, err := os.Stat(r.heartbeat)
	if err != nil {
		t.Fatalf("reading the heartbeat file: %v", err)
	}
	state, err := os.ReadFile(r.heartbeat)
	if err != nil {
		t.Fatal(err)
	}
	want, from, to := "idle\n", runs[len(runs)-1].end, math.Inf(1)
	if m := stoppedRun.FindStringSubmatch(r.output.String()); m != nil {
		n, _ := strconv.Atoi(m[1])
		want, from = "running\n", float64(r.started.UnixNano())/1e9
		if n >= 2 {
			from = runs[n-2].end
		}
		if n <= len(runs) {
			to = runs[n-1].start
		}
	}
	written := float64(fi.ModTime().UnixNano()) / 1e9
	// The file system's clock is coarse: it may lag a few milliseconds.
	if string(state) != want || written < from-0.05 || written > to {
		t.Errorf("the heartbeat says %q, written at %.3f; want %q written between %.3f and %.3f:\n%s", state, written, want, from, to, describe(runs))
	}
}

var stoppedRun = regexp.MustCompile(`studip-cron: run ([0-9]+) stopped after`)

// TestCronBadInterval: an interval that is no positive number stops studip-cron at once.
func TestCronBadInterval(t *testing.T) {
	for _, interval := range []string{"0", "1m", "-5"} {
		t.Run(interval, func(t *testing.T) {
			t.Parallel()
			root := newTree(t, treeSpec{layout: "6"})
			r := startScript(t, []string{"STUDIP_ROOT=" + root, "STUDIP_CRON_INTERVAL=" + interval}, nil, "studip-cron")
			r.checkEnd("studip-cron: error: reading STUDIP_CRON_INTERVAL")
		})
	}
}

// TestCronThroughEntrypoint: the cron container is the image started with studip-cron: the
// entrypoint prepares everything as for the web server, then runs the worker, and the
// container's health check sees the runs.
func TestCronThroughEntrypoint(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	root := newTree(t, treeSpec{layout: "6"})
	log := fixtureLog(t)
	env := append(db.env(), "STUDIP_ROOT="+root, "FIXTURE_LOG="+log, "STUDIP_CRON_INTERVAL=1")
	r := startScript(t, env, []string{db.password}, "docker-entrypoint.sh", "studip-cron")
	waitFor(t, "two runs of the worker", 30*time.Second, func() bool {
		return strings.Contains(r.output.String(), "studip-cron: run 2 finished")
	})
	stopWithin(t, r, syscall.SIGTERM, 5*time.Second)
	mustContain(t, r.output.String(), "studip-entrypoint: installed Stud.IP", "studip-entrypoint: starting studip-cron", "studip-cron: run 2 finished")
	if _, err := os.Stat(filepath.Join(root, "data", "pictures")); err != nil {
		t.Errorf("the cron container did not prepare the data directory: %v", err)
	}
	// As the image's HEALTHCHECK runs it: no arguments, the container's environment.
	out, code := healthcheck(t, []string{"STUDIP_CRON_HEARTBEAT=" + r.heartbeat, "STUDIP_CRON_INTERVAL=1", "STUDIP_IMAGE_BASE=apache"})
	if code != 0 {
		t.Errorf("studip-healthcheck: exit code %d", code)
	}
	// The stop may have come after run 2 ended (the heartbeat says idle) or during run 3
	// (it still says running); studip-cron says which.
	want := "studip-healthcheck: healthy: the last cron run ended"
	if stoppedRun.MatchString(r.output.String()) {
		want = "studip-healthcheck: healthy: a cron run has been on for"
	}
	mustContain(t, out, want)
}
