package examples

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// composeCase is one Compose example: where it is, which Stud.IP image web and cron run and
// which service answers HTTP on the published port.
type composeCase struct {
	name     string
	dir      string
	image    string
	wwwData  int // the image's www-data, as which web and cron run
	frontend func(*testing.T, *types.Project, composeCase)
}

func TestCompose(t *testing.T) {
	cases := []composeCase{
		{name: "apache", dir: "compose/apache", image: apacheTag, wwwData: apacheWWWData, frontend: checkApacheFrontend},
		{name: "fpm-alpine", dir: "compose/fpm-alpine", image: fpmTag, wwwData: fpmWWWData, frontend: checkNginxFrontend},
	}
	checks := []struct {
		name  string
		check func(*testing.T, *types.Project, composeCase)
	}{
		{"database", checkComposeDatabase},
		{"web and cron", checkComposeStudip},
		{"database login", checkComposeLogin},
		{"secret files", checkComposeSecretFiles},
		{"hardening", checkComposeHardening},
		{"frontend", func(t *testing.T, p *types.Project, c composeCase) { c.frontend(t, p, c) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			project := loadCompose(t, c.dir)
			for _, check := range checks {
				t.Run(check.name, func(t *testing.T) { check.check(t, project, c) })
			}
		})
	}
}

// loadCompose loads dir/compose.yaml as docker compose would, without the caller's
// environment, with paths resolved against dir.
func loadCompose(t *testing.T, dir string) *types.Project {
	t.Helper()
	options, err := cli.NewProjectOptions(
		[]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatalf("preparing to load %s: %v", dir, err)
	}
	project, err := options.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("loading %s/compose.yaml: %v", dir, err)
	}
	return project
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("finding service %q: not in the project (services: %v)", name, p.ServiceNames())
	}
	return s
}

// serviceEnv is the value of a service's environment variable, "" when it is unset.
func serviceEnv(s types.ServiceConfig, name string) string {
	if v := s.Environment[name]; v != nil {
		return *v
	}
	return ""
}

// serviceVolume is the mount of service s at target; it fails unless a declared named volume is
// mounted there.
func serviceVolume(t *testing.T, p *types.Project, s types.ServiceConfig, target string) types.ServiceVolumeConfig {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Target != target {
			continue
		}
		if _, declared := p.Volumes[v.Source]; v.Type != types.VolumeTypeVolume || !declared {
			t.Fatalf("mounting %s in %s: want a declared named volume, got %s %q", target, s.Name, v.Type, v.Source)
		}
		return v
	}
	t.Fatalf("mounting %s in %s: nothing is mounted there", target, s.Name)
	return types.ServiceVolumeConfig{}
}

// secretBehind names the project secret that service s mounts at the path in its
// environment variable envName.
func secretBehind(t *testing.T, s types.ServiceConfig, envName string) string {
	t.Helper()
	path := serviceEnv(s, envName)
	for _, secret := range s.Secrets {
		if secret.Target == path {
			return secret.Source
		}
	}
	t.Fatalf("reading %s=%q in %s: no secret of the service is mounted there", envName, path, s.Name)
	return ""
}

// checkDependsOn fails unless service s waits for dependency to reach condition.
func checkDependsOn(t *testing.T, s types.ServiceConfig, dependency, condition string) {
	t.Helper()
	if got := s.DependsOn[dependency].Condition; got != condition {
		t.Errorf("%s depends on %s: condition %q, want %q", s.Name, dependency, got, condition)
	}
}

func checkComposeDatabase(t *testing.T, p *types.Project, _ composeCase) {
	db := checkMariaDBService(t, p)
	if db.HealthCheck == nil || !slices.Equal(db.HealthCheck.Test, append([]string{"CMD"}, mariadbHealthcheck...)) {
		t.Errorf("db health check: want CMD %v", mariadbHealthcheck)
	}
	for _, name := range []string{"MARIADB_PASSWORD_FILE", "MARIADB_ROOT_PASSWORD_FILE"} {
		secretBehind(t, db, name)
	}
	for _, s := range p.Services {
		for _, port := range s.Ports {
			if port.Target == dbPort {
				t.Errorf("%s publishes the database port %d: keep MariaDB inside the project's network", s.Name, dbPort)
			}
		}
	}
}

