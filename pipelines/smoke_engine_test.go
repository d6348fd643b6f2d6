package pipelines_test

import (
	"path"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/pipelines"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// The smoke test as the engine sees it: which checks run in which container, against which
// database. (smoke_test.go runs the scripts themselves.)

// bothBases is oneVersion on every base, with a test image.
var bothBases = strings.Replace(oneVersion, "bases: [apache]", "bases: [apache, fpm-alpine]", 1) + `
tests:
  - {php: "8.1", node: "22"}
`

// smokeChecks runs the smoke test of the targets that filter selects and returns the checks
// (execs) run in containers of each image, by the folder of the Dockerfile it was built
// from, in order, with the images.
func smokeChecks(t *testing.T, filter plan.Filter) (checks map[string][]*daggertest.Node, images map[string]*daggertest.Node) {
	t.Helper()
	engine := runPlan(t, bothBases, filter, pipelines.Options{}, pipelines.Steps{Test: true})
	images = map[string]*daggertest.Node{}
	checks = map[string][]*daggertest.Node{}
	for _, ev := range engine.Evaluated("sync") {
		n := ev.Node
		if n.Field != "withExec" {
			build := n.Steps("dockerBuild")
			if len(build) != 1 {
				t.Fatalf("an image of no runtime build: %v", n)
			}
			images[path.Dir(build[0].Str("dockerfile"))] = n
			continue
		}
		dockerfile := ""
		for d, img := range images {
			if slices.Contains(n.Chain(), img) {
				dockerfile = d
			}
		}
		if dockerfile == "" {
			t.Fatalf("a check in no image built before it: %v", n)
		}
		if n.Platform() != "linux/amd64" {
			t.Errorf("a check on %s, want the engine's platform: %v", n.Platform(), n)
		}
		checks[dockerfile] = append(checks[dockerfile], n)
	}
	return checks, images
}

// command is a check's command line, with the lists of extensions and locales left out.
func command(args []string) string {
	switch {
	case len(args) > 1 && args[1] == "/smoke/php-extensions.sh":
		return args[0] + " " + args[1]
	case len(args) > 1 && args[1] == "/smoke/locales.php":
		return strings.Join(slices.DeleteFunc(slices.Clone(args), func(a string) bool { return strings.HasSuffix(a, ".UTF-8") }), " ")
	}
	return strings.Join(args, " ")
}

func TestSmokeTest(t *testing.T) {
	checks, images := smokeChecks(t, plan.Filter{Versions: []string{"6.0"}})
	want := map[string][]string{
		"apache": {
			"sh /smoke/php-extensions.sh",
			// gettext with the image's own tree's catalogs (locale/en for en_GB).
			"php /smoke/locales.php --catalogs=/var/www/studip/locale",
			"sh /smoke/platform-reqs.sh /var/www/studip",
			"sh /smoke/serve.sh -p / 600 60 docker-entrypoint.sh apache2-foreground",
		},
		"fpm-alpine": {
			"php-fpm -t",
			"sh /smoke/php-extensions.sh",
			"php /smoke/locales.php --catalogs=/var/www/studip/locale",
			"sh /smoke/platform-reqs.sh /var/www/studip",
			"sh /smoke/serve.sh -p / 600 60 docker-entrypoint.sh php-fpm",
		},
	}
	for base, wantChecks := range want {
		t.Run(base, func(t *testing.T) {
			var got []string
			for _, exec := range checks[base] {
				args := exec.Strings("args")
				got = append(got, command(args))
				checkScriptsMounted(t, exec, args)
				switch args[1] {
				case "/smoke/php-extensions.sh":
					if !slices.Contains(args, "ldap") || !slices.Contains(args, "pdo_mysql") || !slices.Contains(args, "Zend OPcache") {
						t.Errorf("the extensions check leaves out ldap, pdo_mysql or Zend OPcache: %q", args)
					}
				case "/smoke/locales.php":
					checkLocales(t, args[3:])
					checkTreeAt(t, images[base], exec, "/var/www/studip")
				case "/smoke/platform-reqs.sh":
					checkComposerFromItsImage(t, exec)
				case "/smoke/serve.sh":
					checkServedBeside(t, images[base], exec)
				}
			}
			if !slices.Equal(got, wantChecks) {
				t.Errorf("checks:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(wantChecks, "\n  "))
			}
		})
	}
}

// TestSmokeTestImage: a test image is checked for the extensions with the coverage driver,
// every tool Stud.IP's CI jobs call (make and zip among them) and php -S, and the locales;
// it serves nothing and holds no composer.lock.
func TestSmokeTestImage(t *testing.T) {
	checks, _ := smokeChecks(t, plan.Filter{Versions: []string{"tests"}})
	if len(checks) != 1 || checks["tests"] == nil {
		t.Fatalf("want the checks of one test image, built from tests/Dockerfile, got %v", checks)
	}
	for _, execs := range checks {
		var got []string
		for _, exec := range execs {
			args := exec.Strings("args")
			got = append(got, args[0]+" "+args[1])
			checkScriptsMounted(t, exec, args)
			switch args[1] {
			case "/smoke/php-extensions.sh":
				if !slices.Contains(args, "pcov") || !slices.Contains(args, "gettext") {
					t.Errorf("the extensions check leaves out the coverage driver or gettext: %q", args)
				}
			case "/smoke/test-image.sh":
				for _, tool := range []string{"make --version", "zip -v", "composer --version", "node --version", "npm --version", "mysql --version", "git --version", "curl --version", "unzip -v", "tar --version"} {
					if !slices.Contains(args[3:], tool) {
						t.Errorf("the tools check does not run %q: %q", tool, args)
					}
				}
			case "/smoke/locales.php":
				checkLocales(t, args[2:]) // no tree, so no catalogs: setlocale alone
			}
		}
		want := []string{"sh /smoke/php-extensions.sh", "sh /smoke/test-image.sh", "php /smoke/locales.php"}
		if !slices.Equal(got, want) {
			t.Errorf("checks %q, want %q", got, want)
		}
	}
}

// checkLocales: the locales check asks for the locales of Stud.IP's two languages.
func checkLocales(t *testing.T, got []string) {
	t.Helper()
	if !slices.Equal(got, []string{"de_DE.UTF-8", "en_GB.UTF-8"}) {
		t.Errorf("the locales check asks for %q, want de_DE.UTF-8 and en_GB.UTF-8", got)
	}
}

// checkTreeAt: exec runs in a container of img, the image under test, whose build put
// Stud.IP's tree at root: so the check reads the image's own tree, not one of its own.
func checkTreeAt(t *testing.T, img, exec *daggertest.Node, root string) {
	t.Helper()
	if !slices.Contains(exec.Chain(), img) {
		t.Fatalf("the check does not run in the image under test: %v", exec)
	}
	for _, n := range exec.Chain() {
		if n.Field == "withDirectory" && n.Str("path") == root {
			return
		}
	}
	t.Errorf("the image under test has no tree at %s: %v", root, exec)
}

// checkScriptsMounted fails unless every /smoke/ script in args is a file of the directory
// mounted at /smoke in exec's container.
func checkScriptsMounted(t *testing.T, exec *daggertest.Node, args []string) {
	t.Helper()
	var files []string
	for _, d := range exec.Steps("withDirectory") {
		if d.Str("path") != "/smoke" {
			continue
		}
		for _, f := range d.Ref("source").Steps("withNewFile") {
			files = append(files, "/smoke/"+f.Str("path"))
		}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "/smoke/") && !slices.Contains(files, a) {
			t.Errorf("%s runs %s, which is not among the scripts mounted at /smoke: %q", args[0], a, files)
		}
	}
}

// checkComposerFromItsImage: the platform check's composer is the composer image's, pulled
// for the engine's platform, installed as an executable on PATH.
func checkComposerFromItsImage(t *testing.T, exec *daggertest.Node) {
	t.Helper()
	files := exec.Steps("withFile")
	if len(files) != 1 || files[0].Str("path") != "/usr/local/bin/composer" || files[0].Args["permissions"] != int64(0o755) {
		t.Fatalf("want composer added as /usr/local/bin/composer, mode 0755, got %v", files)
	}
	src := files[0].Ref("source")
	from := src.Steps("from")
	if src.Field != "file" || src.Str("path") != "/usr/bin/composer" || len(from) != 1 || !strings.HasPrefix(from[0].Str("address"), "composer:") {
		t.Errorf("composer does not come from the composer image's /usr/bin/composer: %v", src)
	}
	if src.Platform() != "linux/amd64" {
		t.Errorf("the composer image is pulled for %s, want the engine's platform", src.Platform())
	}
}

// checkServedBeside asserts that the serve check runs the server inside its own container
// of img (no Dagger service of the image, which the engine would start only once the
// image's HEALTHCHECK passed) with the demo data, bound to a MariaDB of its own without a
// strict sql_mode.
func checkServedBeside(t *testing.T, img, exec *daggertest.Node) {
	t.Helper()
	if !slices.Contains(exec.Chain(), img) {
		t.Errorf("the server check does not run in the image under test: %v", exec)
	}
	if exec.Bool("useEntrypoint") {
		t.Errorf("the check runs through the entrypoint; serve.sh starts it: %v", exec)
	}
	env := map[string]string{}
	for _, n := range exec.Steps("withEnvVariable") {
		env[n.Str("name")] = n.Str("value")
	}
	if env["DEMO_DATA"] != "1" || env["MYSQL_HOST"] != "db" || env["STUDIP_DB_WAIT"] != "600" {
		t.Errorf("the server's environment %v lacks the demo data, the database or its wait", env)
	}
	bindings := exec.Steps("withServiceBinding")
	if len(bindings) != 1 || bindings[0].Str("alias") != "db" {
		t.Fatalf("want one service, the database bound as db, got %v", bindings)
	}
	db := bindings[0].Ref("service")
	if from := db.Steps("from"); len(from) != 1 || !strings.HasPrefix(from[0].Str("address"), "mariadb:") {
		t.Errorf("the database is no mariadb image: %v", db)
	}
	// The mariadb image's entrypoint hands options to mariadbd.
	args := db.Strings("args")
	if db.Field != "asService" || !db.Bool("useEntrypoint") || !slices.Contains(args, "--sql-mode=NO_ENGINE_SUBSTITUTION") {
		t.Errorf("want MariaDB through its entrypoint with --sql-mode=NO_ENGINE_SUBSTITUTION (Stud.IP refuses a strict sql_mode), got %v", db)
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "--") || strings.Contains(strings.ToUpper(a), "STRICT_") {
			t.Errorf("MariaDB argument %q: want server options only, and no strict sql_mode", a)
		}
	}
}

