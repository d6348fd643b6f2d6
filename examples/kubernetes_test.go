package examples

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"gitlab.studip.de/studip/docker/internal/kubetest"
)

const kubernetesDir = "kubernetes"

// manifests are the example's Kubernetes objects, with what its tests ask of them.
type manifests struct{ *kubetest.Objects }

// loadKubernetes decodes every document of every file that kustomization.yaml lists.
func loadKubernetes(t *testing.T) *manifests {
	t.Helper()
	m := manifests{kubetest.New()}
	for _, file := range kustomizationResources(t) {
		src, err := os.ReadFile(filepath.Join(kubernetesDir, file))
		if err != nil {
			t.Fatalf("reading manifests: %v", err)
		}
		if err := m.Read(src); err != nil {
			t.Fatalf("reading %s: %v", file, err)
		}
	}
	return &m
}

// kustomizationResources is the resources list of kustomization.yaml, checked to name every
// other YAML file of the folder.
func kustomizationResources(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(kubernetesDir, "kustomization.yaml"))
	if err != nil {
		t.Fatalf("reading the kustomization: %v", err)
	}
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
	}
	if err := yaml.UnmarshalStrict(src, &k); err != nil {
		t.Fatalf("decoding kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml: %s %s, want kustomize.config.k8s.io/v1beta1 Kustomization", k.APIVersion, k.Kind)
	}
	files, err := filepath.Glob(filepath.Join(kubernetesDir, "*.yaml"))
	if err != nil {
		t.Fatalf("listing manifests: %v", err)
	}
	var want []string
	for _, f := range files {
		if name := filepath.Base(f); name != "kustomization.yaml" {
			want = append(want, name)
		}
	}
	if got := slices.Sorted(slices.Values(k.Resources)); !slices.Equal(got, want) {
		t.Errorf("kustomization.yaml lists %v, the folder has %v", got, want)
	}
	return k.Resources
}

func (m *manifests) deployment(t *testing.T, name string) *appsv1.Deployment {
	t.Helper()
	d, ok := m.Deployments[name]
	if !ok {
		t.Fatalf("finding Deployment %s: not defined", name)
	}
	return d
}

// replicas is a Deployment's replica count; Kubernetes defaults it to 1.
func replicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// container is the only container of a pod template.
func container(t *testing.T, pod corev1.PodTemplateSpec) corev1.Container {
	t.Helper()
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("pod %v: %d containers, want 1", pod.Labels, len(pod.Spec.Containers))
	}
	return pod.Spec.Containers[0]
}

// env resolves a container's environment from literal values and ConfigMaps, as the
// kubelet does.
func (m *manifests) env(t *testing.T, c corev1.Container) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Fatalf("container %s: envFrom other than a ConfigMap", c.Name)
		}
		cm, ok := m.ConfigMaps[from.ConfigMapRef.Name]
		if !ok {
			t.Fatalf("container %s: envFrom ConfigMap %s is not defined", c.Name, from.ConfigMapRef.Name)
		}
		for k, v := range cm.Data {
			out[from.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		switch ref := e.ValueFrom; {
		case ref == nil:
			out[e.Name] = e.Value
		case ref.ConfigMapKeyRef != nil:
			var v string
			cm, ok := m.ConfigMaps[ref.ConfigMapKeyRef.Name]
			if ok {
				v, ok = cm.Data[ref.ConfigMapKeyRef.Key]
			}
			if !ok {
				t.Fatalf("container %s: %s refers to ConfigMap key %s/%s, which is not defined",
					c.Name, e.Name, ref.ConfigMapKeyRef.Name, ref.ConfigMapKeyRef.Key)
			}
			out[e.Name] = v
		default:
			t.Fatalf("container %s: %s comes from neither a value nor a ConfigMap", c.Name, e.Name)
		}
	}
	return out
}

