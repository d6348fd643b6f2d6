// Package testutil holds what the project's tests share: golden files, the guard that keeps
// Dagger out of the pure packages, finding the tools a test runs, running servers, git and
// gitlab-ci-local, and uploads through a web server to PHP. Only tests import it.
package testutil

import (
	"bytes"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Golden compares got with the file at path, or rewrites the file under -update.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (go test -update creates it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// ImportsNoDagger fails t if any of the packages (go list patterns), or their tests, depend
// on the Dagger SDK: those run where no engine, and no SDK download, is possible.
func ImportsNoDagger(t testing.TB, patterns ...string) {
	t.Helper()
	// go test puts its own go first on PATH.
	out, err := exec.Command("go", append([]string{"list", "-deps", "-test"}, patterns...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatalf("go list %s listed nothing", strings.Join(patterns, " "))
	}
	for _, pkg := range deps {
		if strings.HasPrefix(pkg, "dagger.io/") {
			t.Errorf("%s depends on %s", strings.Join(patterns, " "), pkg)
		}
	}
}

// installHints say how to get each tool the tests run, and each file of one they load, as
// .ci/run installs them.
var installHints = map[string]string{
	"apache2":         "apt-get install apache2-bin",
	"busybox":         "apt-get install busybox",
	"cgi-fcgi":        "apt-get install libfcgi-bin",
	"composer":        "apt-get install composer",
	"curl":            "apt-get install curl",
	"envsubst":        "apt-get install gettext-base",
	"git":             "apt-get install git",
	"gitlab-ci-local": "npm install -g gitlab-ci-local@4.70.1; it needs Node 20",
	"localedef":       "apt-get install locales",
	"make":            "apt-get install make",
	"mariadb":         "apt-get install mariadb-client",
	"mariadbd":        "apt-get install mariadb-server",
	"mount":           "apt-get install mount",
	"msgfmt":          "apt-get install gettext",
	"musl-gcc":        "apt-get install musl-tools",
	"mysql":           "apt-get install mariadb-client",
	"nginx":           "apt-get install nginx-light",
	"node":            "Node 20 or newer with npm (.ci/run checks for it)",
	"npm":             "Node 20 or newer with npm (.ci/run checks for it)",
	"php":             "apt-get install php8.2-cli",
	"php-fpm8.2":      "apt-get install php8.2-fpm",
	"setpriv":         "apt-get install util-linux",
	"sh":              "apt-get install dash",
	"shellcheck":      "apt-get install shellcheck",
	"tar":             "apt-get install tar",
	"unshare":         "apt-get install util-linux",
	"unzip":           "apt-get install unzip",
	"yamllint":        "apt-get install yamllint",
	"zip":             "apt-get install zip",

	"/etc/nginx/fastcgi_params":             "apt-get install nginx-light",
	"/usr/share/i18n/locales/en_GB":         "apt-get install locales",
	"/etc/nginx/mime.types":                 "apt-get install nginx-light",
	"/usr/lib/apache2/modules/libphp8.2.so": "apt-get install libapache2-mod-php8.2",
}

// LookTool finds a command a test needs. Without it the test is skipped with the way to
// install it, except under CI=true, where CI must have installed it and its absence is a
// failure.
func LookTool(t testing.TB, name string) string {
	t.Helper()
	hint := installHint(t, name)
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	// Servers live in /usr/sbin, which not every PATH has.
	if _, statErr := os.Stat("/usr/sbin/" + name); statErr == nil {
		return "/usr/sbin/" + name
	}
	missing(t, name, hint, err)
	return ""
}

// LookFile is LookTool for a file that is no command, such as a server's module.
func LookFile(t testing.TB, path string) string {
	t.Helper()
	hint := installHint(t, path)
	if _, err := os.Stat(path); err != nil {
		missing(t, path, hint, err)
	}
	return path
}

func installHint(t testing.TB, name string) string {
	t.Helper()
	hint, ok := installHints[name]
	if !ok {
		t.Fatalf("finding %s: no install hint; add one to testutil's installHints and the package to .ci/run", name)
	}
	return hint
}

func missing(t testing.TB, name, hint string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("finding %s: %v (CI must install it: %s)", name, err, hint)
	}
	t.Skipf("%s is not installed (%s)", name, hint)
}

// Buffer collects output written from several goroutines (a process, the Dagger SDK's log),
// readable while it is written.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Server is a server a test runs in a process group of its own, so that its workers end
// with it.
type Server struct {
	name   string
	cmd    *exec.Cmd
	output Buffer
	done   chan struct{}
}

// StartServer starts a server in the foreground with exactly the environment env; the test's
// cleanup stops it and whatever is left of its process group, and shows its output when the
// test failed.
func StartServer(t testing.TB, env []string, path string, args ...string) *Server {
	t.Helper()
	s := &Server{name: filepath.Base(path), cmd: exec.Command(path, args...), done: make(chan struct{})}
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = &s.output, &s.output
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A worker that outlived its master would hold the output open and Wait with it.
	s.cmd.WaitDelay = time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", s.name, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		group := -s.cmd.Process.Pid
		_ = syscall.Kill(group, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Errorf("stopping %s: still running 10 s after SIGTERM", s.name)
		}
		// Whatever of the group is left: a worker that missed its master's end.
		_ = syscall.Kill(group, syscall.SIGKILL)
		<-s.done
		if t.Failed() {
			t.Logf("output of %s:\n%s", s.name, s.output.String())
		}
	})
	return s
}

// WaitListening waits until the server accepts connections at address; if it exits first,
// or does not listen within 10 s, the test fails with its output.
func (s *Server) WaitListening(t testing.TB, address string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case <-s.done:
			t.Fatalf("starting %s: it exited (%v):\n%s", s.name, s.cmd.ProcessState, s.output.String())
		default:
		}
		if c, err := net.Dial("tcp", address); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("starting %s: not listening on %s within 10 s:\n%s", s.name, address, s.output.String())
}
