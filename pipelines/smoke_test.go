package pipelines

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// The smoke-test scripts run here with this machine's sh (dash, as in the Debian images) and
// busybox sh (as in the fpm-alpine image), php and tools, against the images' own
// studip-healthcheck and local servers that behave like Stud.IP.

// shells are the shells a smoke script runs with in the images: dash in the Debian ones,
// busybox's ash in fpm-alpine.
var shells = map[string][]string{"dash": {"sh"}, "busybox": {"busybox", "sh"}}

// run runs command with env (nil: this process's) and reports its exit code and output. It
// gives up after two minutes: every script here decides much sooner.
func run(t *testing.T, env []string, command ...string) (code int, stdout, stderr string) {
	t.Helper()
	testutil.LookTool(t, command[0])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q: still running after 2 minutes; stdout %q, stderr %q", command, out.String(), errOut.String())
	}
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// script runs the smoke script name with shell and args. Under busybox sh, the tools the
// scripts call are busybox's applets too, as in the fpm-alpine image.
func script(t *testing.T, env []string, shell []string, name string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if shell[0] == "busybox" {
		if env == nil {
			env = os.Environ()
		}
		env = withPathFirst(env, busyboxApplets(t))
	}
	return run(t, env, append(append(shell[:len(shell):len(shell)], filepath.Join("smoke", name)), args...)...)
}

// appletsUsed are the commands the smoke scripts call that busybox has as applets.
var appletsUsed = []string{"cat", "date", "dirname", "env", "head", "mktemp", "sed", "sleep", "tail", "wc"}

// busyboxApplets is a directory of links to busybox, one for each of appletsUsed.
func busyboxApplets(t *testing.T) string {
	t.Helper()
	busybox := testutil.LookTool(t, "busybox")
	dir := t.TempDir()
	for _, applet := range appletsUsed {
		if err := os.Symlink(busybox, filepath.Join(dir, applet)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// withPathFirst is env with dir put first on its PATH.
func withPathFirst(env []string, dir string) []string {
	out := slices.Clone(env)
	for i, kv := range out {
		if path, ok := strings.CutPrefix(kv, "PATH="); ok {
			out[i] = "PATH=" + dir + string(os.PathListSeparator) + path
			return out
		}
	}
	return append(out, "PATH="+dir)
}

// pathWith is this process's environment with dir first on PATH, and env.
func pathWith(dir string, env ...string) []string {
	return append(withPathFirst(os.Environ(), dir), env...)
}

// freePort is a TCP port on 127.0.0.1 that nothing listens on just now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestShellcheck(t *testing.T) {
	testutil.LookTool(t, "shellcheck")
	files, _ := filepath.Glob("smoke/*.sh")
	out, err := exec.Command("shellcheck", files...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

func TestPHPSyntax(t *testing.T) {
	files, _ := filepath.Glob("smoke/*.php")
	for _, f := range append(files, "testdata/fake-studip.php") {
		if code, stdout, stderr := run(t, nil, "php", "-l", f); code != 0 {
			t.Errorf("php -l %s: %s%s", f, stdout, stderr)
		}
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
		for shellName, shell := range shells {
			t.Run(tt.name+"/"+shellName, func(t *testing.T) {
				testutil.LookTool(t, "php")
				code, stdout, stderr := script(t, nil, shell, "php-extensions.sh", tt.args...)
				if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.wantCode, tt.want)
				}
			})
		}
	}
}

func TestLocalesCheck(t *testing.T) {
	t.Parallel()
	// C.UTF-8 is built into glibc (and musl): every machine has it.
	if code, stdout, stderr := run(t, nil, "php", "smoke/locales.php", "C.UTF-8", "C"); code != 0 || !strings.Contains(stdout, "locales present: C.UTF-8 C") {
		t.Errorf("exit %d, stdout %q, stderr %q; want the locales present", code, stdout, stderr)
	}
	code, stdout, stderr := run(t, nil, "php", "smoke/locales.php", "C.UTF-8", "xx_NOWHERE.UTF-8", "yy_NOWHERE.UTF-8")
	if want := "locales missing (setlocale does not switch to them): xx_NOWHERE.UTF-8 yy_NOWHERE.UTF-8"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, stderr, want)
	}
}