// podVolume is the pod volume that container c mounts at mountPath.
func podVolume(t *testing.T, pod corev1.PodSpec, c corev1.Container, mountPath string) corev1.Volume {
	t.Helper()
	for _, mount := range c.VolumeMounts {
		if mount.MountPath != mountPath {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == mount.Name {
				return v
			}
		}
		t.Fatalf("container %s mounts volume %s at %s: the pod has no such volume", c.Name, mount.Name, mountPath)
	}
	t.Fatalf("container %s: nothing is mounted at %s", c.Name, mountPath)
	return corev1.Volume{}
}

// secretKeyAt is the Secret and key whose content container c sees as the file at file.
func (m *manifests) secretKeyAt(t *testing.T, pod corev1.PodSpec, c corev1.Container, file string) (string, string) {
	t.Helper()
	v := podVolume(t, pod, c, path.Dir(file))
	if v.Secret == nil {
		t.Fatalf("container %s: %s is not in a Secret volume", c.Name, file)
	}
	key := path.Base(file)
	if len(v.Secret.Items) > 0 {
		i := slices.IndexFunc(v.Secret.Items, func(item corev1.KeyToPath) bool { return item.Path == key })
		if i < 0 {
			t.Fatalf("container %s: Secret volume %s projects no item to %s", c.Name, v.Name, file)
		}
		key = v.Secret.Items[i].Key
	}
	secret, ok := m.Secrets[v.Secret.SecretName]
	if !ok {
		t.Fatalf("container %s: Secret %s is not defined", c.Name, v.Secret.SecretName)
	}
	if _, ok := secret.StringData[key]; !ok {
		t.Fatalf("container %s reads %s from Secret %s key %s, which is not defined", c.Name, file, secret.Name, key)
	}
	return secret.Name, key
}

// portNumber resolves a named or numbered port of container c.
func portNumber(t *testing.T, c corev1.Container, port intstr.IntOrString) int32 {
	t.Helper()
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s has no port named %s", c.Name, port.StrVal)
	return 0
}

// checkSelects fails unless selector is non-empty and selects the pods labelled podLabels.
func checkSelects(t *testing.T, what string, selector map[string]string, podLabels map[string]string) {
	t.Helper()
	if len(selector) == 0 || !labels.SelectorFromSet(selector).Matches(labels.Set(podLabels)) {
		t.Errorf("%s: selector %v does not select its pods %v", what, selector, podLabels)
	}
}

