package examples

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// The fpm-alpine example's nginx.conf runs here for real: Debian's nginx serves it, in front
// of Debian's php-fpm with the fpm-alpine image's pool file, on a fixture site laid out as the
// image's tree.
const (
	phpFPM = "php-fpm8.2"
	// What the official nginx image's nginx.conf includes, and the example's server block.
	nginxMimeTypes   = "/etc/nginx/mime.types"
	nginxFastCGIArgs = "/etc/nginx/fastcgi_params"
	// The fpm image's pool file and PHP settings, as the image installs them.
	fpmPool       = "../dockerfiles/fpm-alpine/zz-studip.conf"
	fpmDockerfile = "../dockerfiles/fpm-alpine/Dockerfile"
	phpIniOf      = "../dockerfiles/common/php"
	// The container's environment, which a script must see.
	containerEnv = "MYSQL_HOST=db.example"
)

// phpAnswer is what a script of the fixture site answers (testdata/nginx/lib/answer.php).
type phpAnswer struct {
	ScriptName string            `json:"script_name"`
	PathInfo   string            `json:"path_info"`
	Get        map[string]string `json:"get"`
	MySQLHost  any               `json:"mysql_host"`
}

// script is the answer of script of the fixture site, run with PATH_INFO pathInfo and the
// query get.
func script(name, pathInfo string, get map[string]string) *phpAnswer {
	if get == nil {
		get = map[string]string{}
	}
	return &phpAnswer{ScriptName: "/" + name, PathInfo: pathInfo, Get: get, MySQLHost: "db.example"}
}

// nginxRequest is a request to the example's server and what must answer it: a script of
// the fixture site (php), a file of it as is (file, relative to the site, with contentType),
// or else nginx itself with an error page.
type nginxRequest struct {
	name, path  string
	status      int
	php         *phpAnswer
	file        string
	contentType string
}

// download is sendfile.php's query for a download address of type 0 to 4 or 6 or 7.
func download(kind, typ, name string) map[string]string {
	return map[string]string{kind: "1", "type": typ, "file_id": "abc123", "file_name": name}
}

// nginxRequests are the requests the example must serve as Stud.IP needs: its scripts with
// PATH_INFO, pretty URLs through dispatch.php, download addresses to sendfile.php with the
// file's name whole (as Stud.IP's links escape it, and as a browser may send it), static
// files (also through the links into the data volume) served by nginx, and nothing of
// dotfiles, uploaded scripts or scripts that are not there.
var nginxRequests = []nginxRequest{
	{name: "the front page", path: "/", status: 200, php: script("index.php", "", nil)},
	{name: "a script with PATH_INFO", path: "/dispatch.php/profile?x=1", status: 200,
		php: script("dispatch.php", "/profile", map[string]string{"x": "1"})},
	{name: "the JSON API's PATH_INFO", path: "/dispatch.php/v1/users/me", status: 200,
		php: script("dispatch.php", "/v1/users/me", nil)},
	{name: "a pretty URL", path: "/some/pretty/url", status: 200, php: script("dispatch.php", "/some/pretty/url", nil)},
	{name: "a pretty URL with a query", path: "/my_courses?cid=7", status: 200,
		php: script("dispatch.php", "/my_courses", map[string]string{"cid": "7"})},
	{name: "a download, the name escaped", path: "/download/normal/0/abc123/my%20file%20%26%20b%2Bc%20%C3%A4.pdf", status: 200,
		php: script("sendfile.php", "", download("normal", "0", "my file & b+c ä.pdf"))},
	{name: "a download, & and + as a browser may send them", path: "/download/force_download/4/abc123/my%20file%20&%20b+c%20%C3%A4.pdf", status: 200,
		php: script("sendfile.php", "", download("force_download", "4", "my file & b+c ä.pdf"))},
	// nginx escapes what a rewrite copies into the query only if the address has a %XX or
	// a +: a bare & in an address without either (a/b&c.pdf) would cut the name. Stud.IP's
	// links escape names (rawurlencode), so only a hand-typed address can have one.
	{name: "a download, + unescaped alone", path: "/download/normal/7/abc123/a+b=c.pdf", status: 200,
		php: script("sendfile.php", "", download("normal", "7", "a+b=c.pdf"))},
	{name: "a download of type 5", path: "/download/zip/5/r1/l2/all%20files.zip", status: 200,
		php: script("sendfile.php", "", map[string]string{"zip": "1", "type": "5", "range_id": "r1", "list_id": "l2", "file_name": "all files.zip"})},
	{name: "an unknown download type goes to Stud.IP", path: "/download/normal/8/abc123/file.pdf", status: 200,
		php: script("dispatch.php", "/download/normal/8/abc123/file.pdf", nil)},
	{name: "a static file", path: "/assets/x.css", status: 200, file: "public/assets/x.css", contentType: "text/css"},
	{name: "a picture through the link into the data volume", path: "/pictures/user/a.png", status: 200,
		file: "data/pictures/user/a.png", contentType: "image/png"},
	{name: "a missing static file", path: "/assets/missing.css", status: 404},
	{name: "a picture named like a script", path: "/index.php.png", status: 404},
	{name: "a script that is not there", path: "/nonexistent.php", status: 404},
	{name: "a script that is not there, with PATH_INFO", path: "/nonexistent.php/x", status: 404},
	{name: "an uploaded plugin's script", path: "/plugins_packages/evil.php", status: 403},
	{name: "an uploaded plugin's script with PATH_INFO", path: "/plugins_packages/evil.php/x", status: 403},
	{name: "a script among the pictures", path: "/pictures/user/upload.php", status: 403},
	{name: "a dotfile", path: "/.env", status: 403},
	{name: "a dotfile among the static files", path: "/assets/.hidden.css", status: 403},
}

