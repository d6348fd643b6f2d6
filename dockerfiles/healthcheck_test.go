package dockerfiles

import (
	"fmt"
	"net"
	"net/http"
	"net/http/fcgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// healthcheck runs studip-healthcheck with the environment and arguments, to its end, and
// returns its output and exit code. Every run must end well within the 10 s that the images'
// HEALTHCHECK allows.
func healthcheck(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	testutil.LookTool(t, "php")
	r := startScript(t, env, nil, "studip-healthcheck", args...)
	code := r.wait()
	if r.elapsed > 9500*time.Millisecond {
		t.Errorf("the check took %v; the HEALTHCHECK gives up after 10 s", r.elapsed)
	}
	return r.output.String(), code
}

// checkResult checks a run's exit code and its one line of output.
func checkResult(t *testing.T, out string, code int, healthy bool, wants ...string) {
	t.Helper()
	wantCode, verdict := 1, "studip-healthcheck: unhealthy: "
	if healthy {
		wantCode, verdict = 0, "studip-healthcheck: healthy: "
	}
	if code != wantCode {
		t.Errorf("exit code %d, want %d", code, wantCode)
	}
	if !strings.HasPrefix(out, verdict) || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Errorf("output %q, want one line starting with %q", out, verdict)
	}
	mustContain(t, out, wants...)
}

// httpAnswering serves GET / with the status, as Stud.IP behind apache would.
func httpAnswering(status int) func(*testing.T) string {
	return func(t *testing.T) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || r.URL.Path != "/" {
				http.Error(w, "not the health check's request: "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
				return
			}
			if status/100 == 3 {
				w.Header().Set("Location", "/dispatch.php/login")
			}
			w.WriteHeader(status)
		}))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
}

// closedAddress is a loopback port nothing listens on.
func closedAddress(t *testing.T) string {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint("127.0.0.1:", port)
}

// silentAddress accepts connections and never answers, like a server that hangs.
func silentAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestHealthcheckApache: in the apache image the check asks for GET /: ready takes a 2xx or
// 3xx answer, --live any answer at all (a 5xx while the database is down must not get the web
// server restarted); no answer fails both modes, which share the code that waits for it.
func TestHealthcheckApache(t *testing.T) {
	cases := []struct {
		name    string
		address func(*testing.T) string
		live    bool
		healthy bool
		want    string
	}{
		{"200", httpAnswering(http.StatusOK), false, true, "answered 200 OK"},
		{"200, --live", httpAnswering(http.StatusOK), true, true, "answered 200 OK"},
		{"302 to the login page", httpAnswering(http.StatusFound), false, true, "answered 302 Found"},
		{"302, --live", httpAnswering(http.StatusFound), true, true, "answered 302 Found"},
		{"500 while the database is down", httpAnswering(http.StatusInternalServerError), false, false, "answered 500 Internal Server Error; ready takes a 2xx or 3xx"},
		{"500, --live", httpAnswering(http.StatusInternalServerError), true, true, "answered 500 Internal Server Error (--live: any answer will do)"},
		{"nothing listening", closedAddress, false, false, "cannot connect to 127.0.0.1:"},
		{"nothing listening, --live", closedAddress, true, false, "cannot connect to 127.0.0.1:"},
		{"no answer", silentAddress, false, false, "no complete answer within 5 s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			address := c.address(t)
			args := []string{address}
			if c.live {
				args = append(args, "--live")
			}
			out, code := healthcheck(t, []string{"STUDIP_IMAGE_BASE=apache"}, args...)
			checkResult(t, out, code, c.healthy, "GET http://"+address+"/", c.want)
		})
	}
}

// TestHealthcheckApachePort: without a PORT the apache image's check asks the port Apache
// listens on, STUDIP_HTTP_PORT (8080 for a user other than root on Kubernetes), 80 unless set.
func TestHealthcheckApachePort(t *testing.T) {
	cases := []struct {
		name    string
		port    func(address string) string // STUDIP_HTTP_PORT, from the server's address
		healthy bool
		want    string
		anyway  bool // what the machine's port 80 answers is not the test's: only what was asked
	}{
		{"STUDIP_HTTP_PORT", func(address string) string { _, port, _ := net.SplitHostPort(address); return port }, true, "answered 200 OK", false},
		{"80 unless set", func(string) string { return "" }, false, "GET http://127.0.0.1:80/", true},
		{"not a port", func(string) string { return "http" }, false, "reading STUDIP_HTTP_PORT: 'http' is not a port", false},
		{"out of range", func(string) string { return "65536" }, false, "reading STUDIP_HTTP_PORT: '65536' is not a port", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			address := httpAnswering(http.StatusOK)(t)
			out, code := healthcheck(t, []string{"STUDIP_IMAGE_BASE=apache", "STUDIP_HTTP_PORT=" + c.port(address)})
			if c.anyway {
				mustContain(t, out, c.want)
				return
			}
			checkResult(t, out, code, c.healthy, c.want)
		})
	}
}