// testPO is a catalog as Stud.IP's locale/en holds them, German to English, with what the
// gettext check must pass over before its message: the header, a message with a context and
// one with a plural (which gettext() does not look up), and one that the catalog leaves as it
// is. msgfmt writes them sorted by msgid, all before "Veranstaltungen".
const testPO = `msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\n"

msgctxt "Admin"
msgid "Veranstaltungen"
msgstr "Lectures"

msgid "Datei"
msgid_plural "Dateien"
msgstr[0] "File"
msgstr[1] "Files"

msgid "OK"
msgstr "OK"

msgid "Veranstaltungen"
msgstr "Courses"
`

// TestLocalesGettext: with a tree's catalogs, the locales check switches language as
// Stud.IP does and passes only when gettext returns the English of a message it picks from
// the .mo file (written in either byte order), here with the locales that the images'
// build-locales.sh compiles (into a LOCPATH of the test's own) and with none.
func TestLocalesGettext(t *testing.T) {
	t.Parallel()
	testutil.LookTool(t, "localedef")
	testutil.LookFile(t, "/usr/share/i18n/locales/en_GB")
	msgfmt := testutil.LookTool(t, "msgfmt")
	withLocales := t.TempDir()
	if out, err := exec.Command(testutil.LookTool(t, "sh"), "../dockerfiles/common/build-locales.sh", withLocales).CombinedOutput(); err != nil {
		t.Fatalf("build-locales.sh %s: %v\n%s", withLocales, err, out)
	}
	noLocales := t.TempDir()

	// catalogs is a tree's locale folder with locale/en/LC_MESSAGES/studip.mo: msgfmt's .mo of
	// po in the given byte order, changed by edit.
	catalogs := func(po, endianness string, edit func([]byte) []byte) string {
		dir := t.TempDir()
		src, mo := filepath.Join(dir, "studip.po"), filepath.Join(dir, "studip.mo")
		if err := os.WriteFile(src, []byte(po), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(msgfmt, "--endianness="+endianness, "-o", mo, src).CombinedOutput(); err != nil {
			t.Fatalf("msgfmt: %v\n%s", err, out)
		}
		body, err := os.ReadFile(mo)
		if err != nil {
			t.Fatal(err)
		}
		messages := filepath.Join(dir, "locale", "en", "LC_MESSAGES")
		if err := os.MkdirAll(messages, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(messages, "studip.mo"), edit(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, "locale")
	}
	asIs := func(b []byte) []byte { return b }

	const (
		english = "en_GB.UTF-8: gettext translates 'Veranstaltungen' into 'Courses'"
		german  = "de_DE.UTF-8: gettext returns the source 'Veranstaltungen' (no catalog)"
	)
	tests := []struct {
		name     string
		locpath  string
		catalogs string
		wantCode int
		want     []string // in stdout, or stderr on failure
	}{
		{name: "little-endian", locpath: withLocales, catalogs: catalogs(testPO, "little", asIs), want: []string{english, german}},
		{name: "big-endian", locpath: withLocales, catalogs: catalogs(testPO, "big", asIs), want: []string{english, german}},
		{name: "without the locales", locpath: noLocales, catalogs: catalogs(testPO, "little", asIs), wantCode: 1, want: []string{
			"locales missing (setlocale does not switch to them): de_DE.UTF-8 en_GB.UTF-8",
			"gettext returned the German source 'Veranstaltungen' for en_GB.UTF-8, not the catalog's 'Courses'",
			"/locale/en/LC_MESSAGES/studip.mo): the system has no en_GB locale, or PHP's gettext does not follow it",
		}},
		{name: "no catalog", locpath: withLocales, catalogs: t.TempDir(), wantCode: 1, want: []string{
			"no catalog studip.mo for de_DE.UTF-8 en_GB.UTF-8 in /"}},
		{name: "not a catalog", locpath: withLocales, wantCode: 1, want: []string{"studip.mo: not a .mo catalog (no magic number 0x950412de)"},
			catalogs: catalogs(testPO, "little", func([]byte) []byte { return []byte("msgid \"\"\n") })},
		{name: "cut short", locpath: withLocales, wantCode: 1, want: []string{"studip.mo: cut short: string"},
			catalogs: catalogs(testPO, "big", func(b []byte) []byte { return b[:len(b)-40] })},
		{name: "a later revision", locpath: withLocales, wantCode: 1, want: []string{"studip.mo: revision 2.0, which gettext does not read"},
			catalogs: catalogs(testPO, "little", func(b []byte) []byte { b[6] = 2; return b })},
		{name: "nothing translated", locpath: withLocales, wantCode: 1, want: []string{"studip.mo: no message that it translates into something else"},
			catalogs: catalogs("msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\nmsgid \"OK\"\nmsgstr \"OK\"\n", "little", asIs)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, []string{"LOCPATH=" + tt.locpath}, slices.Concat([]string{"php", "smoke/locales.php", "--catalogs=" + tt.catalogs}, locales)...)
			for _, want := range tt.want {
				if code != tt.wantCode || !strings.Contains(stdout+stderr, want) {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tt.wantCode, want)
				}
			}
		})
	}
}