// nginxExample is how the fpm-alpine example runs nginx and php-fpm: nginx's configuration
// template and environment, and what web's environment adds to the image's (PHP_*).
type nginxExample struct {
	template string
	nginxEnv map[string]string
	fpmEnv   []string
}

// withUploadLimit is the example with PHP_UPLOAD_LIMIT set to limit for nginx and PHP alike.
func (e nginxExample) withUploadLimit(limit string) nginxExample {
	e.nginxEnv = maps.Clone(e.nginxEnv)
	e.nginxEnv["PHP_UPLOAD_LIMIT"] = limit
	e.fpmEnv = append(slices.Clone(e.fpmEnv), "PHP_UPLOAD_LIMIT="+limit)
	return e
}

// start runs the example as its containers do: php-fpm as the fpm-alpine image runs it, with
// the image's environment and then web's, and nginx in front of it with the template rendered
// as the nginx image renders it (renderNginxTemplate), on the fixture site (nginxSite). It
// returns nginx's address and the site.
func (e nginxExample) start(t *testing.T) (address, site string) {
	t.Helper()
	nginx, fpm := testutil.LookTool(t, "nginx"), testutil.LookTool(t, phpFPM)
	testutil.LookFile(t, nginxMimeTypes)
	testutil.LookFile(t, nginxFastCGIArgs)
	site = nginxSite(t)
	dir := tempDir(t)
	fpmAddress, address := freeAddress(t), freeAddress(t)
	conf := renderNginxTemplate(t, e.template, e.nginxEnv)

	pool, err := filepath.Abs(fpmPool)
	if err != nil {
		t.Fatal(err)
	}
	scan, err := filepath.Abs(phpIniOf)
	if err != nil {
		t.Fatal(err)
	}
	// The official fpm image's pool (www.conf, docker.conf, zz-docker.conf), then ours, then
	// the test's address in place of its port 9000: the last setting of a pool wins.
	testutil.WriteFile(t, filepath.Join(dir, "php-fpm.conf"), fmt.Sprintf(`[global]
pid = %[1]s/php-fpm.pid
error_log = /proc/self/fd/2
daemonize = no

[www]
user = www-data
group = www-data
pm = static
pm.max_children = 2
catch_workers_output = yes
include = %[2]s

[www]
listen = %[3]s
`, dir, pool, fpmAddress))
	// No php.ini: the images' settings alone, as the image has them on top of the defaults.
	testutil.WriteFile(t, filepath.Join(dir, "php.ini"), "")
	fpmEnv := append(append([]string{"PATH=/usr/bin:/bin", "PHP_INI_SCAN_DIR=" + scan, containerEnv}, fpmImageEnv(t)...), e.fpmEnv...)
	testutil.StartServer(t, fpmEnv,
		fpm, "-c", filepath.Join(dir, "php.ini"), "-y", filepath.Join(dir, "php-fpm.conf"), "-F").WaitListening(t, fpmAddress)

	// The official nginx image's nginx.conf, with the example as its conf.d/default.conf.
	// Relative includes (fastcgi_params) are read next to the main configuration.
	_, port, _ := net.SplitHostPort(address)
	testutil.WriteFile(t, filepath.Join(dir, "default.conf"), adaptNginxConfig(t, e.template, conf, [][2]string{
		{"listen 80 ", "listen 127.0.0.1:" + port + " "},
		{"web:9000", fpmAddress},
		{"/var/www/studip/", site + "/"},
	}))
	if err := os.Symlink(nginxFastCGIArgs, filepath.Join(dir, "fastcgi_params")); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, filepath.Join(dir, "nginx.conf"), strings.NewReplacer("@dir@", dir, "@mime@", nginxMimeTypes).Replace(`
daemon off;
user www-data;
worker_processes 1;
pid @dir@/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
    include @mime@;
    default_type application/octet-stream;
    access_log /dev/stderr;
    sendfile on;
    client_body_temp_path @dir@/body;
    fastcgi_temp_path @dir@/fastcgi;
    proxy_temp_path @dir@/proxy;
    scgi_temp_path @dir@/scgi;
    uwsgi_temp_path @dir@/uwsgi;
    include @dir@/default.conf;
}
`))
	testutil.StartServer(t, []string{"PATH=/usr/bin:/bin"}, nginx, "-e", "stderr", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).
		WaitListening(t, address)
	return address, site
}

