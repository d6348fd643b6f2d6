package dockerfiles

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// phpIni writes the PHP settings of the images into a new directory: php.ini-production,
// then (withImageIni) the images' own settings in the directory scanned after it. It returns
// the php.ini and the scan directory (PHP_INI_SCAN_DIR), for PHP's CLI and servers alike.
func phpIni(t *testing.T, withImageIni bool) (ini, scanDir string) {
	t.Helper()
	dir := tempDir(t, 0o755)
	ini, scanDir = filepath.Join(dir, "php.ini"), filepath.Join(dir, "conf.d")
	// php.ini-production's one setting that matters here: without E it leaves $_ENV empty.
	testutil.WriteFile(t, ini, "variables_order = \"GPCS\"\n")
	mustMkdir(t, scanDir)
	if withImageIni {
		copyFile(t, "common/php/studip.ini", filepath.Join(scanDir, "zz-studip.ini"))
	}
	return ini, scanDir
}

// runPHP runs a PHP script as the images would (phpIni), with the given environment.
func runPHP(t *testing.T, withImageIni bool, env []string, args ...string) string {
	t.Helper()
	out, err := phpCommand(t, withImageIni, env, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("running php %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// phpCommand is the command runPHP runs.
func phpCommand(t *testing.T, withImageIni bool, env []string, args ...string) *exec.Cmd {
	t.Helper()
	php := testutil.LookTool(t, "php")
	ini, scan := phpIni(t, withImageIni)
	cmd := exec.Command(php, append([]string{"-c", ini}, args...)...)
	cmd.Env = append(append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "PHP_INI_SCAN_DIR=" + scan}, phpSettingsEnv(t)...), env...)
	return cmd
}

// TestConfigTemplateSecretFileUnreadable: a NAME_FILE that names no readable file stops
// config_local.inc.php with an error naming the variable and the path, as the entrypoint's
// file_env does, rather than setting NAME to nothing.
func TestConfigTemplateSecretFileUnreadable(t *testing.T) {
	dir := tempDir(t, 0o755)
	for name, path := range map[string]string{"missing": filepath.Join(dir, "missing"), "a directory": dir} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := []string{"MYSQL_HOST=db", "MYSQL_PASSWORD_FILE=" + path, "FIXTURE_SERVER=null"}
			out, err := phpCommand(t, true, env, "testdata/eval-config.php", "common/config_local.inc.php").CombinedOutput()
			if err == nil {
				t.Errorf("config_local.inc.php with MYSQL_PASSWORD_FILE=%s: no error:\n%s", path, out)
			}
			mustContain(t, string(out), "reading MYSQL_PASSWORD_FILE: "+path+" is not a readable file")
		})
	}
}

// TestConfigTemplateSyntax: php -l on the images' PHP files and the fixtures.
func TestConfigTemplateSyntax(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"common/config_local.inc.php", "common/config.inc.php", "common/studip-healthcheck", "testdata/console.php", "testdata/eval-config.php"} {
		if out := runPHP(t, true, nil, "-l", file); !strings.Contains(out, "No syntax errors") {
			t.Errorf("php -l %s: %s", file, out)
		}
	}
}

// TestConfigInc: the images' config/config.inc.php is the tree's config.inc.php.dist: loaded
// as Stud.IP loads it, it sets what the .dist sets, in the scope that loads it.
func TestConfigInc(t *testing.T) {
	t.Parallel()
	root := newTree(t, treeSpec{layout: "6", imageConfig: true})
	out := runPHP(t, true, nil, "-r", `(function () { require $GLOBALS['argv'][1]; echo $UNI_NAME; })();`,
		filepath.Join(root, "config/config.inc.php"))
	if out != "Fixture" {
		t.Errorf("config.inc.php set $UNI_NAME to %q, want the .dist's %q", out, "Fixture")
	}
}

