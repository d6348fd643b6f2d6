package dockerfiles

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// The images' servers, as Debian builds them, run here with the configuration files the
// images ship: php-fpm with fpm-alpine/zz-studip.conf, Apache and mod_php with
// apache/studip.conf, both with common/php/studip.ini.
const (
	phpFPM        = "php-fpm8.2"
	apacheModules = "/usr/lib/apache2/modules"
	phpModule     = apacheModules + "/libphp8.2.so"
	// What a request must see of the container's environment: the configuration template
	// reads the database's host from it.
	containerEnv = "MYSQL_HOST=db.example"
)

// webTree builds the fixture site (testdata/web) in a directory the web server's user can
// read, laid out as the image's tree: public/pictures is a link into the data volume, where a
// picture is.
func webTree(t *testing.T) string {
	t.Helper()
	root := tempDir(t, 0o755)
	copyDir(t, "testdata/web", root)
	copyFile(t, "testdata/tree/public/pictures/user/nobody_normal.png", filepath.Join(root, "data/pictures/user/nobody_normal.png"))
	if err := os.Symlink("../data/pictures", filepath.Join(root, "public/pictures")); err != nil {
		t.Fatal(err)
	}
	return root
}

// seenEnv is what the fixture's index.php saw of containerEnv: getenv() is false and $_ENV
// null where the variable is missing.
type seenEnv struct {
	Getenv any `json:"getenv"`
	Env    any `json:"$_ENV"`
}

func decodeSeenEnv(t *testing.T, body string) seenEnv {
	t.Helper()
	var seen seenEnv
	if err := json.Unmarshal([]byte(body), &seen); err != nil {
		t.Fatalf("reading index.php's answer %q: %v", body, err)
	}
	return seen
}

// fpmConfig writes php-fpm's configuration for the test into dir: the pool of the official
// fpm image (www.conf's user and process manager, docker.conf's logging, zz-docker.conf's
// daemonize = no), then (withOurPool) our zz-studip.conf as shipped, then a listen address
// in place of its port 9000: the last setting of a pool wins, as in the image, whose files
// override each other the same way. docker.conf's clear_env = no is left out: the image must
// not leave the environment to its base, so our file is what has to keep it.
func fpmConfig(t *testing.T, dir, address string, withOurPool bool) string {
	t.Helper()
	include := ""
	if withOurPool {
		pool, err := filepath.Abs("fpm-alpine/zz-studip.conf")
		if err != nil {
			t.Fatal(err)
		}
		include = "include = " + pool
	}
	path := filepath.Join(dir, "php-fpm.conf")
	testutil.WriteFile(t, path, fmt.Sprintf(`[global]
pid = %s
error_log = /proc/self/fd/2
daemonize = no

[www]
user = www-data
group = www-data
pm = dynamic
pm.max_children = 5
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
access.log = /proc/self/fd/2
catch_workers_output = yes
decorate_workers_output = no
%s

[www]
listen = %s
`, filepath.Join(dir, "php-fpm.pid"), include, address))
	return path
}

// fcgiGet asks php-fpm at address for a script as the web server in front of the fpm image
// would, with cgi-fcgi (which sends its environment as the request's parameters), and returns
// the body of a 200 answer.
func fcgiGet(t *testing.T, address, script string) string {
	t.Helper()
	cmd := exec.Command(testutil.LookTool(t, "cgi-fcgi"), "-bind", "-connect", address)
	cmd.Env = []string{"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET", "SERVER_PROTOCOL=HTTP/1.1",
		"SCRIPT_FILENAME=" + script, "SCRIPT_NAME=/" + filepath.Base(script), "QUERY_STRING="}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("requesting %s from php-fpm at %s: %v:\n%s", script, address, err, out)
	}
	headers, body, ok := strings.Cut(string(out), "\r\n\r\n")
	// php-fpm sends a Status header with any other answer than 200.
	if !ok || strings.Contains(headers, "Status:") {
		t.Fatalf("requesting %s from php-fpm at %s: not a 200 answer:\n%s", script, address, out)
	}
	return body
}

