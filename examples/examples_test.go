package examples

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// What the images provide (docs/image-contract.md).
const (
	dataDir    = "/var/www/studip/data"
	publicDir  = "/var/www/studip/public"
	cronRunner = "studip-cron"
	apacheTag  = "studip/studip:6.0"
	fpmTag     = "studip/studip:6.0-fpm-alpine"
	// The port the apache image serves HTTP on.
	httpPort = 80
	// The uid and gid of www-data in the Debian-based apache image.
	apacheWWWData = 33
	// MariaDB's port: no example may publish it.
	dbPort = 3306
)

// The official mariadb image's own health check.
var mariadbHealthcheck = []string{"healthcheck.sh", "--connect", "--innodb_initialized"}

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

func TestYAMLLint(t *testing.T) {
	if _, err := exec.LookPath("yamllint"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("finding yamllint: %v (CI installs it: apt-get install yamllint)", err)
		}
		t.Skip("yamllint is not installed: apt-get install yamllint")
	}
	out, err := exec.Command("yamllint", "--strict", "-c", ".yamllint.yaml", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("linting the examples' YAML: %v\n%s", err, out)
	}
}