// toolsPath is a directory of links to this machine's tools that the test-image check calls
// and its ciTools, less those named in without: a PATH for it.
func toolsPath(t *testing.T, without ...string) string {
	t.Helper()
	dir := t.TempDir()
	// What the script itself runs besides the tools; coreutils, on every machine.
	needs := []string{"env", "head", "mktemp", "sed", "sleep", "php"}
	for _, tool := range ciTools {
		needs = append(needs, strings.Fields(tool.command)[0])
	}
	for _, name := range needs {
		if slices.Contains(without, name) {
			continue
		}
		path, err := exec.LookPath(name)
		if err != nil {
			path = testutil.LookTool(t, name)
		}
		if err := os.Symlink(path, filepath.Join(dir, name)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	return dir
}

// TestTestImageTools runs the test image's check against Debian's own tools, and without
// make or zip, which it must name.
func TestTestImageTools(t *testing.T) {
	var commands []string
	for _, tool := range ciTools {
		commands = append(commands, tool.command)
	}
	tests := []struct {
		name    string
		without []string
		want    []string // in stderr
	}{
		{name: "every tool"},
		{name: "no zip", without: []string{"zip"}, want: []string{"zip: not found", "tools missing or failing: zip\n"}},
		{name: "no make, no zip", without: []string{"make", "zip"}, want: []string{"make: not found", "tools missing or failing: make zip\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := toolsPath(t, tt.without...)
			env := []string{"PATH=" + dir, "HOME=" + t.TempDir()}
			code, stdout, stderr := script(t, env, []string{"sh"}, "test-image.sh", append([]string{strconv.Itoa(freePort(t))}, commands...)...)
			if tt.want == nil {
				if code != 0 || !strings.Contains(stdout, "php -S: served a file") || !strings.Contains(stdout, "make: GNU Make") {
					t.Errorf("exit %d, stdout %q, stderr %q; want every tool and php -S to pass", code, stdout, stderr)
				}
				return
			}
			if code != 1 || strings.Contains(stdout, "php -S") {
				t.Errorf("exit %d, stdout %q; want exit 1 before php -S", code, stdout)
			}
			for _, want := range tt.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not say %q", stderr, want)
				}
			}
		})
	}
}

// TestTestImagePHPServer: a php -S that cannot serve (its port taken by another server)
// fails the check, with what it answered.
func TestTestImagePHPServer(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not php -S", http.StatusNotFound)
	}))
	defer other.Close()
	port := strings.TrimPrefix(other.URL, "http://127.0.0.1:")
	code, stdout, stderr := script(t, pathWith(toolsPath(t)), []string{"sh"}, "test-image.sh", port, "php --version")
	if code != 1 || !strings.Contains(stderr, "php -S 127.0.0.1:"+port+" served nothing") {
		t.Errorf("exit %d, stdout %q, stderr %q; want a failure of php -S", code, stdout, stderr)
	}
}