// TestFPMServer runs Debian's php-fpm with the fpm-alpine image's pool file and PHP settings:
// php-fpm -t accepts them, the health check gets pong, and a script sees the container's
// environment in getenv() and in $_ENV, which the configuration template and Stud.IP 6 read.
// Without the pool file php-fpm clears the environment and has no ping page; without the
// images' ini $_ENV stays empty: both files are needed.
func TestFPMServer(t *testing.T) {
	cases := []struct {
		name              string
		ourPool, imageIni bool
		want              seenEnv
		healthy           bool
		health            string
	}{
		{"the image's pool and ini", true, true, seenEnv{"db.example", "db.example"}, true, "answered pong"},
		{"without the images' ini", true, false, seenEnv{"db.example", nil}, true, "answered pong"},
		{"without the image's pool file", false, true, seenEnv{false, nil}, false, "answered status 404 Not Found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fpm := testutil.LookTool(t, phpFPM)
			root := webTree(t)
			ini, scan := phpIni(t, c.imageIni)
			address := closedAddress(t) // for php-fpm to listen on
			args := []string{"-c", ini, "-y", fpmConfig(t, t.TempDir(), address, c.ourPool)}
			env := append([]string{"PATH=/usr/bin:/bin", "PHP_INI_SCAN_DIR=" + scan, containerEnv}, phpSettingsEnv(t)...)

			check := exec.Command(fpm, append(args, "-t")...)
			check.Env = env
			if out, err := check.CombinedOutput(); err != nil || !strings.Contains(string(out), "test is successful") {
				t.Fatalf("php-fpm -t: %v:\n%s", err, out)
			}
			testutil.StartServer(t, env, fpm, append(args, "-F")...).WaitListening(t, address)

			if got := decodeSeenEnv(t, fcgiGet(t, address, filepath.Join(root, "public/index.php"))); got != c.want {
				t.Errorf("the script saw MYSQL_HOST as %+v, want %+v", got, c.want)
			}
			out, code := healthcheck(t, []string{"STUDIP_IMAGE_BASE=fpm-alpine"}, address)
			checkResult(t, out, code, c.healthy, c.health)
		})
	}
}

// siteConf is apache/studip.conf as the test's server needs it: Apache takes the document
// root (/var/www/studip/public) from nowhere else, so the copy has the fixture tree in its
// place, and is otherwise the file as shipped (its port is ${STUDIP_HTTP_PORT}, its logs go
// to ${APACHE_LOG_DIR}: the test sets both). A file that no longer has the root fails here
// rather than being tested with the wrong tree.
func siteConf(t *testing.T, root string) string {
	t.Helper()
	site := mustRead(t, "apache/studip.conf")
	if !strings.Contains(site, "/var/www/studip/") {
		t.Fatalf("adapting apache/studip.conf to the test: it has no %q", "/var/www/studip/")
	}
	return strings.ReplaceAll(site, "/var/www/studip/", root+"/")
}

// apacheConfig stands in for the apache image's server configuration, in dir: what Debian's
// apache2.conf has that our site relies on (no access outside it, the combined log format),
// the modules the image enables (prefork for mod_php, rewrite by our Dockerfile, and those
// of Debian's defaults the site uses), the official image's docker-php.conf (PHP files to
// PHP, index.php first), the PHP settings of phpIni, our ports.conf and our site (siteConf).
// The server listens on the environment's STUDIP_HTTP_PORT, as the image's does.
func apacheConfig(t *testing.T, dir, root, ini string) string {
	t.Helper()
	testutil.WriteFile(t, filepath.Join(dir, "studip.conf"), siteConf(t, root))
	ports, err := filepath.Abs("apache/ports.conf")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "apache2.conf")
	testutil.WriteFile(t, path, strings.NewReplacer("@dir@", dir, "@ports@", ports, "@modules@", apacheModules, "@ini@", ini).Replace(`
ServerRoot @dir@
DefaultRuntimeDir @dir@
PidFile @dir@/apache2.pid
Include @ports@
User www-data
Group www-data
ErrorLog ${APACHE_LOG_DIR}/error.log
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined

LoadModule mpm_prefork_module @modules@/mod_mpm_prefork.so
LoadModule authz_core_module @modules@/mod_authz_core.so
LoadModule dir_module @modules@/mod_dir.so
LoadModule mime_module @modules@/mod_mime.so
LoadModule rewrite_module @modules@/mod_rewrite.so
LoadModule php_module @modules@/libphp8.2.so
TypesConfig /etc/mime.types
PHPINIDir @ini@

<Directory />
	Options FollowSymLinks
	AllowOverride None
	Require all denied
</Directory>

<FilesMatch \.php$>
	SetHandler application/x-httpd-php
</FilesMatch>
DirectoryIndex disabled
DirectoryIndex index.php index.html

Include @dir@/studip.conf
`))
	return path
}