func TestKubernetes(t *testing.T) {
	m := loadKubernetes(t)
	web, cron := m.deployment(t, "studip-web"), m.deployment(t, "studip-cron")
	webC, cronC := container(t, web.Spec.Template), container(t, cron.Spec.Template)

	checks := []struct {
		name  string
		check func(*testing.T)
	}{
		{"web", func(t *testing.T) {
			if replicas(web) != 2 || web.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
				t.Errorf("web: replicas %d, strategy %s, want 2 and RollingUpdate", replicas(web), web.Spec.Strategy.Type)
			}
			if webC.Image != apacheTag {
				t.Errorf("web image %q, want %q", webC.Image, apacheTag)
			}
			// Ready: GET / answers. Alive, and started: the web server answers at all, so a
			// database outage takes pods out of the Service without restarting them.
			if probe := webC.ReadinessProbe; probe == nil || probe.HTTPGet == nil {
				t.Error("web: no HTTP readiness probe")
			} else if port := portNumber(t, webC, probe.HTTPGet.Port); probe.HTTPGet.Path != "/" || port != unprivilegedHTTPPort {
				t.Errorf("web readiness probe: GET %s on port %d, want GET / on port %d", probe.HTTPGet.Path, port, unprivilegedHTTPPort)
			}
			if got := m.env(t, webC)["STUDIP_HTTP_PORT"]; got != fmt.Sprint(unprivilegedHTTPPort) {
				t.Errorf("web: STUDIP_HTTP_PORT=%q, want %d: without root or capabilities Apache cannot listen on %d",
					got, unprivilegedHTTPPort, httpPort)
			}
			checkExecProbe(t, "web liveness", webC.LivenessProbe, studipLiveHealthcheck)
			checkExecProbe(t, "web startup", webC.StartupProbe, studipLiveHealthcheck)
			checkFirstStart(t, "web", webC.StartupProbe)
			if got := m.env(t, webC)["AUTO_MIGRATE"]; got != "1" {
				t.Errorf("web: AUTO_MIGRATE=%q, want 1 (web runs the migrations)", got)
			}
		}},
		{"cron", func(t *testing.T) {
			if replicas(cron) != 1 || cron.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("cron: replicas %d, strategy %s, want 1 and Recreate: never two cron runners",
					replicas(cron), cron.Spec.Strategy.Type)
			}
			if cronC.Image != webC.Image {
				t.Errorf("cron image %q, web %q, want the same", cronC.Image, webC.Image)
			}
			if len(cronC.Command) != 0 || !slices.Equal(cronC.Args, []string{cronRunner}) {
				t.Errorf("cron: command %q, args %q, want the image's entrypoint with args [%s]",
					cronC.Command, cronC.Args, cronRunner)
			}
			// studip-cron's heartbeat; the first run follows the setup.
			checkExecProbe(t, "cron liveness", cronC.LivenessProbe, studipHealthcheck)
			checkExecProbe(t, "cron startup", cronC.StartupProbe, studipHealthcheck)
			checkFirstStart(t, "cron", cronC.StartupProbe)
			if cronC.ReadinessProbe != nil {
				t.Error("cron: a readiness probe, but no Service sends it traffic")
			}
			if got, ok := m.env(t, cronC)["AUTO_MIGRATE"]; ok {
				t.Errorf("cron: AUTO_MIGRATE=%q, want unset (web runs the migrations)", got)
			}
		}},
		{"data volume", func(t *testing.T) {
			for _, d := range []*appsv1.Deployment{web, cron} {
				v := podVolume(t, d.Spec.Template.Spec, container(t, d.Spec.Template), dataDir)
				if v.PersistentVolumeClaim == nil {
					t.Fatalf("%s: %s is not a PersistentVolumeClaim", d.Name, dataDir)
				}
				claim, ok := m.Claims[v.PersistentVolumeClaim.ClaimName]
				if !ok {
					t.Fatalf("%s mounts claim %s, which is not defined", d.Name, v.PersistentVolumeClaim.ClaimName)
				}
				if !slices.Equal(claim.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}) {
					t.Errorf("claim %s: access modes %v, want [ReadWriteMany]: every web pod and cron mount it",
						claim.Name, claim.Spec.AccessModes)
				}
				// www-data's uid, as the image has it, with group 0; fsGroup 0 gives that group the
				// data volume and the password file.
				sc := d.Spec.Template.Spec.SecurityContext
				if sc == nil || !equalID(sc.RunAsUser, apacheWWWData) || !equalID(sc.RunAsGroup, 0) || !equalID(sc.FSGroup, 0) {
					t.Errorf("%s: want runAsUser %d, runAsGroup 0 and fsGroup 0, so that the server writes the data volume and reads the password",
						d.Name, apacheWWWData)
				}
			}
		}},
		{"database login", func(t *testing.T) { checkKubernetesLogin(t, m, web, cron) }},
		{"service", func(t *testing.T) {
			svc, ok := m.Services["studip-web"]
			if !ok {
				t.Fatal("finding Service studip-web: not defined")
			}
			checkSelects(t, "Service studip-web", svc.Spec.Selector, web.Spec.Template.Labels)
			if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(cron.Spec.Template.Labels)) {
				t.Error("Service studip-web selects the cron pod too")
			}
			for _, p := range svc.Spec.Ports {
				if got := portNumber(t, webC, p.TargetPort); p.Port != httpPort || got != unprivilegedHTTPPort {
					t.Errorf("Service studip-web: port %d targets %d, want %d to Apache's %d", p.Port, got, httpPort, unprivilegedHTTPPort)
				}
			}
			if len(svc.Spec.Ports) == 0 {
				t.Error("Service studip-web has no port")
			}
		}},
		{"restricted", func(t *testing.T) {
			templates := m.PodTemplates()
			for _, name := range slices.Sorted(maps.Keys(templates)) {
				pod := templates[name]
				kubetest.CheckRestricted(t, name, pod)
				checkHardened(t, name, pod.Spec)
			}
		}},
		{"labels", func(t *testing.T) {
			for _, d := range m.Deployments {
				checkSelects(t, "Deployment "+d.Name, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
			}
			for _, s := range m.StatefulSets {
				checkSelects(t, "StatefulSet "+s.Name, s.Spec.Selector.MatchLabels, s.Spec.Template.Labels)
			}
			for _, o := range m.All {
				if o.GetNamespace() != "" || o.GetLabels()["app.kubernetes.io/name"] != "studip" {
					t.Errorf("%s: namespace %q, labels %v; want no namespace and app.kubernetes.io/name=studip",
						o.GetName(), o.GetNamespace(), o.GetLabels())
				}
			}
		}},
	}
	for _, c := range checks {
		t.Run(c.name, c.check)
	}
}