func TestPlatformReqsReport(t *testing.T) {
	tests := []struct {
		name, report, code string
		wantCode           int
		want, unwanted     []string // in stdout+stderr
	}{
		{name: "composer's report of missing extensions and an old PHP", report: "testdata/check-platform-reqs.json", code: "2", wantCode: 1,
			want: []string{
				"PHP extensions missing for the locked packages:\n  ext-no_such_ext (vendor/imaging requires ext-no_such_ext *)\n  ext-nor_this_one (vendor/imaging requires ext-nor_this_one >=1.0)\n",
				"platform requirements not met:\n  php 8.2.36 (vendor/future requires php >=99.0)\n",
			},
			unwanted: []string{"ext-json", "ext-gettext", "dev_only"}},
		{name: "all met", report: `[{"name":"ext-json","version":"8.3.1","status":"success","failed_requirement":null,"provider":null}]`, code: "0",
			want: []string{"platform requirements met: 1 checked"}},
		{name: "no report", report: "Composer could not find a composer.json file in /var/www/studip", code: "1", wantCode: 1,
			want: []string{"composer check-platform-reqs (exit code 1) gave no report: Composer could not find a composer.json file"}},
		{name: "a failure the report does not explain", report: `[]`, code: "1", wantCode: 1,
			want: []string{"failed with exit code 1, naming no requirement"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := tt.report
			if !strings.HasPrefix(file, "testdata/") {
				file = filepath.Join(t.TempDir(), "report")
				if err := os.WriteFile(file, []byte(tt.report), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, stdout, stderr := run(t, nil, "php", "smoke/platform-reqs.php", file, tt.code)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stdout %q, stderr %q", code, tt.wantCode, stdout, stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(stdout+stderr, want) {
					t.Errorf("output %q does not say %q", stdout+stderr, want)
				}
			}
			for _, unwanted := range tt.unwanted {
				if strings.Contains(stdout+stderr, unwanted) {
					t.Errorf("output %q names %q", stdout+stderr, unwanted)
				}
			}
		})
	}
}

// TestPlatformReqs runs the check with Debian's composer on small locked trees.
func TestPlatformReqs(t *testing.T) {
	testutil.LookTool(t, "composer")
	for shellName, shell := range shells {
		t.Run(shellName, func(t *testing.T) {
			t.Parallel()
			env := append(os.Environ(), "HOME="+t.TempDir(), "COMPOSER_HOME="+t.TempDir())
			code, stdout, stderr := script(t, env, shell, "platform-reqs.sh", "testdata/platform/missing")
			if code != 1 || !strings.Contains(stderr, "ext-no_such_ext (vendor/imaging requires ext-no_such_ext *)") ||
				!strings.Contains(stderr, "ext-nor_this_one") || strings.Contains(stderr, "dev_only") {
				t.Errorf("missing: exit %d, stdout %q, stderr %q; want exit 1 naming both missing extensions, not the dev one", code, stdout, stderr)
			}
			code, stdout, stderr = script(t, env, shell, "platform-reqs.sh", "testdata/platform/met")
			if code != 0 || !strings.Contains(stdout, "platform requirements met: 4 checked") {
				t.Errorf("met: exit %d, stdout %q, stderr %q; want them met", code, stdout, stderr)
			}
		})
	}
}