// apacheLogs is the log directory (APACHE_LOG_DIR) of a test's Apache, in dir: as the
// official image has it, its logs are links to the server's stdout and stderr.
func apacheLogs(t *testing.T, dir string) string {
	t.Helper()
	logs := filepath.Join(dir, "log")
	mustMkdir(t, logs)
	for name, target := range map[string]string{"error.log": "/dev/stderr", "access.log": "/dev/stdout"} {
		if err := os.Symlink(target, filepath.Join(logs, name)); err != nil {
			t.Fatal(err)
		}
	}
	return logs
}

// apacheEnv is the environment of a test's Apache, as the apache image gives its own: its log
// directory in dir (apacheLogs), the PHP settings of phpIni's scan directory scan with the
// image's defaults, the port of address as STUDIP_HTTP_PORT; then extra.
func apacheEnv(t *testing.T, dir, scan, address string, extra ...string) []string {
	t.Helper()
	_, port, err := net.SplitHostPort(address)
	if err != nil {
		t.Fatal(err)
	}
	env := append([]string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "APACHE_LOG_DIR=" + apacheLogs(t, dir), "PHP_INI_SCAN_DIR=" + scan,
		"STUDIP_HTTP_PORT=" + port}, phpSettingsEnv(t)...)
	return append(env, extra...)
}

// startApache starts Apache with the configuration conf as the image's apache2-foreground
// does: through Apache's envvars, which read apache/studip-envvars.sh, so that the
// environment env (PHP_UPLOAD_LIMIT) sets what studip.conf reads; confined by c unless nil.
func startApache(t *testing.T, c *confinement, env []string, conf string) *testutil.Server {
	t.Helper()
	apache := testutil.LookTool(t, "apache2")
	testutil.LookFile(t, phpModule)
	argv := append(apacheEnvvars(t), apache, "-f", conf, "-DFOREGROUND")
	if c != nil {
		return c.start(t, env, argv)
	}
	return testutil.StartServer(t, env, argv[0], argv[1:]...)
}

// apacheEnvvars is the start of a command line that runs the rest of it as Apache's envvars
// in the apache image does before each start of Apache: with studip-functions.sh and
// apache/studip-envvars.sh sourced.
func apacheEnvvars(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, path := range []string{"common/studip-functions.sh", "apache/studip-envvars.sh"} {
		abs, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, abs)
	}
	return []string{testutil.LookTool(t, "sh"), "-c", `studip_log_name=studip-envvars && . "$0" && . "$1" && shift && exec "$@"`, paths[0], paths[1]}
}

// get requests path from the server at address and returns the answer with its body.
func get(t *testing.T, address, path string) (*http.Response, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + address + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the answer: %v", path, err)
	}
	return resp, string(body)
}

