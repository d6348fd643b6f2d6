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

// locales are the system locales of the languages Stud.IP ships a catalog for, as it asks
// for them (lib/language.inc.php: setlocale(LC_ALL, '<lang>.UTF-8')): without them its
// English UI shows German. dockerfiles/common/build-locales.sh provides them; the smoke
// test's pipelines/smoke/locales.php checks them, with gettext and the tree's catalogs
// (locale/en/LC_MESSAGES/studip.mo for en_GB) where the image holds a tree.
var locales = []string{"de_DE.UTF-8", "en_GB.UTF-8"}

// ciTool is a command that Stud.IP's own CI jobs run in a test image (its .gitlab-ci.yml,
// Makefile and .gitlab/scripts), as the smoke test calls it, and where
// dockerfiles/tests/Dockerfile gets it: a Debian package it installs, or a path it copies
// from another stage.
type ciTool struct{ command, from string }

// ciTools is the one list of the tools a test image must have.
var ciTools = []ciTool{
	{"composer --version", "/usr/local/bin/composer"}, // make composer-dev, composer install
	{"curl --version", "curl"},                        // downloads in jobs and scripts
	{"git --version", "git"},                          // changed-file detection
	{"make --version", "make"},                        // make composer-dev, make build clean-npm
	{"mysql --version", "mariadb-client"},             // .gitlab/scripts/install_db.sh
	{"node --version", "/usr/local/bin/node"},         // npm ci, npm run build
	{"npm --version", "/usr/local/lib/node_modules"},  // npm ci, npx eslint, npx jest
	{"tar --version", "tar"},                          // the release's .tar.gz
	{"unzip -v", "unzip"},                             // composer's downloads
	{"zip -v", "zip"},                                 // the release's .zip
}

// The throwaway database of a smoke test.
const (
	smokeDatabase = "studip"
	smokeUser     = "studip"
	smokePassword = "smoke-test" // not a secret: the database lives only for the test
	smokeDBHost   = "db"
)

// How long the smoke test waits for the server (pipelines/smoke/serve.sh). The entrypoint
// installs the database and the demo data before it starts the web server or php-fpm, so
// no answer at all means "still installing": that may take minutes on a slow runner, and
// gets as long as the images' HEALTHCHECK start period (10 minutes), the time an
// orchestrator grants a first start too. Once the server answers, the install is over and
// only its warm-up is left (opcache compiling the first page): an image whose server still
// answers "not ready" (a 5xx, or no Stud.IP page for /: php-fpm answers /ping anyway)
// a minute later is broken, and fails then with the answer and the end of its
// log, instead of after the whole start period.
const (
	smokeInstallSeconds = 600
	smokeBrokenSeconds  = 60
)

// serverCommands are the images' ENTRYPOINT and CMD by base (docs/image-contract.md), which
// the smoke test runs itself.
var serverCommands = map[versions.Base][]string{
	versions.Apache:    {"docker-entrypoint.sh", "apache2-foreground"},
	versions.FPMAlpine: {"docker-entrypoint.sh", "php-fpm"},
}

// A port for `php -S` in a test image's throwaway container, where nothing else listens.
const smokePHPServerPort = 8000

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

// checks are t's smoke tests of img, by kind of image and base (docs/image-contract.md),
// each in a throwaway container of img with the smoke scripts in /smoke.
func (p *Pipeline) checks(t plan.Target, img *dagger.Container) []check {
	probe := img.WithDirectory("/smoke", p.smokeScripts())
	if t.Source == nil { // a test image: what Stud.IP's CI jobs need
		tools := []string{"sh", "/smoke/test-image.sh", strconv.Itoa(smokePHPServerPort)}
		for _, tool := range ciTools {
			tools = append(tools, tool.command)
		}
		return []check{
			{"php -m", probe.WithExec(slices.Concat([]string{"sh", "/smoke/php-extensions.sh"}, extensions, []string{coverageDriver}))},
			{"the tools of Stud.IP's CI, php -S", probe.WithExec(tools)},
			// It holds no tree, so no catalog: setlocale alone.
			{"locales", probe.WithExec(slices.Concat([]string{"php", "/smoke/locales.php"}, locales))},
		}
	}
	var checks []check
	if t.Base == versions.FPMAlpine {
		checks = append(checks, check{"php-fpm -t", img.WithExec([]string{"php-fpm", "-t"})})
	}
	checks = append(checks,
		check{"php -m", probe.WithExec(slices.Concat([]string{"sh", "/smoke/php-extensions.sh"}, extensions))},
		check{"locales: setlocale, gettext with the tree's catalogs", probe.WithExec(slices.Concat(
			[]string{"php", "/smoke/locales.php", "--catalogs=" + studipRoot + "/locale"}, locales))},
		check{"composer check-platform-reqs", p.platformReqs(t, probe)},
	)
	server, ok := serverCommands[t.Base]
	if !ok {
		panic(fmt.Sprintf("no smoke test for base %q", t.Base)) // versions.Bases is an allow-list
	}
	// studip-healthcheck: apache's GET / answers 2xx or 3xx, fpm-alpine's php-fpm answers
	// /ping (which it does whether Stud.IP works or not); then / leads to a Stud.IP page
	// (--page: from Apache over HTTP, from php-fpm over FastCGI).
	return append(checks, check{"the server: studip-healthcheck, / a Stud.IP page", p.serve(t, probe, "/", server)})
}

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

// platformReqs checks, with composer from t's composer image (a phar: any platform's will
// do), that the PHP of the probe has every extension the tree's composer.lock asks for: the
// composer stage could not check them (it runs with --ignore-platform-req=ext-*).
func (p *Pipeline) platformReqs(t plan.Target, probe *dagger.Container) *dagger.Container {
	composer := p.native(t.Source.ComposerImage).File("/usr/bin/composer")
	return probe.
		WithFile("/usr/local/bin/composer", composer, dagger.ContainerWithFileOpts{Permissions: 0o755}).
		WithExec([]string{"sh", "/smoke/platform-reqs.sh", studipRoot})
}

// serve runs server (the image's entrypoint and default command, docs/image-contract.md)
// in probe, next to a fresh MariaDB (with smokeDBArgs) and with the demo data, and checks it
// with serve.sh: the image's studip-healthcheck, then that its answer for page (a path, -p)
// is a Stud.IP page. The server runs inside the check's own container rather than as a Dagger
// service, which the engine would start only once the image's HEALTHCHECK passed (after
// up to its 10-minute start period): so a server that stops or answers only errors fails
// the check within smokeBrokenSeconds, with its answer and log.
func (p *Pipeline) serve(t plan.Target, probe *dagger.Container, page string, server []string) *dagger.Container {
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
	args := []string{"sh", "/smoke/serve.sh", "-p", page, strconv.Itoa(smokeInstallSeconds), strconv.Itoa(smokeBrokenSeconds)}
	return probe.
		WithServiceBinding(smokeDBHost, db).
		WithEnvVariable("MYSQL_HOST", smokeDBHost).
		WithEnvVariable("MYSQL_DATABASE", smokeDatabase).
		WithEnvVariable("MYSQL_USER", smokeUser).
		WithEnvVariable("MYSQL_PASSWORD", smokePassword).
		WithEnvVariable("DEMO_DATA", "1").
		WithEnvVariable("STUDIP_DB_WAIT", strconv.Itoa(smokeInstallSeconds)).
		WithExec(slices.Concat(args, server))
}
