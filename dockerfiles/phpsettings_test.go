package dockerfiles

import (
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// The runtime Dockerfiles, which both install common/php/studip.ini.
var runtimeDockerfiles = []string{"apache/Dockerfile", "fpm-alpine/Dockerfile"}

// iniDockerfiles are the Dockerfiles that install common/php/studip.ini: the runtime ones and
// any other (a test image), each of which must set what the ini reads.
func iniDockerfiles(t *testing.T) []string {
	t.Helper()
	all, err := filepath.Glob("*/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, dockerfile := range all {
		if strings.Contains(mustRead(t, dockerfile), "common/php/studip.ini") {
			out = append(out, dockerfile)
		}
	}
	for _, want := range runtimeDockerfiles {
		if !slices.Contains(out, want) {
			t.Fatalf("%s does not install common/php/studip.ini", want)
		}
	}
	return out
}

// iniVariable is a ${VAR} of a php.ini value.
var iniVariable = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// phpSettingsEnv is the environment studip.ini reads, as the images set it by default: the
// ENV lines of the Dockerfiles that install it (iniDockerfiles) for every ${VAR} of the ini.
// It fails unless each of them sets each one, all to the same value, since an unset ${VAR}
// is empty to PHP before 8.3 (memory_limit = "" fails).
func phpSettingsEnv(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, line := range strings.Split(mustRead(t, "common/php/studip.ini"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), ";") {
			continue // a comment
		}
		for _, m := range iniVariable.FindAllStringSubmatch(line, -1) {
			if !slices.Contains(names, m[1]) {
				names = append(names, m[1])
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("common/php/studip.ini reads no ${VAR}")
	}
	want := map[string]string{}
	for _, dockerfile := range iniDockerfiles(t) {
		env := testutil.DockerfileEnv(t, dockerfile)
		for _, name := range names {
			value, ok := env[name]
			switch {
			case !ok || value == "":
				t.Errorf("%s: no ENV default for %s (plain, without quotes or $), which common/php/studip.ini reads", dockerfile, name)
			case want[name] == "":
				want[name] = value
			case want[name] != value:
				t.Errorf("%s: %s=%s, another Dockerfile %s: want one default", dockerfile, name, value, want[name])
			}
		}
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(want)) {
		out = append(out, name+"="+want[name])
	}
	return out
}

// TestPHPSettingsByEnvironment runs PHP with the images' ini and their default environment,
// then with each variable set as an administrator would, and reads the settings from php -i.
func TestPHPSettingsByEnvironment(t *testing.T) {
	defaults := phpSettingsEnv(t)
	cases := []struct {
		name string
		env  []string
		want map[string]string
	}{
		{"the images' defaults", nil, map[string]string{
			"memory_limit": "256M", "max_execution_time": "300", "upload_max_filesize": "128M", "post_max_size": "128M",
			"opcache.memory_consumption": "192", "opcache.validate_timestamps": "On", "opcache.revalidate_freq": "2",
			"upload_tmp_dir": "/tmp", "session.save_path": "/tmp", "variables_order": "EGPCS",
		}},
		{"PHP_MEMORY_LIMIT", []string{"PHP_MEMORY_LIMIT=1G"}, map[string]string{"memory_limit": "1G"}},
		{"PHP_MEMORY_LIMIT=-1 lifts the limit", []string{"PHP_MEMORY_LIMIT=-1"}, map[string]string{"memory_limit": "-1"}},
		{"PHP_UPLOAD_LIMIT sets both limits", []string{"PHP_UPLOAD_LIMIT=2G"},
			map[string]string{"upload_max_filesize": "2G", "post_max_size": "2G"}},
		{"PHP_MAX_EXECUTION_TIME", []string{"PHP_MAX_EXECUTION_TIME=900"}, map[string]string{"max_execution_time": "900"}},
		{"PHP_OPCACHE_*", []string{"PHP_OPCACHE_MEMORY_CONSUMPTION=512", "PHP_OPCACHE_VALIDATE_TIMESTAMPS=0", "PHP_OPCACHE_REVALIDATE_FREQ=60"},
			map[string]string{"opcache.memory_consumption": "512", "opcache.validate_timestamps": "Off", "opcache.revalidate_freq": "60"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// The last of two equal variables wins, as in a container whose environment
			// overrides the image's ENV.
			env := append(slices.Clone(defaults), c.env...)
			for _, tool := range []string{"php", phpFPM} {
				got := phpSettings(t, tool, env)
				for key, want := range c.want {
					if key == "max_execution_time" && tool == "php" {
						continue // the CLI always runs with 0
					}
					if got[key] != want {
						t.Errorf("%s -i: %s => %q, want %q", tool, key, got[key], want)
					}
				}
			}
		})
	}
}

// phpSettings runs php -i (the tool: php for the CLI, php-fpm for the servers' SAPI) with the
// images' ini, opcache loaded as in the images (the test's scan directory has only our ini),
// and exactly the environment env, and returns each directive's local value; a PHP warning
// fails.
func phpSettings(t *testing.T, tool string, env []string) map[string]string {
	t.Helper()
	ini, scan := phpIni(t, true)
	cmd := exec.Command(testutil.LookTool(t, tool), "-c", ini, "-d", "zend_extension=opcache", "-i")
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "PHP_INI_SCAN_DIR=" + scan}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s -i: %v\n%s", tool, err, out)
	}
	if strings.Contains(string(out), "Warning") {
		t.Errorf("%s -i warns:\n%s", tool, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if parts := strings.Split(line, " => "); len(parts) == 3 {
			got[parts[0]] = parts[1]
		}
	}
	return got
}