// TestSmokeTestReportsFailure: when a check finds the image broken, the target fails, naming
// itself, the platform and the check, with the check's report, and nothing of it is pushed.
func TestSmokeTestReportsFailure(t *testing.T) {
	tests := []struct {
		name, script, report string
		want                 []string
	}{
		{
			name:   "a broken server",
			script: "/smoke/serve.sh",
			// serve.sh's report: the server's answer and the end of its log.
			report: "broken: the server answers, but not ready, for 60s; last check: studip-healthcheck: unhealthy: GET http://127.0.0.1:80/: answered 500 Internal Server Error\n" +
				"studip-healthcheck: unhealthy: GET http://127.0.0.1:80/: 500 Internal Server Error: no Stud.IP page (a page takes a 2xx answer that names Stud.IP)\n  (empty body)\n" +
				"the end of the server's log (docker-entrypoint.sh apache2-foreground):\n" +
				"  [php:error] PHP Fatal error:  Uncaught Error: Class \"Seminar\" not found in /var/www/studip/lib/bootstrap.php:42\n",
			want: []string{
				"smoke-testing 6.0.3 apache on linux/amd64: the server: studip-healthcheck, / a Stud.IP page:",
				"GET http://127.0.0.1:80/: 500 Internal Server Error: no Stud.IP page",
				`PHP Fatal error:  Uncaught Error: Class "Seminar" not found`,
			},
		},
		{
			name:   "English that shows German",
			script: "/smoke/locales.php",
			report: "gettext returned the German source 'Veranstaltungen' for en_GB.UTF-8, not the catalog's 'Courses' " +
				"(/var/www/studip/locale/en/LC_MESSAGES/studip.mo): the system has no en_GB locale, or PHP's gettext does not follow it\n",
			want: []string{
				"smoke-testing 6.0.3 apache on linux/amd64: locales: setlocale, gettext with the tree's catalogs:",
				"gettext returned the German source 'Veranstaltungen' for en_GB.UTF-8",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, results := runTargets(t, oneVersion, plan.Filter{Versions: []string{"6.0"}}, pipelines.Options{},
				pipelines.Steps{Test: true, Publish: &pipelines.Publish{DryRun: true}},
				func(e *daggertest.Engine, f *versions.File) {
					e.GitFile(f.Source, "", "package.json", webpackPackageJSON)
					e.FailExec(func(n *daggertest.Node) bool {
						args := n.Strings("args")
						return n.Field == "withExec" && len(args) > 1 && args[1] == tt.script
					}, tt.report)
				})
			if len(results) != 1 || results[0].Err == nil {
				t.Fatalf("want the one target failed, got %+v", results)
			}
			msg := results[0].Err.Error()
			for _, want := range tt.want {
				if !strings.Contains(msg, want) {
					t.Errorf("the error does not say %q:\n%s", want, msg)
				}
			}
			if len(results[0].Pushed) != 0 {
				t.Errorf("a target that failed its smoke test pushed %v", results[0].Pushed)
			}
		})
	}
}