// checkNginxServes runs the example (nginxExample.start) and checks nginxRequests.
func checkNginxServes(t *testing.T, example nginxExample) {
	address, site := example.start(t)
	client := &http.Client{Timeout: 10 * time.Second}
	for _, r := range nginxRequests {
		t.Run(r.name, func(t *testing.T) {
			resp, err := client.Get("http://" + address + r.path)
			if err != nil {
				t.Fatalf("GET %s: %v", r.path, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("GET %s: reading the answer: %v", r.path, err)
			}
			checkNginxAnswer(t, site, r, resp, string(body))
		})
	}
}

// checkNginxAnswer checks the answer to request r.
func checkNginxAnswer(t *testing.T, site string, r nginxRequest, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != r.status {
		t.Errorf("GET %s: %s, want %d:\n%s", r.path, resp.Status, r.status, body)
	}
	// Whatever the answer, never a script's source.
	if strings.Contains(body, "<?php") {
		t.Errorf("GET %s: the answer shows PHP source:\n%s", r.path, body)
	}
	switch {
	case r.php != nil:
		var got phpAnswer
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("GET %s: not a script's answer (%v):\n%s", r.path, err, body)
		}
		if !reflect.DeepEqual(&got, r.php) {
			t.Errorf("GET %s: the script got %+v, want %+v", r.path, got, *r.php)
		}
	case r.file != "":
		want, err := os.ReadFile(filepath.Join(site, r.file))
		if err != nil {
			t.Fatal(err)
		}
		if body != string(want) {
			t.Errorf("GET %s: the answer is not %s:\n%s", r.path, r.file, body)
		}
		if got := resp.Header.Get("Content-Type"); got != r.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", r.path, got, r.contentType)
		}
		// The static location's header: the file did not go through PHP or the fallback.
		if got := resp.Header.Get("Cache-Control"); got != "max-age=604800" {
			t.Errorf("GET %s: Cache-Control %q, want the static files' max-age=604800", r.path, got)
		}
	default:
		// php-fpm answers "File not found." or "Access denied.": this is nginx's own page.
		if !strings.Contains(body, "<center>nginx") {
			t.Errorf("GET %s: not nginx's own error page (did PHP answer?):\n%s", r.path, body)
		}
	}
}