// checkKubernetesLogin checks that web and cron reach MariaDB through its headless Service
// and log in as the user it creates, with the password it sets, read from the same Secret
// key mounted as a file.
func checkKubernetesLogin(t *testing.T, m *manifests, deployments ...*appsv1.Deployment) {
	db, ok := m.StatefulSets["studip-db"]
	if !ok {
		t.Fatal("finding StatefulSet studip-db: not defined")
	}
	dbC := container(t, db.Spec.Template)
	checkMariaDBImage(t, dbC.Image)
	checkUTF8MB4(t, dbC.Args)
	checkSQLMode(t, dbC.Args)
	for name, probe := range map[string]*corev1.Probe{"readiness": dbC.ReadinessProbe, "liveness": dbC.LivenessProbe} {
		if probe == nil || probe.Exec == nil || !slices.Equal(probe.Exec.Command, mariadbHealthcheck) {
			t.Errorf("studip-db %s probe: want exec %v", name, mariadbHealthcheck)
		}
	}
	if len(db.Spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("studip-db: %d volume claim templates, want 1", len(db.Spec.VolumeClaimTemplates))
	}
	i := slices.IndexFunc(dbC.VolumeMounts, func(v corev1.VolumeMount) bool { return v.MountPath == "/var/lib/mysql" })
	if i < 0 || dbC.VolumeMounts[i].Name != db.Spec.VolumeClaimTemplates[0].Name {
		t.Errorf("studip-db: /var/lib/mysql is not the volume claim template %s", db.Spec.VolumeClaimTemplates[0].Name)
	}
	headless, ok := m.Services[db.Spec.ServiceName]
	if !ok || headless.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Fatalf("studip-db: serviceName %q is not a headless Service", db.Spec.ServiceName)
	}
	checkSelects(t, "Service "+headless.Name, headless.Spec.Selector, db.Spec.Template.Labels)

	dbEnv := m.env(t, dbC)
	dbSecret, dbKey := m.secretKeyAt(t, db.Spec.Template.Spec, dbC, dbEnv["MARIADB_PASSWORD_FILE"])
	m.secretKeyAt(t, db.Spec.Template.Spec, dbC, dbEnv["MARIADB_ROOT_PASSWORD_FILE"])
	for _, d := range deployments {
		c := container(t, d.Spec.Template)
		env := m.env(t, c)
		if env["MYSQL_HOST"] != headless.Name {
			t.Errorf("%s: MYSQL_HOST=%q, want the database Service %s", d.Name, env["MYSQL_HOST"], headless.Name)
		}
		for _, pair := range [][2]string{{"MYSQL_DATABASE", "MARIADB_DATABASE"}, {"MYSQL_USER", "MARIADB_USER"}} {
			if got, want := env[pair[0]], dbEnv[pair[1]]; got == "" || got != want {
				t.Errorf("%s: %s=%q, want studip-db's %s=%q", d.Name, pair[0], got, pair[1], want)
			}
		}
		if _, ok := env["MYSQL_PASSWORD"]; ok {
			t.Errorf("%s sets MYSQL_PASSWORD: use MYSQL_PASSWORD_FILE and the Secret", d.Name)
		}
		secret, key := m.secretKeyAt(t, d.Spec.Template.Spec, c, env["MYSQL_PASSWORD_FILE"])
		if secret != dbSecret || key != dbKey {
			t.Errorf("%s reads its password from %s/%s, studip-db sets it from %s/%s", d.Name, secret, key, dbSecret, dbKey)
		}
	}
}