// healthcheckPath is a directory holding the images' own studip-healthcheck, for PATH.
func healthcheckPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	check, err := filepath.Abs("../dockerfiles/common/studip-healthcheck")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(check, filepath.Join(dir, "studip-healthcheck")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// standIn is an image's server standing in for itself, listening on address, with the
// stand-in for Stud.IP (testdata/fake-studip.php): the environment studip-healthcheck needs
// to ask it, and the server's command line.
type standIn func(t *testing.T, address string) (env, command []string)

// apacheStandIn serves the stand-in with php -S, in place of the apache image's web server.
func apacheStandIn(t *testing.T, address string) (env, command []string) {
	testutil.LookTool(t, "php")
	return []string{"STUDIP_IMAGE_BASE=apache"}, []string{"php", "-S", address, "testdata/fake-studip.php"}
}

// fpmStandIn is the fpm-alpine image's server standing in for itself: this machine's php-fpm
// with the image's pool file (dockerfiles/fpm-alpine/zz-studip.conf: /ping, the environment
// kept) listening on address, serving a tree (the directory it returns, for STUDIP_ROOT)
// whose public/index.php is the stand-in for Stud.IP (testdata/fake-studip.php). It returns
// the server's command line too.
func fpmStandIn(t *testing.T, address string) (root string, command []string) {
	t.Helper()
	fpm := testutil.LookTool(t, "php-fpm8.2")
	dir := t.TempDir()
	root = filepath.Join(dir, "studip")
	page, err := os.ReadFile("testdata/fake-studip.php")
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, filepath.Join(root, "public/index.php"), string(page))
	pool, err := filepath.Abs("../dockerfiles/fpm-alpine/zz-studip.conf")
	if err != nil {
		t.Fatal(err)
	}
	// The workers run as whoever runs the test; as root php-fpm wants that said (-R).
	user, args := "", []string{"-n", "-F", "-y", filepath.Join(dir, "php-fpm.conf")}
	if os.Geteuid() == 0 {
		user, args = "user = root\ngroup = root\n", append(args, "-R")
	}
	conf := fmt.Sprintf("[global]\npid = %s\nerror_log = /proc/self/fd/2\ndaemonize = no\n\n"+
		"[www]\n%spm = static\npm.max_children = 2\ncatch_workers_output = yes\ninclude = %s\n\n[www]\nlisten = %s\n",
		filepath.Join(dir, "php-fpm.pid"), user, pool, address)
	testutil.WriteFile(t, filepath.Join(dir, "php-fpm.conf"), conf)
	return root, append([]string{fpm}, args...)
}

// fpmAlpineStandIn is fpmStandIn as a standIn.
func fpmAlpineStandIn(t *testing.T, address string) (env, command []string) {
	root, command := fpmStandIn(t, address)
	return []string{"STUDIP_IMAGE_BASE=fpm-alpine", "STUDIP_ROOT=" + root}, command
}