// adaptNginxConfig is the nginx configuration conf, read from path, with what a test must
// change replaced (each [from, to]); a file that no longer has one of them fails here rather
// than being tested with the wrong address or tree.
func adaptNginxConfig(t *testing.T, path, conf string, replace [][2]string) string {
	t.Helper()
	for _, r := range replace {
		if !strings.Contains(conf, r[0]) {
			t.Fatalf("adapting %s to the test: it has no %q", path, r[0])
		}
		conf = strings.ReplaceAll(conf, r[0], r[1])
	}
	return conf
}

// renderNginxTemplate is the configuration the nginx image makes of the template at path when
// its container starts with the environment env (its 20-envsubst-on-templates.sh): envsubst
// fills in the variables of env whose names match NGINX_ENVSUBST_FILTER (all without one)
// and leaves every other $ as it is.
func renderNginxTemplate(t *testing.T, path string, env map[string]string) string {
	t.Helper()
	filter, err := regexp.Compile(env["NGINX_ENVSUBST_FILTER"])
	if err != nil {
		t.Fatalf("nginx's NGINX_ENVSUBST_FILTER: %v", err)
	}
	var names, defined []string
	for _, name := range slices.Sorted(maps.Keys(env)) {
		if filter.MatchString(name) {
			names = append(names, "${"+name+"}")
			defined = append(defined, name+"="+env[name])
		}
	}
	template, err := os.Open(path)
	if err != nil {
		t.Fatalf("reading the nginx template: %v", err)
	}
	defer template.Close()
	cmd := exec.Command(testutil.LookTool(t, "envsubst"), strings.Join(names, " "))
	cmd.Env, cmd.Stdin = defined, template
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rendering the nginx template %s: %v", path, err)
	}
	return string(out)
}

// nginxSite builds the fixture site (testdata/nginx) in the image's layout, readable by the
// servers' user: public/pictures and public/plugins_packages link into the data volume, where
// a picture is.
func nginxSite(t *testing.T) string {
	t.Helper()
	root := tempDir(t)
	err := filepath.WalkDir("testdata/nginx", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("testdata/nginx", path)
		return copyFile(path, filepath.Join(root, rel))
	})
	if err == nil {
		err = copyFile("../dockerfiles/testdata/tree/public/pictures/user/nobody_normal.png", filepath.Join(root, "data/pictures/user/a.png"))
	}
	for _, name := range []string{"pictures", "plugins_packages"} {
		if err == nil {
			err = os.Symlink("../data/"+name, filepath.Join(root, "public", name))
		}
	}
	if err != nil {
		t.Fatalf("building the fixture site: %v", err)
	}
	return root
}

func copyFile(from, to string) error {
	dt, err := os.ReadFile(from)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(to), 0o755)
	}
	if err == nil {
		err = os.WriteFile(to, dt, 0o644)
	}
	return err
}

// fpmImageEnv is the environment the fpm-alpine image sets (its Dockerfile's ENV lines), which
// its PHP settings read.
func fpmImageEnv(t *testing.T) []string {
	t.Helper()
	env := testutil.DockerfileEnv(t, fpmDockerfile)
	var out []string
	for _, name := range slices.Sorted(maps.Keys(env)) {
		out = append(out, name+"="+env[name])
	}
	return out
}

// tempDir is a directory the servers' workers (www-data) can read, which t.TempDir (0700)
// is not.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "studip-nginx-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// freeAddress is a loopback address nothing listens on, for a server to listen on.
func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// checkNginxUploads uploads through the example's nginx to php-fpm, to dispatch.php, where
// Stud.IP's upload forms post (testutil.CheckUploadLimits): nginx refuses what is above
// PHP_UPLOAD_LIMIT before PHP reads it.
func checkNginxUploads(t *testing.T, example nginxExample) {
	testutil.CheckUploadLimits(t, func(t *testing.T, limit string) string {
		e := example
		if limit != "" {
			e = e.withUploadLimit(limit)
		}
		address, _ := e.start(t)
		return "http://" + address + "/dispatch.php/file/upload"
	})
}