// TestApacheServer runs Debian's Apache with mod_php and the apache image's site on the
// fixture tree, as the image runs it (apache2 -DFOREGROUND, the logs on stdout and stderr):
// PHP sees the container's environment, the pictures are served through the link into the
// data volume, Stud.IP's download addresses reach sendfile.php with their parameters whole,
// and studip-healthcheck judges the real server.
func TestApacheServer(t *testing.T) {
	t.Parallel()
	root := webTree(t)
	dir := t.TempDir()
	ini, scan := phpIni(t, true)
	address := closedAddress(t) // for Apache to listen on
	startApache(t, nil, apacheEnv(t, dir, scan, address, containerEnv), apacheConfig(t, dir, root, ini)).WaitListening(t, address)

	t.Run("PHP sees the environment", func(t *testing.T) {
		resp, body := get(t, address, "/")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /: %s:\n%s", resp.Status, body)
		}
		if got, want := decodeSeenEnv(t, body), (seenEnv{"db.example", "db.example"}); got != want {
			t.Errorf("index.php saw MYSQL_HOST as %+v, want %+v", got, want)
		}
	})

	t.Run("a picture through the link into the data volume", func(t *testing.T) {
		resp, body := get(t, address, "/pictures/user/nobody_normal.png")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("GET the picture: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
		}
		if body != mustRead(t, "testdata/tree/public/pictures/user/nobody_normal.png") {
			t.Error("the picture served is not the one in the data volume")
		}
	})

	t.Run("download addresses", func(t *testing.T) {
		cases := []struct {
			name, path string
			want       map[string]string // sendfile.php's parameters; nil: 404
		}{
			{"a file", "/download/normal/0/abc123/file.pdf",
				map[string]string{"normal": "1", "type": "0", "file_id": "abc123", "file_name": "file.pdf"}},
			{"force_download", "/download/force_download/4/abc123/file.pdf",
				map[string]string{"force_download": "1", "type": "4", "file_id": "abc123", "file_name": "file.pdf"}},
			{"type 5: a range's list", "/download/zip/5/r1/l2/file.pdf",
				map[string]string{"zip": "1", "type": "5", "range_id": "r1", "list_id": "l2", "file_name": "file.pdf"}},
			// Apache refuses a rewritten query with a space (403), and & or + would cut or
			// change the name, unless the rules escape what they copy (flag B).
			{"a name with a space", "/download/normal/0/abc123/my%20file.pdf",
				map[string]string{"normal": "1", "type": "0", "file_id": "abc123", "file_name": "my file.pdf"}},
			{"a name with & + ? and an umlaut", "/download/normal/0/abc123/a%2Bb%26c%3F%C3%A4.pdf",
				map[string]string{"normal": "1", "type": "0", "file_id": "abc123", "file_name": "a+b&c?ä.pdf"}},
			{"an unknown type", "/download/normal/8/abc123/file.pdf", nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				resp, body := get(t, address, c.path)
				if c.want == nil {
					if resp.StatusCode != http.StatusNotFound {
						t.Errorf("GET %s: %s, want 404:\n%s", c.path, resp.Status, body)
					}
					return
				}
				var got map[string]string
				if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
					t.Fatalf("GET %s: %s:\n%s", c.path, resp.Status, body)
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("GET %s: sendfile.php got %v, want %v", c.path, got, c.want)
				}
			})
		}
	})

	t.Run("health check", func(t *testing.T) {
		cases := []struct {
			name         string
			databaseDown bool // index.php answers 500
			live         bool
			healthy      bool
			want         string
		}{
			{"ready", false, false, true, "answered 200 OK"},
			{"--live", false, true, true, "answered 200 OK"},
			{"ready, while Stud.IP answers 500", true, false, false, "answered 500 Internal Server Error; ready takes"},
			{"--live, while Stud.IP answers 500", true, true, true, "answered 500 Internal Server Error (--live: any answer will do)"},
		}
		// Not in parallel: the cases share the server and its tree.
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				flag := filepath.Join(root, "database-down")
				if c.databaseDown {
					testutil.WriteFile(t, flag, "")
					t.Cleanup(func() { os.Remove(flag) })
				}
				args := []string{address}
				if c.live {
					args = append(args, "--live")
				}
				out, code := healthcheck(t, []string{"STUDIP_IMAGE_BASE=apache"}, args...)
				checkResult(t, out, code, c.healthy, "GET http://"+address+"/", c.want)
			})
		}
	})
}