// TestServe runs serve.sh as the smoke test does (-p /), with the image's studip-healthcheck,
// against each base's server standing in for itself, with an install deadline of 10 minutes:
// a broken server must fail it long before, on its answer (status, page and, over FastCGI,
// PHP's message), with its log. Both bases are asked for the page the same way; on
// fpm-alpine the page decides, as php-fpm answers /ping whether Stud.IP works or not.
func TestServe(t *testing.T) {
	tests := []struct {
		name     string
		env      func(t *testing.T) []string // the stand-in's
		before   string                      // shell commands before the server starts: the install
		grace    string
		wantCode int
		// In stdout+stderr, on both bases and (by) on one: @ is the server's address, PAGE
		// what the page's check calls its request.
		want     []string
		by       map[string][]string
		unwanted []string
	}{
		{name: "healthy", grace: "5",
			want: []string{"PAGE: 302 Found to /index.php, 200 OK: a Stud.IP page\n"},
			by: map[string][]string{"apache": {"GET http://@/ answered 302 Found\n"},
				"fpm-alpine": {"FastCGI /ping at @ answered pong\n"}}},
		{name: "broken: answers 500", grace: "3", wantCode: 1,
			env: func(*testing.T) []string { return []string{"FAKE_BROKEN=-1"} },
			want: []string{
				"studip-healthcheck: unhealthy: PAGE: 500 Internal Server Error: no Stud.IP page",
				"\n  <h1>Internal Server Error</h1>\n",
				"the end of the server's log (",
				`PHP Fatal error:  Uncaught Error: Class "Studip\Fake" not found`,
			},
			by: map[string][]string{
				// The health check names the status; the page's check adds the answer.
				"apache": {"broken: the server answers, but not ready, for 3s; last check: studip-healthcheck: unhealthy: GET http://@/: answered 500 Internal Server Error"},
				"fpm-alpine": {"FastCGI /ping at @ answered pong\n",
					"broken: the server answers, but / is no Stud.IP page 3s after its first answer; last check: studip-healthcheck: unhealthy: PAGE: 500",
					`  stderr: PHP message: PHP Fatal error:  Uncaught Error: Class "Studip\Fake" not found`},
			},
			unwanted: []string{"no answer within", "a Stud.IP page\n"}},
		{name: "a slow install gets its time", before: "sleep 3", grace: "1",
			want: []string{"PAGE: 302 Found to /index.php, 200 OK: a Stud.IP page\n"}},
		{name: "errors while warming up, then healthy", grace: "60",
			env: func(t *testing.T) []string {
				return []string{"FAKE_BROKEN=2", "FAKE_COUNTER=" + filepath.Join(t.TempDir(), "answers")}
			},
			want: []string{"PAGE: 302 Found to /index.php, 200 OK: a Stud.IP page\n"},
			by:   map[string][]string{"apache": {"answered 500 Internal Server Error (--live", "answered 302 Found"}}},
		{name: "another page", grace: "3", wantCode: 1,
			env: func(*testing.T) []string { return []string{"FAKE_PAGE=It works!"} },
			want: []string{"broken: the server answers, but / is no Stud.IP page 3s after its first answer; last check: " +
				"studip-healthcheck: unhealthy: PAGE: 302 Found to /index.php, 200 OK: no Stud.IP page", "\n  It works!\n", "the end of the server's log"}},
		{name: "the server stops", before: `echo "studip-entrypoint: error: MYSQL_HOST is not set" >&2; exit 3`, grace: "5", wantCode: 1,
			want: []string{"the server stopped with exit code 3 before it was ready", "  studip-entrypoint: error: MYSQL_HOST is not set"}},
	}
	servers := []struct {
		base    string
		standIn standIn
		page    string // what the page's check calls its request for /
	}{
		{"apache", apacheStandIn, "GET http://@/"},
		{"fpm-alpine", fpmAlpineStandIn, "FastCGI GET / at @"},
	}
	for _, server := range servers {
		for _, tt := range tests {
			for shellName, shell := range shells {
				t.Run(server.base+"/"+tt.name+"/"+shellName, func(t *testing.T) {
					t.Parallel()
					addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
					standInEnv, command := server.standIn(t, addr)
					env := pathWith(healthcheckPath(t), standInEnv...)
					if tt.env != nil {
						env = append(env, tt.env(t)...)
					}
					if tt.before != "" {
						command = append([]string{"sh", "-c", tt.before + `; exec "$@"`, "sh"}, command...)
					}
					args := append([]string{"-a", addr, "-p", "/", "600", tt.grace}, command...)
					code, stdout, stderr := script(t, env, shell, "serve.sh", args...)
					if code != tt.wantCode {
						t.Errorf("exit %d, want %d", code, tt.wantCode)
					}
					for _, want := range slices.Concat(tt.want, tt.by[server.base]) {
						want = strings.ReplaceAll(strings.ReplaceAll(want, "PAGE", server.page), "@", addr)
						if !strings.Contains(stdout+stderr, want) {
							t.Errorf("output does not say %q", want)
						}
					}
					for _, unwanted := range tt.unwanted {
						if strings.Contains(stdout+stderr, unwanted) {
							t.Errorf("output says %q", unwanted)
						}
					}
					if t.Failed() {
						t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
					}
				})
			}
		}
	}
}

// TestServeNoAnswer: a server that never answers fails once SECONDS have passed, naming
// the wait and showing its log.
func TestServeNoAnswer(t *testing.T) {
	t.Parallel()
	env := pathWith(healthcheckPath(t), "STUDIP_IMAGE_BASE=apache")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	code, stdout, stderr := script(t, env, []string{"sh"}, "serve.sh", "-a", addr, "2", "60",
		"sh", "-c", `echo "studip-entrypoint: importing the demo data"; exec sleep 600`)
	if code != 1 || !strings.Contains(stderr, "no answer within 2s") || !strings.Contains(stderr, "cannot connect to "+addr) ||
		!strings.Contains(stderr, "  studip-entrypoint: importing the demo data") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 with the wait, the last check and the log", code, stdout, stderr)
	}
}