// checkMariaDBService checks the service db of every Compose file of ours: a pinned MariaDB
// with utf8mb4, no strict sql_mode and its data in a named volume. It returns the service.
func checkMariaDBService(t *testing.T, p *types.Project) types.ServiceConfig {
	t.Helper()
	db := service(t, p, "db")
	checkMariaDBImage(t, db.Image)
	checkUTF8MB4(t, db.Command)
	checkSQLMode(t, db.Command)
	serviceVolume(t, p, db, "/var/lib/mysql")
	return db
}

// checkComposeStudip checks web and cron (checkWebAndCron), and that nothing loads demo data
// and both report their health.
func checkComposeStudip(t *testing.T, p *types.Project, c composeCase) {
	web, cron := checkWebAndCron(t, p, c.image)
	for _, s := range p.Services {
		if v := serviceEnv(s, "DEMO_DATA"); v != "" {
			t.Errorf("%s sets DEMO_DATA=%q: the examples are for production", s.Name, v)
		}
	}
	// web's health gates cron and the frontend; cron's tells that its runs go on.
	for _, s := range []types.ServiceConfig{web, cron} {
		checkStudipHealthcheck(t, s)
	}
	checkDependsOn(t, web, "db", types.ServiceConditionHealthy)
}

// checkWebAndCron checks what every Compose file of ours must have in web and cron: one
// image, one writable data volume, the image's entrypoint, cron running the cron runner, only
// web migrating, cron starting after web is healthy. It returns the two services.
func checkWebAndCron(t *testing.T, p *types.Project, image string) (web, cron types.ServiceConfig) {
	t.Helper()
	web, cron = service(t, p, "web"), service(t, p, "cron")
	if web.Image != image || cron.Image != image {
		t.Errorf("images: web %q, cron %q, want both %q", web.Image, cron.Image, image)
	}
	webData, cronData := serviceVolume(t, p, web, dataDir), serviceVolume(t, p, cron, dataDir)
	if webData.Source != cronData.Source || webData.ReadOnly || cronData.ReadOnly {
		t.Errorf("data volume: web mounts %q (read-only %t), cron %q (read-only %t), want one volume, writable",
			webData.Source, webData.ReadOnly, cronData.Source, cronData.ReadOnly)
	}
	if len(web.Command) != 0 || len(web.Entrypoint) != 0 {
		t.Errorf("web: entrypoint %q, command %q, want the image's", web.Entrypoint, web.Command)
	}
	if len(cron.Entrypoint) != 0 || !slices.Equal(cron.Command, []string{cronRunner}) {
		t.Errorf("cron: entrypoint %q, command %q, want the image's entrypoint with command [%s]",
			cron.Entrypoint, cron.Command, cronRunner)
	}
	if serviceEnv(web, "AUTO_MIGRATE") != "1" || serviceEnv(cron, "AUTO_MIGRATE") != "" {
		t.Errorf("AUTO_MIGRATE: web %q, cron %q, want web \"1\" and cron unset",
			serviceEnv(web, "AUTO_MIGRATE"), serviceEnv(cron, "AUTO_MIGRATE"))
	}
	checkDependsOn(t, cron, "web", types.ServiceConditionHealthy)
	return web, cron
}

// checkComposeLogin checks that web and cron log in to db as the user db creates, with the
// password db sets, read from a mounted secret.
func checkComposeLogin(t *testing.T, p *types.Project, _ composeCase) {
	db := service(t, p, "db")
	dbSecret := secretBehind(t, db, "MARIADB_PASSWORD_FILE")
	for _, name := range []string{"web", "cron"} {
		s := service(t, p, name)
		for _, pair := range [][2]string{{"MYSQL_DATABASE", "MARIADB_DATABASE"}, {"MYSQL_USER", "MARIADB_USER"}} {
			if got, want := serviceEnv(s, pair[0]), serviceEnv(db, pair[1]); got == "" || got != want {
				t.Errorf("%s: %s=%q, want db's %s=%q", name, pair[0], got, pair[1], want)
			}
		}
		if host := serviceEnv(s, "MYSQL_HOST"); host != "db" {
			t.Errorf("%s: MYSQL_HOST=%q, want db", name, host)
		}
		if serviceEnv(s, "MYSQL_PASSWORD") != "" {
			t.Errorf("%s sets MYSQL_PASSWORD: use MYSQL_PASSWORD_FILE and a secret", name)
		}
		if got := secretBehind(t, s, "MYSQL_PASSWORD_FILE"); got != dbSecret {
			t.Errorf("%s reads its password from secret %q, db sets it from %q", name, got, dbSecret)
		}
	}
}