// fcgiAnswering serves php-fpm's ping request over FastCGI with the status and body; any
// other request gets a 400, which fails the check.
func fcgiAnswering(status int, body string) func(*testing.T) string {
	return func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go fcgi.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// php-fpm finds its ping page by SCRIPT_NAME, which Go makes the path.
			if r.Method != http.MethodGet || r.URL.Path != "/ping" || fcgi.ProcessEnv(r)["SCRIPT_FILENAME"] != "/ping" {
				http.Error(w, fmt.Sprintf("not the ping request: %s %s %v", r.Method, r.URL.Path, fcgi.ProcessEnv(r)), http.StatusBadRequest)
				return
			}
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}))
		return l.Addr().String()
	}
}

// TestHealthcheckFPM: in the fpm-alpine image the check sends php-fpm's ping request over
// FastCGI; only pong is healthy, in both modes.
func TestHealthcheckFPM(t *testing.T) {
	cases := []struct {
		name    string
		address func(*testing.T) string
		healthy bool
		want    string
	}{
		{"pong", fcgiAnswering(http.StatusOK, "pong"), true, "answered pong"},
		{"no ping page", fcgiAnswering(http.StatusNotFound, "File not found."), false, "answered status 404 Not Found with 'File not found.' instead of pong"},
		{"another answer", fcgiAnswering(http.StatusOK, "pang"), false, "answered status 200 OK with 'pang' instead of pong"},
		{"an answer in many records", fcgiAnswering(http.StatusOK, strings.Repeat("x", 200000)), false, "with 'xxxxxxxx"},
		{"nothing listening", closedAddress, false, "cannot connect to 127.0.0.1:"},
	}
	for _, c := range cases {
		for _, args := range [][]string{nil, {"--live"}} {
			t.Run(strings.Join(append([]string{c.name}, args...), ", "), func(t *testing.T) {
				t.Parallel()
				address := c.address(t)
				out, code := healthcheck(t, []string{"STUDIP_IMAGE_BASE=fpm-alpine"}, append(args, address)...)
				checkResult(t, out, code, c.healthy, "FastCGI /ping at "+address, c.want)
			})
		}
	}
}

// TestHealthcheckCron: where studip-cron's heartbeat file is, the check is of it alone:
// healthy while a run is on, however long, or when the last run ended within
// 2 x STUDIP_CRON_INTERVAL + 60 s, whatever the web server says (here: 500); without the
// file, the web server's check.
func TestHealthcheckCron(t *testing.T) {
	cases := []struct {
		name     string
		state    string        // the heartbeat file's content
		age      time.Duration // of the heartbeat file; negative: there is none
		interval string        // STUDIP_CRON_INTERVAL
		live     bool
		healthy  bool
		want     []string
	}{
		{name: "fresh", state: "idle\n", healthy: true, want: []string{"the last cron run ended", "(limit 180 s"}},
		{name: "within 2 x 60 + 60 s", state: "idle\n", age: 170 * time.Second, healthy: true, want: []string{"(limit 180 s"}},
		{name: "stale", state: "idle\n", age: 200 * time.Second, want: []string{"(limit 180 s", "studip-cron is stuck or gone"}},
		{name: "stale, --live", state: "idle\n", age: 200 * time.Second, live: true, want: []string{"studip-cron is stuck or gone"}},
		{name: "stale for its interval", state: "idle\n", age: 70 * time.Second, interval: "1", want: []string{"(limit 62 s"}},
		{name: "a long run is no stuck runner", state: "running\n", age: time.Hour, healthy: true, want: []string{"a cron run has been on for 360"}}, // 3600 s, or a few more on a busy machine
		{name: "interval not a number", state: "idle\n", interval: "1m", want: []string{"reading STUDIP_CRON_INTERVAL: '1m' is not a whole number"}},
		{name: "no heartbeat: the web server's check", age: -1, want: []string{"GET http://", "answered 500"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			heartbeat := filepath.Join(t.TempDir(), "studip-cron.heartbeat")
			if c.age >= 0 {
				testutil.WriteFile(t, heartbeat, c.state)
				at := time.Now().Add(-c.age)
				if err := os.Chtimes(heartbeat, at, at); err != nil {
					t.Fatal(err)
				}
			}
			env := []string{"STUDIP_IMAGE_BASE=apache", "STUDIP_CRON_HEARTBEAT=" + heartbeat, "STUDIP_CRON_INTERVAL=" + c.interval}
			args := []string{httpAnswering(http.StatusInternalServerError)(t)}
			if c.live {
				args = append(args, "--live")
			}
			out, code := healthcheck(t, env, args...)
			checkResult(t, out, code, c.healthy, c.want...)
		})
	}
}