// TestConfigTemplate evaluates config_local.inc.php as Stud.IP loads it, with sample
// environments and request headers, and checks the values it sets; a PHP warning fails.
func TestConfigTemplate(t *testing.T) {
	secret := filepath.Join(tempDir(t, 0o755), "secret")
	testutil.WriteFile(t, secret, "from a file\n")
	database := []string{"MYSQL_HOST=db", "MYSQL_USER=studip", "MYSQL_PASSWORD=pw", "MYSQL_DATABASE=studip"}
	internal := map[string]any{"ABSOLUTE_URI_STUDIP": "http://internal:8080/", "CANONICAL_RELATIVE_PATH_STUDIP": "/", "DYNAMIC_CONTENT_URL": "http://internal:8080/pictures", "HTTPS": nil}
	cases := []struct {
		name   string
		env    []string
		server map[string]string
		want   map[string]any
	}{
		{"database", database, nil, map[string]any{
			"DB_STUDIP_HOST": "db", "DB_STUDIP_USER": "studip", "DB_STUDIP_PASSWORD": "pw", "DB_STUDIP_DATABASE": "studip",
			"ENV": "production", "CACHING_ENABLE": true,
		}},
		{"port", append(database, "MYSQL_PORT=3307"), nil, map[string]any{"DB_STUDIP_HOST": "db;port=3307"}},
		{"default port", append(database, "MYSQL_PORT=3306"), nil, map[string]any{"DB_STUDIP_HOST": "db"}},
		{"password file", []string{"MYSQL_HOST=db", "MYSQL_PASSWORD_FILE=" + secret}, nil, map[string]any{"DB_STUDIP_PASSWORD": "from a file"}},
		{"ENV", append(database, "ENV=development", "STUDIP_ENV=production"), nil, map[string]any{"ENV": "development"}},
		{"Stud.IP's own STUDIP_ENV", append(database, "STUDIP_ENV=development"), nil, map[string]any{"ENV": "development"}},
		{"STUDIP_CACHING_ENABLE=false", append(database, "STUDIP_CACHING_ENABLE=false"), nil, map[string]any{"CACHING_ENABLE": false}},
		{"STUDIP_CONFIG_ reaches $_ENV", append(database, "STUDIP_CONFIG_UNI_NAME_CLEAN=Universität"), nil, map[string]any{"env_STUDIP_CONFIG_UNI_NAME_CLEAN": "Universität"}},
		{"no proxy", database, nil, internal},
		{"PROXY_URL", append(database, "PROXY_URL=https://studip.example.org/lms"), nil, map[string]any{
			"ABSOLUTE_URI_STUDIP": "https://studip.example.org/lms/", "CANONICAL_RELATIVE_PATH_STUDIP": "/lms/",
			"ASSETS_URL": "https://studip.example.org/lms/assets/", "DYNAMIC_CONTENT_URL": "https://studip.example.org/lms/pictures", "HTTPS": "on",
		}},
		{"AUTO_PROXY with forwarded headers", append(database, "AUTO_PROXY=1"),
			map[string]string{"HTTP_X_FORWARDED_HOST": "studip.example.org, proxy.internal", "HTTP_X_FORWARDED_PROTO": "https"},
			map[string]any{"ABSOLUTE_URI_STUDIP": "https://studip.example.org/", "ASSETS_URL": "https://studip.example.org/assets/", "HTTPS": "on"}},
		{"AUTO_PROXY, plain http", append(database, "AUTO_PROXY=true"),
			map[string]string{"HTTP_X_FORWARDED_HOST": "studip.example.org:8443"},
			map[string]any{"ABSOLUTE_URI_STUDIP": "http://studip.example.org:8443/", "HTTPS": nil}},
		{"AUTO_PROXY without forwarded headers", append(database, "AUTO_PROXY=1"), nil, internal},
		{"forwarded headers without AUTO_PROXY", database, map[string]string{"HTTP_X_FORWARDED_HOST": "evil.example"}, internal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			server, err := json.Marshal(c.server)
			if err != nil {
				t.Fatal(err)
			}
			out := runPHP(t, true, append(c.env, "FIXTURE_SERVER="+string(server)), "testdata/eval-config.php", "common/config_local.inc.php")
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("reading the result %q: %v", out, err)
			}
			for key, want := range c.want {
				if !reflect.DeepEqual(got[key], want) {
					t.Errorf("%s = %#v, want %#v", key, got[key], want)
				}
			}
			// Stud.IP makes every variable the file leaves behind a global.
			for _, name := range got["left_behind"].([]any) {
				if !slices.Contains([]string{"DB_STUDIP_HOST", "DB_STUDIP_USER", "DB_STUDIP_PASSWORD", "DB_STUDIP_DATABASE", "ASSETS_URL"}, name.(string)) {
					t.Errorf("the template leaves $%s behind", name)
				}
			}
		})
	}
}

// TestImageIniPassesEnvironment: Stud.IP 6 reads its settings from $_ENV, which
// php.ini-production leaves empty; the images' ini fills it.
func TestImageIniPassesEnvironment(t *testing.T) {
	cases := []struct {
		name         string
		withImageIni bool
		want         any
	}{
		{"the images' ini", true, "Universität"},
		{"php.ini-production alone", false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := runPHP(t, c.withImageIni, []string{"MYSQL_HOST=db", "MYSQL_PASSWORD=pw", "STUDIP_CONFIG_UNI_NAME_CLEAN=Universität"},
				"testdata/eval-config.php", "common/config_local.inc.php")
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("reading the result %q: %v", out, err)
			}
			if got["env_STUDIP_CONFIG_UNI_NAME_CLEAN"] != c.want {
				t.Errorf("$_ENV['STUDIP_CONFIG_UNI_NAME_CLEAN'] = %#v, want %#v", got["env_STUDIP_CONFIG_UNI_NAME_CLEAN"], c.want)
			}
		})
	}
}

// TestFPMPool: the fpm image listens on 9000, answers the FastCGI health check, and keeps the
// environment in its workers (php-fpm clears it by default).
func TestFPMPool(t *testing.T) {
	f, err := os.Open("fpm-alpine/zz-studip.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if key, value, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(key, ";") {
			got[strings.TrimSpace(key)] = strings.TrimSpace(value)
		}
	}
	want := map[string]string{"listen": "9000", "clear_env": "no", "ping.path": "/ping", "ping.response": "pong"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pool settings %v, want %v", got, want)
	}
}

// TestShellcheck runs shellcheck on every shell script under dockerfiles/, fixtures included.
func TestShellcheck(t *testing.T) {
	shellcheck := testutil.LookTool(t, "shellcheck")
	var scripts []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&os.ModeSymlink != 0 {
			return err
		}
		head := make([]byte, 32)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		n, _ := f.Read(head)
		if strings.HasPrefix(string(head[:n]), "#!/bin/sh") || strings.HasSuffix(path, ".sh") {
			scripts = append(scripts, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"common/docker-entrypoint.sh", "common/studip-cron", "common/studip-functions.sh", "common/studip-lock.sh", "testdata/fake-server"} {
		if !slices.Contains(scripts, want) {
			t.Errorf("%s was not found to check; found %v", want, scripts)
		}
	}
	out, err := exec.Command(shellcheck, append([]string{"--shell=sh", "--external-sources"}, scripts...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck %v: %v\n%s", scripts, err, out)
	}
}
