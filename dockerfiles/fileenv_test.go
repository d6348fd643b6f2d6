package dockerfiles

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// TestFileEnv: file_env (studip-functions.sh), the one rule for every variable that may come
// from a file: NAME_FILE names a file whose contents, without trailing newlines, become NAME,
// exported, and NAME_FILE goes; NAME alone stays; both, or a file that cannot be read, stop
// the script. The entrypoint applies it to the database's variables and to every
// STUDIP_CONFIG_<NAME>; config_local.inc.php applies the same rule for consoles started
// beside the entrypoint (docker exec), and must agree.
func TestFileEnv(t *testing.T) {
	secret := filepath.Join(tempDir(t, 0o755), "secret")
	testutil.WriteFile(t, secret, "from a file $(id) \"q\"\n\n")
	cases := []struct {
		name, variable string
		env            []string
		want           string // NAME after file_env; "unset" when it is not set
		wantError      string // the script stops with this message
		php            string // where eval-config.php shows what the configuration made of it
	}{
		{name: "from the file", variable: "MYSQL_PASSWORD", env: []string{"MYSQL_PASSWORD_FILE=" + secret}, want: `from a file $(id) "q"`, php: "DB_STUDIP_PASSWORD"},
		{name: "a setting of Stud.IP", variable: "STUDIP_CONFIG_UNI_NAME_CLEAN", env: []string{"STUDIP_CONFIG_UNI_NAME_CLEAN_FILE=" + secret},
			want: `from a file $(id) "q"`, php: "env_STUDIP_CONFIG_UNI_NAME_CLEAN"},
		{name: "the variable itself", variable: "MYSQL_USER", env: []string{"MYSQL_USER=studip"}, want: "studip", php: "DB_STUDIP_USER"},
		{name: "neither", variable: "MYSQL_HOST", want: "unset"},
		{name: "both", variable: "STUDIP_CONFIG_X", env: []string{"STUDIP_CONFIG_X=a", "STUDIP_CONFIG_X_FILE=" + secret},
			wantError: "studip-entrypoint: error: checking the environment: STUDIP_CONFIG_X and STUDIP_CONFIG_X_FILE are both set; set one"},
		{name: "unreadable", variable: "MYSQL_PASSWORD", env: []string{"MYSQL_PASSWORD_FILE=/nonexistent/secret"},
			wantError: "studip-entrypoint: error: reading MYSQL_PASSWORD_FILE: /nonexistent/secret is not a readable file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// What a child process sees: the exported value, and no NAME_FILE.
			r := startSourced(t, append(c.env, "NAME="+c.variable), nil,
				`read_secrets; sh -c 'eval "printf \"%s|%s\" \"\${$NAME-unset}\" \"\${${NAME}_FILE-unset}\""'`)
			if !r.checkEnd(c.wantError) {
				return
			}
			if got, want := r.output.String(), c.want+"|unset"; got != want {
				t.Errorf("the child sees %q, want %q", got, want)
			}
			if c.php == "" {
				return
			}
			// The configuration reads the same value from the container's own environment.
			out := runPHP(t, true, c.env, "testdata/eval-config.php", "common/config_local.inc.php")
			var vars map[string]any
			if err := json.Unmarshal([]byte(out), &vars); err != nil {
				t.Fatalf("reading the result %q: %v", out, err)
			}
			if vars[c.php] != c.want {
				t.Errorf("config_local.inc.php: %s = %#v, want %q", c.php, vars[c.php], c.want)
			}
		})
	}
}
