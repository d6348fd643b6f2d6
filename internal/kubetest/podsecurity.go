package kubetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psa "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// The Pod Security Standards' restricted profile, which includes the baseline profile, as the
// Kubernetes documentation defines it (concepts/security/pod-security-standards): each check
// is one control of its tables, named as there, with the fields and allowed values it lists.
// A cluster enforces it on a namespace labelled pod-security.kubernetes.io/enforce=restricted.

// safeSysctls are the sysctls the baseline profile allows.
var safeSysctls = []string{"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem", "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"}

// seLinuxTypes are the SELinux types the baseline profile allows ("" is undefined).
var seLinuxTypes = []string{"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

// appArmorAnnotation prefixes the (deprecated) per-container AppArmor annotation.
const appArmorAnnotation = "container.apparmor.security.beta.kubernetes.io/"

// CheckRestricted fails t for each way the pod template named name breaks the restricted
// profile, as restrictedViolations reads it and as Kubernetes' own admission decides.
func CheckRestricted(t testing.TB, name string, pod corev1.PodTemplateSpec) {
	t.Helper()
	for _, v := range restrictedViolations(pod.Spec, pod.Annotations) {
		t.Errorf("%s breaks the restricted Pod Security Standard: %s", name, v)
	}
	if refusal := admissionRefusal(t, pod.Spec, pod.Annotations); refusal != "" {
		t.Errorf("%s: Kubernetes' Pod Security admission refuses it at the restricted level: %s", name, refusal)
	}
}

// podContainer is one container of a pod, of whichever kind, with where it is in the spec.
type podContainer struct {
	field     string
	sc        *corev1.SecurityContext
	ports     []corev1.ContainerPort
	probes    map[string]*corev1.Probe
	lifecycle *corev1.Lifecycle
}

// podContainers are the init, regular and ephemeral containers of a pod: the profile applies
// to every one.
func podContainers(spec corev1.PodSpec) []podContainer {
	var out []podContainer
	add := func(kind string, c corev1.Container) {
		out = append(out, podContainer{kind + "[" + c.Name + "]", c.SecurityContext, c.Ports,
			map[string]*corev1.Probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe, "startupProbe": c.StartupProbe},
			c.Lifecycle})
	}
	for _, c := range spec.InitContainers {
		add("initContainers", c)
	}
	for _, c := range spec.Containers {
		add("containers", c)
	}
	for _, c := range spec.EphemeralContainers {
		add("ephemeralContainers", corev1.Container(c.EphemeralContainerCommon))
	}
	return out
}

// handlerHosts are the host fields of a container's probes and lifecycle hooks, by field.
func handlerHosts(c podContainer) map[string]string {
	out := map[string]string{}
	for name, p := range c.probes {
		if p != nil && p.HTTPGet != nil {
			out[name+".httpGet.host"] = p.HTTPGet.Host
		}
		if p != nil && p.TCPSocket != nil {
			out[name+".tcpSocket.host"] = p.TCPSocket.Host
		}
	}
	if c.lifecycle != nil {
		for name, h := range map[string]*corev1.LifecycleHandler{"lifecycle.postStart": c.lifecycle.PostStart, "lifecycle.preStop": c.lifecycle.PreStop} {
			if h != nil && h.HTTPGet != nil {
				out[name+".httpGet.host"] = h.HTTPGet.Host
			}
			if h != nil && h.TCPSocket != nil {
				out[name+".tcpSocket.host"] = h.TCPSocket.Host
			}
		}
	}
	return out
}

