package pipelines

import (
	"context"
	"embed"
	"fmt"
	"slices"
	"strconv"

	"dagger.io/dagger"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// The smoke-test scripts run inside the image under test, with its own sh, php and
// studip-healthcheck, so that no other image is needed as a client.
//
//go:embed smoke
var smokeFS embed.FS

// extensions are the PHP extensions every image must load, as `php -m` names them: Stud.IP's
// config/studip-requirements.php (ldap included, for its LDAP user management),
// composer.json's ext-* entries, and what the images add for speed (OPcache).
var extensions = []string{
	"curl", "dom", "ftp", "gd", "gettext", "iconv", "intl", "json", "ldap", "mbstring", "mysqli",
	"mysqlnd", "pcre", "PDO", "pdo_mysql", "session", "xml", "xsl", "Zend OPcache", "zip",
}

// coverageDriver is what a test image adds to the extensions.
const coverageDriver = "pcov"

// The throwaway database of a smoke test.
const (
	smokeDatabase = "studip"
	smokeUser     = "studip"
	smokePassword = "smoke-test" // not a secret: the database lives only for the test
	smokeDBHost   = "db"
	smokeAppHost  = "studip"
	// A first start installs the database and the demo data before the web server or
	// php-fpm starts, which takes minutes on a slow runner.
	smokeWaitSeconds = 600
)

// smokeDBArgs are the MariaDB server options of the smoke test, as the examples run it: the
// mariadb image's entrypoint passes options to mariadbd. Stud.IP refuses a strict sql_mode
// (config/studip-requirements.php); MariaDB enables STRICT_TRANS_TABLES by default.
var smokeDBArgs = []string{
	"--character-set-server=utf8mb4",
	"--collation-server=utf8mb4_unicode_ci",
	"--sql-mode=NO_ENGINE_SUBSTITUTION",
}

// check is one smoke test: an exec that fails unless the image does what it should.
type check struct {
	name string
	exec *dagger.Container
}

// smokeTest runs t's checks on the engine's platform, in order, and stops at the first failure.
func (p *Pipeline) smokeTest(ctx context.Context, t plan.Target) error {
	img, err := p.image(ctx, t, p.platform)
	if err != nil {
		return err
	}
	for _, c := range p.checks(t, img) {
		if _, err := c.exec.Sync(ctx); err != nil {
			return fmt.Errorf("smoke-testing %s on %s: %s: %w", t, p.platform, c.name, explain(err))
		}
	}
	return nil
}

// checks are t's smoke tests of img, by kind of image and base (docs/image-contract.md).
func (p *Pipeline) checks(t plan.Target, img *dagger.Container) []check {
	probe := img.WithDirectory("/smoke", p.smokeScripts())
	wait := strconv.Itoa(smokeWaitSeconds)
	if t.Source == nil { // a test image: what Stud.IP's CI jobs need, in one exec
		return []check{{"tools", probe.WithExec(slices.Concat([]string{"sh", "/smoke/test-image.sh"}, extensions, []string{coverageDriver}))}}
	}
	phpModules := check{"php -m", probe.WithExec(slices.Concat([]string{"sh", "/smoke/php-extensions.sh"}, extensions))}
	// The image's own studip-healthcheck against the service (the image with its entrypoint
	// and default command), from a container of the image, until it passes; then, given a
	// page URL, that the page is Stud.IP's. One exec, so that the service starts once.
	healthy := func(port int, pageURL ...string) *dagger.Container {
		return probe.
			WithServiceBinding(smokeAppHost, p.serve(t, img, port)).
			WithExec(slices.Concat([]string{"sh", "/smoke/wait-healthy.sh", wait, smokeAppHost}, pageURL))
	}
	switch t.Base {
	case versions.Apache:
		return []check{
			phpModules,
			// studip-healthcheck: GET / answers 2xx or 3xx; then / leads to a Stud.IP page.
			{"studip-healthcheck, GET / a Stud.IP page", healthy(httpPort, "http://"+smokeAppHost+"/")},
		}
	case versions.FPMAlpine:
		return []check{
			{"php-fpm -t", img.WithExec([]string{"php-fpm", "-t"})},
			phpModules,
			// studip-healthcheck: FastCGI /ping answers pong.
			{"studip-healthcheck", healthy(fpmPort)},
		}
	}
	panic(fmt.Sprintf("no smoke test for base %q", t.Base)) // versions.Bases is an allow-list
}

// Where the bases serve (docs/image-contract.md): Apache HTTP, php-fpm FastCGI.
const (
	httpPort = 80
	fpmPort  = 9000
)

// smokeScripts is the smoke folder as a directory to add to an image.
func (p *Pipeline) smokeScripts() *dagger.Directory {
	dir := p.dag.Directory()
	entries, _ := smokeFS.ReadDir("smoke") // embedded: cannot fail
	for _, e := range entries {
		body, _ := smokeFS.ReadFile("smoke/" + e.Name())
		dir = dir.WithNewFile(e.Name(), string(body))
	}
	return dir
}

// serve runs img as a service on port with its entrypoint and default command, next to a
// fresh MariaDB (with smokeDBArgs), installing the demo data.
func (p *Pipeline) serve(t plan.Target, img *dagger.Container, port int) *dagger.Service {
	db := p.native(p.plan.Images.MariaDB()).
		WithEnvVariable("MARIADB_DATABASE", smokeDatabase).
		WithEnvVariable("MARIADB_USER", smokeUser).
		WithEnvVariable("MARIADB_PASSWORD", smokePassword).
		WithEnvVariable("MARIADB_RANDOM_ROOT_PASSWORD", "1").
		// Dagger runs equal services once per session: naming the target gives every smoke
		// test a database of its own.
		WithEnvVariable("SMOKE_TEST_OF", t.String()).
		WithExposedPort(3306).
		AsService(dagger.ContainerAsServiceOpts{Args: smokeDBArgs, UseEntrypoint: true})
	return img.
		WithServiceBinding(smokeDBHost, db).
		WithEnvVariable("MYSQL_HOST", smokeDBHost).
		WithEnvVariable("MYSQL_DATABASE", smokeDatabase).
		WithEnvVariable("MYSQL_USER", smokeUser).
		WithEnvVariable("MYSQL_PASSWORD", smokePassword).
		WithEnvVariable("DEMO_DATA", "1").
		WithEnvVariable("STUDIP_DB_WAIT", strconv.Itoa(smokeWaitSeconds)).
		WithExposedPort(port).
		AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true})
}
