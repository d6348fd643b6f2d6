package pipelines_test

import (
	"path"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/internal/daggertest"
	"gitlab.studip.de/studip/docker/pipelines"
	"gitlab.studip.de/studip/docker/plan"
)

// The smoke test as the engine sees it: which checks run in which container, against which
// service and database. (smoke_test.go runs the scripts themselves.)

// bothBases is oneVersion on every base.
var bothBases = strings.Replace(oneVersion, "bases: [apache]", "bases: [apache, fpm-alpine]", 1)

func TestSmokeTest(t *testing.T) {
	engine := runPlan(t, bothBases, plan.Filter{Versions: []string{"6.0"}}, pipelines.Options{}, pipelines.Steps{Test: true})

	// The images built, by base, and the checks run in containers of each, in order.
	images := map[string]*daggertest.Node{}
	checks := map[string][]*daggertest.Node{}
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
		base := ""
		for b, img := range images {
			if slices.Contains(n.Chain(), img) {
				base = b
			}
		}
		if base == "" {
			t.Fatalf("a check in no image built before it: %v", n)
		}
		checks[base] = append(checks[base], n)
	}

	want := map[string][]string{
		"apache": {
			"sh /smoke/php-extensions.sh",
			"sh /smoke/wait-healthy.sh 600 studip http://studip/",
		},
		"fpm-alpine": {
			"php-fpm -t",
			"sh /smoke/php-extensions.sh",
			"sh /smoke/wait-healthy.sh 600 studip",
		},
	}
	servicePort := map[string]int{"apache": 80, "fpm-alpine": 9000}
	for base, wantChecks := range want {
		t.Run(base, func(t *testing.T) {
			var got []string
			for _, exec := range checks[base] {
				args := exec.Strings("args")
				cmd := strings.Join(args, " ")
				if args[0] == "sh" && args[1] == "/smoke/php-extensions.sh" {
					cmd = "sh /smoke/php-extensions.sh"
					if !slices.Contains(args, "ldap") || !slices.Contains(args, "pdo_mysql") || !slices.Contains(args, "Zend OPcache") {
						t.Errorf("the extensions check leaves out ldap, pdo_mysql or Zend OPcache: %q", args)
					}
				}
				got = append(got, cmd)
				checkScriptsMounted(t, exec, args)
				if args[1] == "/smoke/wait-healthy.sh" {
					checkHealthService(t, images[base], exec, args[3], servicePort[base])
				}
			}
			if !slices.Equal(got, wantChecks) {
				t.Errorf("checks:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(wantChecks, "\n  "))
			}
		})
	}
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

// checkHealthService asserts that the wait-healthy check of img runs, in a container of img,
// the image's studip-healthcheck against host, bound to img itself run as a service with its
// entrypoint and default command on port, beside a MariaDB without a strict sql_mode.
func checkHealthService(t *testing.T, img, exec *daggertest.Node, host string, port int) {
	t.Helper()
	if exec.Bool("useEntrypoint") {
		t.Errorf("the check runs through the entrypoint: %v", exec)
	}
	bindings := exec.Steps("withServiceBinding")
	if len(bindings) != 1 || bindings[0].Str("alias") != host {
		t.Fatalf("the check asks %q, want one service bound as that host, got %v", host, bindings)
	}
	svc := bindings[0].Ref("service")
	if svc.Field != "asService" || !svc.Bool("useEntrypoint") || len(svc.Strings("args")) != 0 {
		t.Errorf("want the image as a service with its entrypoint and default command, got %v", svc)
	}
	app := svc.Parent
	if !slices.Contains(app.Chain(), img) {
		t.Errorf("the service does not run the image under test: %v", app)
	}
	var ports []any
	for _, n := range app.Steps("withExposedPort") {
		ports = append(ports, n.Args["port"])
	}
	if !slices.Equal(ports, []any{int64(port)}) {
		t.Errorf("the service exposes ports %v, want %d", ports, port)
	}

	dbs := app.Steps("withServiceBinding")
	if len(dbs) != 1 || dbs[0].Str("alias") != "db" {
		t.Fatalf("want one database bound as db, got %v", dbs)
	}
	db := dbs[0].Ref("service")
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