// TestHealthcheckErrors: arguments it cannot use and an image without a known base fail the
// check with a message that says why.
func TestHealthcheckErrors(t *testing.T) {
	cases := []struct {
		name string
		base string // STUDIP_IMAGE_BASE
		args []string
		want string
	}{
		{"an unknown option", "apache", []string{"--ready"}, "studip-healthcheck: unexpected argument '--ready'\nusage: studip-healthcheck [--live] [HOST[:PORT]]\n       studip-healthcheck --page PATH [HOST[:PORT]]\n"},
		{"two hosts", "apache", []string{"web", "cron"}, "unexpected argument 'cron'"},
		{"IPv6 without brackets", "fpm-alpine", []string{"::1"}, "'::1' is neither HOST nor HOST:PORT (an IPv6 address goes in brackets)"},
		{"port out of range", "apache", []string{"web:70000"}, "'web:70000' is neither HOST nor HOST:PORT"},
		{"--page without a path", "fpm-alpine", []string{"--page"}, "--page takes a path that starts with /, such as /"},
		{"--page with a relative path", "fpm-alpine", []string{"--page", "index.php"}, "--page takes a path that starts with /"},
		{"--page and --live", "fpm-alpine", []string{"--live", "--page", "/"}, "--live and --page do not go together"},
		{"no base", "", nil, "studip-healthcheck: unhealthy: STUDIP_IMAGE_BASE is '', neither apache nor fpm-alpine (the image sets it)\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, code := healthcheck(t, []string{"STUDIP_IMAGE_BASE=" + c.base}, c.args...)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			mustContain(t, out, c.want)
		})
	}
}

