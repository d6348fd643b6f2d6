package dockerfiles

import (
	"os/exec"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// TestApacheRequestBodyLimit: apache/studip-envvars.sh gives studip.conf's LimitRequestBody
// PHP_UPLOAD_LIMIT in bytes, and stops Apache's start, naming the variable, on a size PHP
// would misread.
func TestApacheRequestBodyLimit(t *testing.T) {
	cases := []struct {
		limit string // "": unset
		want  string // "": refused
	}{
		{"128M", "134217728"},
		{"2G", "2147483648"},
		{"8g", "8589934592"},
		{"512k", "524288"},
		{"1000", "1000"},
		{"0", "0"},
		{"", "0"},
		{"1.5G", ""},
		{"-1", ""},
		{"128MB", ""},
		{"010", ""},
		{"M", ""},
	}
	for _, c := range cases {
		t.Run(c.limit, func(t *testing.T) {
			t.Parallel()
			argv := append(apacheEnvvars(t), "sh", "-c", `printf %s "$APACHE_LIMIT_REQUEST_BODY"`)
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			if c.limit != "" {
				cmd.Env = append(cmd.Env, "PHP_UPLOAD_LIMIT="+c.limit)
			}
			out, err := cmd.CombinedOutput()
			switch {
			case c.want == "" && (err == nil || !strings.Contains(string(out), "studip-envvars: error: reading PHP_UPLOAD_LIMIT: '"+c.limit+"' is not a size")):
				t.Errorf("PHP_UPLOAD_LIMIT=%s: %v, %q; want the start stopped, naming the variable", c.limit, err, out)
			case c.want != "" && (err != nil || string(out) != c.want):
				t.Errorf("PHP_UPLOAD_LIMIT=%s: %v, %q; want LimitRequestBody %s", c.limit, err, out, c.want)
			}
		})
	}
}

// TestApacheUploadLimit uploads through Apache and mod_php with the image's site and PHP
// settings (testutil.CheckUploadLimits): Apache refuses what is above PHP_UPLOAD_LIMIT before
// PHP reads it.
func TestApacheUploadLimit(t *testing.T) {
	testutil.CheckUploadLimits(t, func(t *testing.T, limit string) string {
		root := webTree(t)
		dir := t.TempDir()
		ini, scan := phpIni(t, true)
		address := closedAddress(t)
		env := apacheEnv(t, dir, scan, address)
		if limit != "" {
			env = append(env, "PHP_UPLOAD_LIMIT="+limit)
		}
		startApache(t, nil, env, apacheConfig(t, dir, root, ini)).WaitListening(t, address)
		return "http://" + address + "/upload.php"
	})
}