// checkComposeSecretFiles checks that every secret's file ships with the example, holds a
// placeholder to change, and has no trailing newline that could become part of the password.
func checkComposeSecretFiles(t *testing.T, p *types.Project, _ composeCase) {
	for name, secret := range p.Secrets {
		content, err := os.ReadFile(secret.File)
		if err != nil {
			t.Errorf("reading secret %s: %v", name, err)
			continue
		}
		if !strings.Contains(string(content), "CHANGE-ME") || strings.HasSuffix(string(content), "\n") {
			t.Errorf("secret %s in %s: %q, want a CHANGE-ME placeholder without a trailing newline",
				name, secret.File, content)
		}
	}
}

// checkPublishes fails unless frontend is the only service that publishes ports and it
// publishes exactly its container port target.
func checkPublishes(t *testing.T, p *types.Project, frontend string, target uint32) {
	t.Helper()
	for _, s := range p.Services {
		for _, port := range s.Ports {
			if s.Name != frontend || port.Target != target {
				t.Errorf("%s publishes container port %d: only %s publishes, and only port %d",
					s.Name, port.Target, frontend, target)
			}
		}
	}
	if len(service(t, p, frontend).Ports) == 0 {
		t.Errorf("%s publishes no port: nothing answers HTTP", frontend)
	}
}

func checkApacheFrontend(t *testing.T, p *types.Project, _ composeCase) {
	checkPublishes(t, p, "web", unprivilegedHTTPPort)
	if got := serviceEnv(service(t, p, "web"), "STUDIP_HTTP_PORT"); got != fmt.Sprint(unprivilegedHTTPPort) {
		t.Errorf("web: STUDIP_HTTP_PORT=%q, want %d: without root or capabilities Apache cannot listen on %d",
			got, unprivilegedHTTPPort, httpPort)
	}
}

// checkNginxFrontend checks the fpm-alpine example's front: the one-shot service assets
// refreshes the volume public from the image, nginx mounts it and the data volume
// read-only at the paths the image uses, and the config it mounts serves Stud.IP for real
// (checkNginxServes).
func checkNginxFrontend(t *testing.T, p *types.Project, c composeCase) {
	checkPublishes(t, p, "nginx", httpPort)
	nginx, assets, web := service(t, p, "nginx"), service(t, p, "assets"), service(t, p, "web")

	public, data := serviceVolume(t, p, nginx, publicDir), serviceVolume(t, p, nginx, dataDir)
	if !public.ReadOnly || !data.ReadOnly {
		t.Errorf("nginx mounts public (read-only %t) and data (read-only %t): want both read-only",
			public.ReadOnly, data.ReadOnly)
	}
	if webData := serviceVolume(t, p, web, dataDir); data.Source != webData.Source {
		t.Errorf("nginx mounts volume %q at %s, web %q: the symlinks into data would not resolve",
			data.Source, dataDir, webData.Source)
	}

	if assets.Image != c.image {
		t.Errorf("assets copies from image %q, web runs %q", assets.Image, c.image)
	}
	var copied types.ServiceVolumeConfig
	for _, v := range assets.Volumes {
		if v.Source == public.Source {
			copied = v
		}
	}
	script := strings.Join(assets.Command, " ")
	clear := "find " + copied.Target + " -mindepth 1 -delete"
	cp := "cp -a " + publicDir + "/. " + copied.Target
	if copied.Target == "" || copied.ReadOnly || !strings.Contains(script, clear+" && "+cp) {
		t.Errorf("assets: mounts %q writable at %q and runs %q; want it to clear the volume, then copy: %q",
			public.Source, copied.Target, script, clear+" && "+cp)
	}
	checkDependsOn(t, nginx, "assets", types.ServiceConditionCompletedSuccessfully)
	checkDependsOn(t, nginx, "web", types.ServiceConditionHealthy)

	// One upload limit for nginx and PHP.
	if got, want := serviceEnv(nginx, "PHP_UPLOAD_LIMIT"), serviceEnv(web, "PHP_UPLOAD_LIMIT"); got == "" || got != want {
		t.Errorf("PHP_UPLOAD_LIMIT: nginx %q, web %q, want one value in both", got, want)
	}
	for _, config := range nginx.Configs {
		if config.Target == nginxTemplate {
			example := nginxExample{template: p.Configs[config.Source].File, nginxEnv: serviceEnvMap(nginx)}
			for name, value := range serviceEnvMap(web) {
				if strings.HasPrefix(name, "PHP_") {
					example.fpmEnv = append(example.fpmEnv, name+"="+value)
				}
			}
			t.Run("nginx serves the example", func(t *testing.T) { checkNginxServes(t, example) })
			t.Run("uploads", func(t *testing.T) { checkNginxUploads(t, example) })
			return
		}
	}
	t.Error("nginx: no config is mounted at " + nginxTemplate)
}