// restrictedViolations lists what breaks the restricted profile in a pod's spec and
// annotations, each as "control: field: what is wrong"; none when the pod is admitted.
func restrictedViolations(spec corev1.PodSpec, annotations map[string]string) []string {
	var out []string
	fail := func(control, field, format string, args ...any) {
		out = append(out, control+": "+field+": "+fmt.Sprintf(format, args...))
	}
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	containers := podContainers(spec)

	// Baseline.
	if w := pod.WindowsOptions; w != nil && w.HostProcess != nil && *w.HostProcess {
		fail("HostProcess", "securityContext.windowsOptions.hostProcess", "true")
	}
	for name, on := range map[string]bool{"hostNetwork": spec.HostNetwork, "hostPID": spec.HostPID, "hostIPC": spec.HostIPC} {
		if on {
			fail("Host Namespaces", name, "true")
		}
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			fail("HostPath Volumes", "volumes["+v.Name+"].hostPath", "set")
		}
	}
	for _, s := range pod.Sysctls {
		if !slices.Contains(safeSysctls, s.Name) {
			fail("Sysctls", "securityContext.sysctls", "%s is not one of the safe sysctls", s.Name)
		}
	}
	checkAppArmor := func(field string, p *corev1.AppArmorProfile) {
		if p != nil && p.Type != corev1.AppArmorProfileTypeRuntimeDefault && p.Type != corev1.AppArmorProfileTypeLocalhost {
			fail("AppArmor", field+".appArmorProfile.type", "%s, want RuntimeDefault or Localhost", p.Type)
		}
	}
	checkAppArmor("securityContext", pod.AppArmorProfile)
	for key, value := range annotations {
		if strings.HasPrefix(key, appArmorAnnotation) && value != "runtime/default" && !strings.HasPrefix(value, "localhost/") {
			fail("AppArmor", "metadata.annotations["+key+"]", "%s, want runtime/default or localhost/*", value)
		}
	}
	checkSELinux := func(field string, o *corev1.SELinuxOptions) {
		if o == nil {
			return
		}
		if !slices.Contains(seLinuxTypes, o.Type) {
			fail("SELinux", field+".seLinuxOptions.type", "%s is not an allowed type", o.Type)
		}
		if o.User != "" || o.Role != "" {
			fail("SELinux", field+".seLinuxOptions", "user %q, role %q, want neither", o.User, o.Role)
		}
	}
	checkSELinux("securityContext", pod.SELinuxOptions)

	// Restricted.
	allowed := []func(corev1.VolumeSource) bool{
		func(v corev1.VolumeSource) bool { return v.ConfigMap != nil },
		func(v corev1.VolumeSource) bool { return v.CSI != nil },
		func(v corev1.VolumeSource) bool { return v.DownwardAPI != nil },
		func(v corev1.VolumeSource) bool { return v.EmptyDir != nil },
		func(v corev1.VolumeSource) bool { return v.Ephemeral != nil },
		func(v corev1.VolumeSource) bool { return v.Image != nil },
		func(v corev1.VolumeSource) bool { return v.PersistentVolumeClaim != nil },
		func(v corev1.VolumeSource) bool { return v.Projected != nil },
		func(v corev1.VolumeSource) bool { return v.Secret != nil },
	}
	for _, v := range spec.Volumes {
		if !slices.ContainsFunc(allowed, func(ok func(corev1.VolumeSource) bool) bool { return ok(v.VolumeSource) }) {
			fail("Volume Types", "volumes["+v.Name+"]", "want configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret")
		}
	}
	if pod.RunAsUser != nil && *pod.RunAsUser == 0 {
		fail("Running as Non-root user", "securityContext.runAsUser", "0")
	}
	if pod.RunAsNonRoot != nil && !*pod.RunAsNonRoot {
		fail("Running as Non-root", "securityContext.runAsNonRoot", "false")
	}
	podSeccomp := pod.SeccompProfile != nil
	if podSeccomp {
		if t := pod.SeccompProfile.Type; t != corev1.SeccompProfileTypeRuntimeDefault && t != corev1.SeccompProfileTypeLocalhost {
			fail("Seccomp", "securityContext.seccompProfile.type", "%s, want RuntimeDefault or Localhost", t)
		}
	}

	for _, c := range containers {
		sc := c.sc
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		field := c.field + ".securityContext"
		for _, p := range c.ports {
			if p.HostPort != 0 {
				fail("Host Ports", c.field+".ports", "hostPort %d", p.HostPort)
			}
		}
		if w := sc.WindowsOptions; w != nil && w.HostProcess != nil && *w.HostProcess {
			fail("HostProcess", field+".windowsOptions.hostProcess", "true")
		}
		if sc.Privileged != nil && *sc.Privileged {
			fail("Privileged Containers", field+".privileged", "true")
		}
		for hostField, host := range handlerHosts(c) {
			if host != "" {
				fail("Host Probes / Lifecycle Hooks", c.field+"."+hostField, "%s, want it unset", host)
			}
		}
		if sc.ProcMount != nil && *sc.ProcMount != corev1.DefaultProcMount {
			fail("/proc Mount Type", field+".procMount", "%s, want Default", *sc.ProcMount)
		}
		checkAppArmor(field, sc.AppArmorProfile)
		checkSELinux(field, sc.SELinuxOptions)
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			fail("Privilege Escalation", field+".allowPrivilegeEscalation", "want false")
		}
		switch nonRoot := sc.RunAsNonRoot; {
		case nonRoot != nil && !*nonRoot:
			fail("Running as Non-root", field+".runAsNonRoot", "false")
		case nonRoot == nil && (pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot):
			fail("Running as Non-root", field+".runAsNonRoot", "unset, and the pod's is not true")
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			fail("Running as Non-root user", field+".runAsUser", "0")
		}
		switch p := sc.SeccompProfile; {
		case p == nil && !podSeccomp:
			fail("Seccomp", field+".seccompProfile", "unset, and so is the pod's")
		case p != nil && p.Type != corev1.SeccompProfileTypeRuntimeDefault && p.Type != corev1.SeccompProfileTypeLocalhost:
			fail("Seccomp", field+".seccompProfile.type", "%s, want RuntimeDefault or Localhost", p.Type)
		}
		var drop, add []corev1.Capability
		if sc.Capabilities != nil {
			drop, add = sc.Capabilities.Drop, sc.Capabilities.Add
		}
		if !slices.Contains(drop, "ALL") {
			fail("Capabilities", field+".capabilities.drop", "%v, want ALL among them", drop)
		}
		for _, capability := range add {
			// Restricted allows less than baseline's list: only this one.
			if capability != "NET_BIND_SERVICE" {
				fail("Capabilities", field+".capabilities.add", "%s, want only NET_BIND_SERVICE", capability)
			}
		}
	}
	slices.Sort(out)
	return out
}

// admissionRefusal is why Kubernetes' own Pod Security admission (k8s.io/pod-security-admission,
// the checks the API server runs, at the restricted level of the newest version) refuses the
// pod, "" when it admits it: a second opinion on restrictedViolations.
func admissionRefusal(t testing.TB, spec corev1.PodSpec, annotations map[string]string) string {
	t.Helper()
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatalf("setting up Pod Security admission: %v", err)
	}
	level := psa.LevelVersion{Level: psa.LevelRestricted, Version: psa.LatestVersion()}
	result := policy.AggregateCheckResults(evaluator.EvaluatePod(level, &metav1.ObjectMeta{Annotations: annotations}, &spec))
	if result.Allowed {
		return ""
	}
	return result.ForbiddenReason() + ": " + result.ForbiddenDetail()
}
