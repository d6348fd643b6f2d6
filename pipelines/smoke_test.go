package pipelines

import (
	"bytes"
	"net"
	"net/http"
	"net/http/fcgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// The smoke-test scripts run here against local servers that behave like the images' web
// server and php-fpm, with this machine's sh and php.

func need(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("needs %s on PATH (see the README for the test tools)", tool)
	}
}

// script runs one of the smoke scripts with interpreter and reports its exit code and output.
func script(t *testing.T, interpreter, name string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	need(t, interpreter)
	var out, errOut bytes.Buffer
	cmd := exec.Command(interpreter, append([]string{filepath.Join("smoke", name)}, args...)...)
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
	need(t, "shellcheck")
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
		{name: "some missing", args: []string{"json", "no_such_ext", "nor_this"}, wantCode: 1,
			want: "PHP extensions missing: no_such_ext nor_this"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			need(t, "php")
			code, stdout, stderr := script(t, "sh", "php-extensions.sh", tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.wantCode, tt.want)
			}
		})
	}
}

func TestHTTPGet(t *testing.T) {
	tests := []struct {
		name     string
		handler  func(calls int64) (status int, body string)
		wantCode int
		want     string
	}{
		{name: "a Stud.IP page once installed",
			handler: func(calls int64) (int, string) {
				if calls == 1 {
					return http.StatusServiceUnavailable, "installing"
				}
				return http.StatusOK, "<title>Start - Stud.IP</title>"
			},
			want: "HTTP/1.1 200 OK, a Stud.IP page"},
		{name: "another page", handler: func(int64) (int, string) { return http.StatusOK, "It works!" },
			wantCode: 1, want: "no Stud.IP page within 3s; last answer: HTTP/1.1 200 OK"},
		{name: "an error page naming Stud.IP", handler: func(int64) (int, string) { return http.StatusInternalServerError, "Stud.IP: database error" },
			wantCode: 1, want: "last answer: HTTP/1.1 500 Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each waits for its deadline
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/" { // Stud.IP sends / on to its start page
					http.Redirect(w, r, "/index.php", http.StatusFound)
					return
				}
				status, body := tt.handler(calls.Add(1))
				w.WriteHeader(status)
				w.Write([]byte(body))
			}))
			defer srv.Close()
			code, stdout, stderr := script(t, "php", "http-get.php", srv.URL+"/", "3") // time for a second try
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.wantCode, tt.want)
			}
		})
	}
}

func TestFastCGIPing(t *testing.T) {
	tests := []struct {
		name     string
		answer   string // what the FastCGI server answers on /ping; "" for no server
		wantCode int
		want     string
	}{
		{name: "pong", answer: "pong", want: "/ping: pong"},
		{name: "something else", answer: "File not found.", wantCode: 1, want: "no pong within 1s; last answer: "},
		{name: "nothing listening", wantCode: 1, want: "last answer: cannot connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each waits for its deadline
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			if tt.answer == "" {
				l.Close()
			} else {
				defer l.Close()
				go fcgi.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/ping" {
						http.NotFound(w, r)
						return
					}
					w.Header().Set("Content-Type", "text/plain")
					w.Write([]byte(tt.answer))
				}))
			}
			host, port, _ := net.SplitHostPort(l.Addr().String())
			code, stdout, stderr := script(t, "php", "fcgi-ping.php", host, port, "/ping", "1")
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.wantCode, tt.want)
			}
		})
	}
}