// nginxTemplate is where the nginx image reads a configuration template from (it writes
// conf.d/default.conf from it when it starts).
const nginxTemplate = "/etc/nginx/templates/default.conf.template"

// serviceEnvMap is a service's environment as name and value, without unset variables.
func serviceEnvMap(s types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for name, value := range s.Environment {
		if value != nil {
			out[name] = *value
		}
	}
	return out
}

// checkStudipHealthcheck fails unless service s checks its health with the image's
// studip-healthcheck, allowing a first start that installs the database.
func checkStudipHealthcheck(t *testing.T, s types.ServiceConfig) {
	t.Helper()
	hc := s.HealthCheck
	if hc == nil || hc.Disable || !slices.Equal(hc.Test, append([]string{"CMD"}, studipHealthcheck...)) {
		t.Errorf("%s health check: %+v, want CMD %v", s.Name, hc, studipHealthcheck)
		return
	}
	if hc.StartPeriod == nil || time.Duration(*hc.StartPeriod) < firstStart {
		t.Errorf("%s health check: start period %v, want at least %v: the first start installs the database",
			s.Name, hc.StartPeriod, firstStart)
	}
}

// confinement is how a service of the Compose examples runs beyond what every one has (a
// read-only root filesystem, no capabilities but those it adds, no-new-privileges): as which
// user ("": the image's, root), with which tmpfs, adding which capabilities.
type confinement struct {
	user   string
	tmpfs  []string
	capAdd []string
}

// checkComposeHardening checks every service against its confinement: Stud.IP as www-data of
// its image with group 0 (any uid with group 0 works; this one keeps volumes a root-run image
// gave www-data), writing only to its volumes, /tmp and /run; MariaDB as its mysql user with
// its socket directory on tmpfs; the two that start as root keep only what they need.
func checkComposeHardening(t *testing.T, p *types.Project, c composeCase) {
	studip := confinement{user: fmt.Sprintf("%d:0", c.wwwData), tmpfs: []string{"/run", "/tmp"}}
	want := map[string]confinement{
		"web":  studip,
		"cron": studip,
		"db":   {user: "999:999", tmpfs: []string{"/run/mysqld", "/tmp"}},
		// Writes the new volume and keeps the files' owners.
		"assets": {capAdd: []string{"CHOWN", "DAC_OVERRIDE", "FOWNER"}},
		// Binds port 80, hands its cache to its workers' user, switches to it; writes its
		// cache, pid and the configuration from the template.
		"nginx": {tmpfs: []string{"/etc/nginx/conf.d", "/run", "/tmp", "/var/cache/nginx"},
			capAdd: []string{"CHOWN", "NET_BIND_SERVICE", "SETGID", "SETUID"}},
	}
	for _, s := range p.Services {
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("%s: how it is confined is not known to the test", s.Name)
			continue
		}
		if !s.ReadOnly || !slices.Equal(s.CapDrop, []string{"ALL"}) || !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: read_only %t, cap_drop %v, security_opt %v; want read_only, cap_drop [ALL], no-new-privileges:true",
				s.Name, s.ReadOnly, s.CapDrop, s.SecurityOpt)
		}
		if got := slices.Sorted(slices.Values(s.CapAdd)); !slices.Equal(got, w.capAdd) {
			t.Errorf("%s: cap_add %v, want %v", s.Name, got, w.capAdd)
		}
		if got := slices.Sorted(slices.Values(s.Tmpfs)); !slices.Equal(got, w.tmpfs) {
			t.Errorf("%s: tmpfs %v, want %v", s.Name, got, w.tmpfs)
		}
		if s.User != w.user {
			t.Errorf("%s: user %q, want %q", s.Name, s.User, w.user)
		}
	}
}
