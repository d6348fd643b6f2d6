package examples

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// What the images provide (docs/image-contract.md).
const (
	dataDir    = "/var/www/studip/data"
	publicDir  = "/var/www/studip/public"
	cronRunner = "studip-cron"
	apacheTag  = "studip/studip:6.0"
	fpmTag     = "studip/studip:6.0-fpm-alpine"
	// The port the apache image serves HTTP on by default, as root.
	httpPort = 80
	// The port the examples have Apache serve on (STUDIP_HTTP_PORT): not root, no
	// capabilities, so no port below 1024.
	unprivilegedHTTPPort = 8080
	// The uid of www-data in the Debian-based apache image and in the Alpine-based fpm image:
	// the examples run as it, with group 0 (docs/image-contract.md).
	apacheWWWData = 33
	fpmWWWData    = 82
	// MariaDB's port: no example may publish it.
	dbPort = 3306
)

// The official mariadb image's own health check.
var mariadbHealthcheck = []string{"healthcheck.sh", "--connect", "--innodb_initialized"}

// The Stud.IP images' health check (docs/image-contract.md): readiness by default, --live for
// "the server answers at all"; in the cron container both check studip-cron's heartbeat.
var (
	studipHealthcheck     = []string{"studip-healthcheck"}
	studipLiveHealthcheck = []string{"studip-healthcheck", "--live"}
)

// firstStart is how long a health check must allow a first start, which installs the
// database (the images' HEALTHCHECK --start-period).
const firstStart = 10 * time.Minute

// sqlMode is the sql_mode every MariaDB of the examples runs with: Stud.IP's
// config/studip-requirements.php refuses STRICT_TRANS_TABLES and STRICT_ALL_TABLES, and
// MariaDB enables STRICT_TRANS_TABLES by default.
const sqlMode = "--sql-mode=NO_ENGINE_SUBSTITUTION"

// checkMariaDBImage fails unless image is the official mariadb image at a pinned version.
func checkMariaDBImage(t *testing.T, image string) {
	t.Helper()
	name, tag, _ := strings.Cut(image, ":")
	if name != "mariadb" || tag == "" || tag == "latest" {
		t.Errorf("database image %q: want mariadb at a pinned version, e.g. mariadb:11.4", image)
	}
}

// checkUTF8MB4 fails unless the server arguments make utf8mb4 the default character set.
func checkUTF8MB4(t *testing.T, args []string) {
	t.Helper()
	for _, arg := range args {
		if arg == "--character-set-server=utf8mb4" {
			return
		}
	}
	t.Errorf("database arguments %q: want --character-set-server=utf8mb4", args)
}

// checkSQLMode fails unless the server arguments set a sql_mode without strict modes.
func checkSQLMode(t *testing.T, args []string) {
	t.Helper()
	if !slices.Contains(args, sqlMode) {
		t.Errorf("database arguments %q: want %s (Stud.IP refuses MariaDB's default STRICT_TRANS_TABLES)", args, sqlMode)
	}
	for _, arg := range args {
		if strings.Contains(strings.ToUpper(arg), "STRICT_") {
			t.Errorf("database argument %q: Stud.IP refuses STRICT_TRANS_TABLES and STRICT_ALL_TABLES", arg)
		}
	}
}

func TestYAMLLint(t *testing.T) {
	out, err := exec.Command(testutil.LookTool(t, "yamllint"), "--strict", "-c", ".yamllint.yaml", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("linting the examples' YAML: %v\n%s", err, out)
	}
}
