package dockerfiles

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// scriptTests are the tests that run the images' shell scripts, which TestScriptsUnderBusybox
// runs again in busybox mode. The config and healthcheck tests run PHP alone.
const scriptTests = `^(TestEntrypoint|TestLock|TestFileEnv|TestPasswordNeverOnCommandLine|TestDataDirectory|TestReplacement|TestUpgrade|TestCron|TestBusyboxMode)`

// TestScriptsUnderBusybox runs the script tests again as the fpm-alpine image runs the
// scripts, with busybox's ash and applets (busybox mode, see startScript), in a run of this
// test binary of its own: the images' scripts must work with both.
func TestScriptsUnderBusybox(t *testing.T) {
	if busyboxMode {
		t.Skip("in busybox mode already")
	}
	if testing.Short() {
		t.Skip("-short: the script tests run once more under busybox")
	}
	testutil.LookTool(t, "busybox")
	t.Parallel()
	// The child's temporary files (busybox mode's PATH, its MariaDB, the fixture trees) go
	// with this directory, which the web server's user must be able to enter.
	tmp := tempDir(t, 0o755)
	timeout := 8 * time.Minute
	if deadline, ok := t.Deadline(); ok {
		timeout = time.Until(deadline) - 30*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+20*time.Second)
	defer cancel()
	// -test.parallel 2: the child shares the machine with this run's own parallel tests.
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+scriptTests, "-test.count=1", "-test.v",
		"-test.parallel=2", "-test.timeout="+timeout.String())
	cmd.Env = append(os.Environ(), busyboxModeVar+"=1", "TMPDIR="+tmp)
	started := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the script tests in busybox mode (%s): %v\n%s", scriptTests, err, out)
	}
	// A test renamed away from scriptTests would silently drop out.
	for _, name := range []string{"TestBusyboxMode", "TestEntrypointInstall", "TestDataDirectory", "TestCron", "TestCronThroughEntrypoint", "TestLockExcludes", "TestFileEnv", "TestEntrypointHooks", "TestEntrypointConfined", "TestCronConfined"} {
		if !regexp.MustCompile(`(?m)^--- (PASS|SKIP): ` + name + ` `).Match(out) {
			t.Errorf("the busybox run did not run %s:\n%s", name, out)
		}
	}
	t.Logf("busybox mode: %d tests passed, %d skipped in %v", len(regexp.MustCompile(`(?m)^--- PASS: `).FindAll(out, -1)),
		len(regexp.MustCompile(`(?m)^--- SKIP: `).FindAll(out, -1)), time.Since(started).Round(time.Second))
}

// TestBusyboxMode: the script tests run the scripts with the tools of the mode they are in.
// In busybox mode (TestScriptsUnderBusybox), the entrypoint's commands find busybox's applets
// and sh, the tools the fpm-alpine image has from packages are not busybox, and studip-cron,
// which the entrypoint execs by name, runs with busybox sh too; otherwise none of them is
// busybox, as in the apache image.
func TestBusyboxMode(t *testing.T) {
	t.Parallel()
	bb := busyboxSetup(t)
	t.Run("PATH", func(t *testing.T) {
		t.Parallel()
		tools := []string{"sh", "grep", "sed", "find", "chown", "stat", "date", "tail", "mkfifo", "mktemp", "sleep", "setpriv", "php", "mariadb"}
		r := startScript(t, []string{"STUDIP_ROOT=" + t.TempDir()}, nil, "docker-entrypoint.sh",
			append([]string{"sh", "-c", `for tool; do printf '%s %s\n' "$tool" "$(command -v "$tool")"; done`, "sh"}, tools...)...)
		if code := r.wait(); code != 0 {
			t.Fatalf("exit code %d", code)
		}
		found := map[string]string{}
		for _, line := range lines(strings.TrimSpace(r.output.String())) {
			tool, path, _ := strings.Cut(line, " ")
			if resolved, err := filepath.EvalSymlinks(path); err == nil {
				path = resolved
			}
			found[tool] = path
		}
		for _, tool := range tools {
			want := busyboxMode && !systemOwn(tool)
			if isBusybox := found[tool] == bb.busybox; isBusybox != want {
				t.Errorf("%s is %q: busybox %v, want %v", tool, found[tool], isBusybox, want)
			}
		}
	})
	t.Run("studip-cron through the entrypoint", func(t *testing.T) {
		t.Parallel()
		root := newTree(t, treeSpec{layout: "6"})
		// sh -c replaces the entrypoint, and studip-cron replaces sh: the same process.
		r := startScript(t, []string{"STUDIP_ROOT=" + root, "FIXTURE_LOG=" + fixtureLog(t)}, nil, "docker-entrypoint.sh",
			"sh", "-c", "exec studip-cron")
		waitFor(t, "studip-cron's first run", 30*time.Second, func() bool {
			return strings.Contains(r.output.String(), "studip-cron: run 1 finished")
		})
		exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(r.cmd.Process.Pid), "exe"))
		if err != nil {
			t.Fatal(err)
		}
		if isBusybox := exe == bb.busybox; isBusybox != busyboxMode {
			t.Errorf("studip-cron runs with %s: busybox %v, want %v", exe, isBusybox, busyboxMode)
		}
		stopWithin(t, r, syscall.SIGTERM, 5*time.Second)
	})
}

// TestConsoleDropsRoot: as root, the scripts run the console as the web server's user with
// su-exec in the fpm-alpine image, where setpriv is busybox's applet, which lacks --reuid
// (busybox mode keeps util-linux's setpriv: this checks the order), and with util-linux's
// setpriv in the apache image.
func TestConsoleDropsRoot(t *testing.T) {
	cases := []struct {
		name  string
		tools map[string]string // stand-ins; "busybox": a link to it
		want  string
	}{
		{"fpm-alpine: su-exec, busybox's setpriv", map[string]string{"su-exec": `echo "su-exec $*"`, "setpriv": "busybox"},
			"su-exec www-data php cli/studip cronjobs:worker\n"},
		{"apache: util-linux's setpriv", map[string]string{"setpriv": `echo "setpriv $*"`},
			"setpriv --reuid=www-data --regid=www-data --init-groups -- php cli/studip cronjobs:worker\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			busybox := testutil.LookTool(t, "busybox")
			bin := t.TempDir()
			// id says root, whoever runs the test.
			c.tools["id"] = "echo 0"
			for name, body := range c.tools {
				if body == "busybox" {
					if err := os.Symlink(busybox, filepath.Join(bin, name)); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			root := t.TempDir()
			testutil.WriteFile(t, filepath.Join(root, "cli", "studip"), "")
			functions, err := filepath.Abs("common/studip-functions.sh")
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(withTimeout(t), busybox, "sh", "-c",
				`studip_log_name=test; . "$0"; studip_console cronjobs:worker cli/cronjob-worker.php; studip_exec_console`, functions)
			cmd.Env = []string{"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin", "STUDIP_ROOT=" + root}
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != c.want {
				t.Errorf("got %q (%v), want %q", out, err, c.want)
			}
		})
	}
}