// TestHealthcheckPage runs each image's server on a Stud.IP-like tree (testdata/studip-page:
// / sends the browser on to dispatch.php/login, which sets a session cookie before it shows a
// page that names Stud.IP): Debian's php-fpm with the fpm-alpine image's pool, asked over
// FastCGI, and Apache with mod_php and the apache image's site, asked over HTTP. It asks them
// for pages with studip-healthcheck --page, as the smoke test does: a 2xx Stud.IP page passes;
// a PHP fatal error (500), another page, a redirect loop or no page fails, naming the status,
// with the start of the answer.
func TestHealthcheckPage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		page    string
		flag    string // a file in the tree: broken (a PHP fatal error), other-page
		healthy bool
		// In the output, after "WHAT: " (WHAT: the request, as the base's check names it),
		// and further text by base: the answer's lines.
		verdict     string
		fpm, apache []string
	}{
		{name: "a Stud.IP page after redirects", page: "/", healthy: true,
			verdict: "302 Found to /dispatch.php/login, 302 Found to /dispatch.php/login, 200 OK: a Stud.IP page\n"},
		{name: "the script by name", page: "/index.php", healthy: true,
			verdict: "302 Found to /dispatch.php/login, 302 Found to /dispatch.php/login, 200 OK: a Stud.IP page\n"},
		{name: "an absolute redirect", page: "/?absolute=1", healthy: true,
			verdict: "302 Found to /dispatch.php/login, 302 Found to /dispatch.php/login, 200 OK: a Stud.IP page\n"},
		{name: "a redirect loop", page: "/dispatch.php/loop",
			verdict: strings.Repeat("302 Found to /dispatch.php/loop, ", 5) + "302 Found to /dispatch.php/loop: more than 5 redirects\n"},
		{name: "a PHP fatal error", page: "/", flag: "broken",
			verdict: "500 Internal Server Error: no Stud.IP page (a page takes a 2xx answer that names Stud.IP)\n  (empty body)\n",
			fpm:     []string{`  stderr: PHP message: PHP Fatal error:  Uncaught Error: Class "Studip\Missing" not found`}},
		{name: "another page", page: "/", flag: "other-page",
			verdict: "200 OK: no Stud.IP page (a page takes a 2xx answer that names Stud.IP)\n  It works!\n"},
		{name: "no such script", page: "/nothing.php", verdict: "404 Not Found: no Stud.IP page",
			fpm: []string{"\n  File not found.\n"}, apache: []string{"\n  <title>404 Not Found</title>\n"}},
		{name: "a path that is no script", page: "/login",
			fpm:    []string{": /login names no PHP script (a path with .php, or a directory ending in /)\n"},
			apache: []string{": 404 Not Found: no Stud.IP page"}},
	}
	servers := []struct {
		base  string
		start func(t *testing.T, root string) string // the server on the tree root; its address
		what  func(address, page string) string
	}{
		{"fpm-alpine", startPageFPM, func(address, page string) string { return "FastCGI GET " + page + " at " + address }},
		{"apache", startPageApache, func(address, page string) string { return "GET http://" + address + page }},
	}
	for _, server := range servers {
		t.Run(server.base, func(t *testing.T) {
			t.Parallel()
			root := tempDir(t, 0o755)
			copyDir(t, "testdata/studip-page", root)
			address := server.start(t, root)
			// Not in parallel: the cases share the server and its tree.
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if c.flag != "" {
						flag := filepath.Join(root, c.flag)
						testutil.WriteFile(t, flag, "")
						t.Cleanup(func() { os.Remove(flag) })
					}
					want := map[string][]string{"fpm-alpine": c.fpm, "apache": c.apache}[server.base]
					if c.verdict != "" {
						want = append(want, server.what(address, c.page)+": "+c.verdict)
					}
					out, code := healthcheck(t, []string{"STUDIP_IMAGE_BASE=" + server.base, "STUDIP_ROOT=" + root}, "--page", c.page, address)
					checkPageResult(t, out, code, c.healthy, want...)
				})
			}
		})
	}
}

// pageIni is phpIni with php.ini-production's error settings: errors go to the server's
// log, not into the page.
func pageIni(t *testing.T) (ini, scanDir string) {
	t.Helper()
	ini, scanDir = phpIni(t, true)
	testutil.WriteFile(t, ini, mustRead(t, ini)+"display_errors = Off\nlog_errors = On\n")
	return ini, scanDir
}

// startPageFPM starts php-fpm with the fpm-alpine image's pool for the tree root (the
// script's STUDIP_ROOT) and returns its address.
func startPageFPM(t *testing.T, _ string) string {
	fpm := testutil.LookTool(t, phpFPM)
	ini, scan := pageIni(t)
	address := closedAddress(t) // for php-fpm to listen on
	args := []string{"-c", ini, "-y", fpmConfig(t, t.TempDir(), address, true), "-F"}
	env := append([]string{"PATH=/usr/bin:/bin", "PHP_INI_SCAN_DIR=" + scan}, phpSettingsEnv(t)...)
	testutil.StartServer(t, env, fpm, args...).WaitListening(t, address)
	return address
}

// startPageApache starts Apache with mod_php and the apache image's site on the tree root,
// as TestApacheServer does, and returns its address.
func startPageApache(t *testing.T, root string) string {
	dir := t.TempDir()
	ini, scan := pageIni(t)
	address := closedAddress(t) // for Apache to listen on
	startApache(t, nil, apacheEnv(t, dir, scan, address), apacheConfig(t, dir, root, ini)).WaitListening(t, address)
	return address
}

// checkPageResult checks a run of --page: its exit code, its verdict on the first line, and
// after it, on failure, only the answer's lines, indented.
func checkPageResult(t *testing.T, out string, code int, healthy bool, wants ...string) {
	t.Helper()
	first, details, _ := strings.Cut(out, "\n")
	checkResult(t, first+"\n", code, healthy)
	if healthy && details != "" {
		t.Errorf("healthy, and more than one line: %q", out)
	}
	for _, line := range lines(strings.TrimSuffix(details, "\n")) {
		if !strings.HasPrefix(line, "  ") {
			t.Errorf("a line of the answer not indented: %q", line)
		}
	}
	mustContain(t, out, wants...)
}
