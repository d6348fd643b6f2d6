package pipelines

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// The smoke-test scripts run here with this machine's sh and php, against a stand-in for the
// image's studip-healthcheck and a local server that behaves like Stud.IP.

// script runs one of the smoke scripts with interpreter and reports its exit code and output.
func script(t *testing.T, interpreter, name string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return scriptEnv(t, nil, interpreter, name, args...)
}

// scriptEnv is script with the environment env (nil: this process's).
func scriptEnv(t *testing.T, env []string, interpreter, name string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	testutil.LookTool(t, interpreter)
	var out, errOut bytes.Buffer
	cmd := exec.Command(interpreter, append([]string{filepath.Join("smoke", name)}, args...)...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

func TestShellcheck(t *testing.T) {
	testutil.LookTool(t, "shellcheck")
	files, _ := filepath.Glob("smoke/*.sh")
	out, err := exec.Command("shellcheck", files...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

func TestPHPExtensions(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string // in stdout, or stderr on failure
	}{
		{name: "all loaded, any case", args: []string{"json", "pcre", "pdo"}, want: "PHP extensions present: json pcre pdo"},
		{name: "a name with a space", args: []string{"json", "Zend OPcache"}, want: "PHP extensions present: json Zend OPcache"},
		{name: "some missing", args: []string{"json", "no_such_ext", "nor_this"}, wantCode: 1,
			want: "PHP extensions missing: no_such_ext nor_this"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testutil.LookTool(t, "php")
			code, stdout, stderr := script(t, "sh", "php-extensions.sh", tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.wantCode, tt.want)
			}
		})
	}
}

// fakeHealthcheck puts a studip-healthcheck on PATH that fails its first fails calls the way
// the image's does (one line on stdout, exit 1), then passes; it returns the environment
// to run the scripts with and a function that reads the arguments of every call.
func fakeHealthcheck(t *testing.T, fails int) (env []string, calls func() []string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	fake := fmt.Sprintf(`#!/bin/sh
echo "$*" >> %[1]q
n=$(wc -l < %[1]q)
if [ "$n" -le %[2]d ]; then
	echo "http://$1:80/: 503 Service Unavailable"
	exit 1
fi
echo "http://$1:80/: 302 Found"
`, log, fails)
	if err := os.WriteFile(filepath.Join(dir, "studip-healthcheck"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return env, func() []string {
		out, _ := os.ReadFile(log)
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
}

// studipServer answers like Stud.IP: / sends the browser on to its start page, which is
// answered with status and body.
func studipServer(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "/index.php", http.StatusFound)
			return
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

func TestWaitHealthy(t *testing.T) {
	tests := []struct {
		name      string
		fails     int    // failed checks before studip-healthcheck passes
		seconds   string // how long to wait
		page      func(*testing.T) string
		wantCode  int
		want      []string // in stdout, or stderr on failure
		wantCalls int      // of studip-healthcheck; 0: any
	}{
		{name: "healthy once installed", fails: 1, seconds: "10", wantCalls: 2,
			want: []string{"http://studip:80/: 302 Found"}},
		{name: "never healthy", fails: 1000, seconds: "1", wantCode: 1,
			want: []string{"studip: not healthy within 1s; last check: http://studip:80/: 503 Service Unavailable"}},
		{name: "healthy, a Stud.IP page", seconds: "10",
			page: func(t *testing.T) string { return studipServer(t, http.StatusOK, "<title>Start - Stud.IP</title>") },
			want: []string{"http://studip:80/: 302 Found", "HTTP/1.1 200 OK, a Stud.IP page"}},
		{name: "healthy, another page", seconds: "10",
			page:     func(t *testing.T) string { return studipServer(t, http.StatusOK, "It works!") },
			wantCode: 1, want: []string{"no Stud.IP page; answer: HTTP/1.1 200 OK", "It works!"}},
		{name: "healthy, an error page naming Stud.IP", seconds: "10",
			page: func(t *testing.T) string {
				return studipServer(t, http.StatusInternalServerError, "Stud.IP: database error")
			},
			wantCode: 1, want: []string{"no Stud.IP page; answer: HTTP/1.1 500 Internal Server Error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // some wait
			testutil.LookTool(t, "php")
			env, calls := fakeHealthcheck(t, tt.fails)
			args := []string{tt.seconds, "studip"}
			if tt.page != nil {
				args = append(args, tt.page(t))
			}
			code, stdout, stderr := scriptEnv(t, env, "sh", "wait-healthy.sh", args...)
			for _, want := range tt.want {
				if code != tt.wantCode || !strings.Contains(stdout+stderr, want) {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.wantCode, want)
				}
			}
			got := calls()
			if len(got) == 0 || slices.ContainsFunc(got, func(c string) bool { return c != "studip" }) {
				t.Errorf("studip-healthcheck called with %q, want readiness checks of studip", got)
			}
			if tt.wantCalls > 0 && len(got) != tt.wantCalls {
				t.Errorf("studip-healthcheck called %d times, want %d: once more after each failure", len(got), tt.wantCalls)
			}
		})
	}
}