// checkExecProbe fails unless probe runs command in the container.
func checkExecProbe(t *testing.T, what string, probe *corev1.Probe, command []string) {
	t.Helper()
	switch {
	case probe == nil:
		t.Errorf("%s probe: none, want exec %q", what, command)
	case probe.Exec == nil:
		t.Errorf("%s probe: not an exec, want exec %q", what, command)
	case !slices.Equal(probe.Exec.Command, command):
		t.Errorf("%s probe: exec %q, want exec %q", what, probe.Exec.Command, command)
	}
}

// checkFirstStart fails unless a startup probe waits long enough for a first start, which
// installs the database, before the liveness probe takes over.
func checkFirstStart(t *testing.T, what string, probe *corev1.Probe) {
	t.Helper()
	if probe == nil {
		return // reported by checkExecProbe
	}
	period, failures := probe.PeriodSeconds, probe.FailureThreshold
	if period == 0 {
		period = 10 // Kubernetes' default
	}
	if failures == 0 {
		failures = 3
	}
	if got := time.Duration(period*failures) * time.Second; got < firstStart {
		t.Errorf("%s startup probe: gives up after %v, want at least %v: the first start installs the database",
			what, got, firstStart)
	}
}

// equalID tells whether a uid or gid of a security context is set to want.
func equalID(id *int64, want int64) bool { return id != nil && *id == want }

// writablePaths are the paths where a container of each image writes, besides its volumes
// for data: with a read-only root filesystem each must be an emptyDir.
var writablePaths = map[string][]string{
	"studip/studip": {"/tmp", "/run"},
	"mariadb":       {"/tmp", "/run/mysqld"},
}

// checkHardened checks what the examples ask beyond the restricted profile: no token for the
// Kubernetes API, which nothing in them talks to; every container runs as a numeric uid that
// is not 0 (the kubelet cannot check runAsNonRoot against the images' user names), on a
// read-only root filesystem, with an emptyDir at each path its image writes to.
func checkHardened(t *testing.T, name string, spec corev1.PodSpec) {
	t.Helper()
	if token := spec.AutomountServiceAccountToken; token == nil || *token {
		t.Errorf("%s: want automountServiceAccountToken: false", name)
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		uid := sc.RunAsUser
		if uid == nil && spec.SecurityContext != nil {
			uid = spec.SecurityContext.RunAsUser
		}
		if uid == nil || *uid == 0 {
			t.Errorf("%s: container %s has no numeric uid other than 0 (runAsUser)", name, c.Name)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: container %s: want readOnlyRootFilesystem: true", name, c.Name)
		}
		repository, _, _ := strings.Cut(c.Image, ":")
		paths, ok := writablePaths[repository]
		if !ok {
			t.Errorf("%s: container %s: image %s: which paths it writes is not known", name, c.Name, c.Image)
		}
		for _, path := range paths {
			if v := podVolume(t, spec, c, path); v.EmptyDir == nil {
				t.Errorf("%s: container %s: %s is volume %s, want an emptyDir", name, c.Name, path, v.Name)
			}
		}
	}
}
