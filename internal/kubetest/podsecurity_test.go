package kubetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRestrictedViolations: the restricted profile's checker admits a pod that follows it and
// refuses each way of breaking one of its controls, naming the control.
func TestRestrictedViolations(t *testing.T) {
	yes, no, root := true, false, int64(0)
	app := func(p *corev1.PodSpec) *corev1.SecurityContext { return p.Containers[0].SecurityContext }
	cases := []struct {
		name    string
		breakIt func(*corev1.PodSpec, map[string]string)
		control string // "": admitted
	}{
		{"as written", func(*corev1.PodSpec, map[string]string) {}, ""},
		{"seccomp set per container instead", func(p *corev1.PodSpec, _ map[string]string) {
			p.SecurityContext.SeccompProfile = nil
			for _, c := range []*corev1.Container{&p.InitContainers[0], &p.Containers[0]} {
				c.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}
			}
		}, ""},
		{"runAsNonRoot per container instead", func(p *corev1.PodSpec, _ map[string]string) {
			p.SecurityContext.RunAsNonRoot = nil
			for _, c := range []*corev1.Container{&p.InitContainers[0], &p.Containers[0]} {
				c.SecurityContext.RunAsNonRoot = &yes
			}
		}, ""},
		{"host network", func(p *corev1.PodSpec, _ map[string]string) { p.HostNetwork = true }, "Host Namespaces"},
		{"host PID", func(p *corev1.PodSpec, _ map[string]string) { p.HostPID = true }, "Host Namespaces"},
		{"host IPC", func(p *corev1.PodSpec, _ map[string]string) { p.HostIPC = true }, "Host Namespaces"},
		{"a HostProcess container", func(p *corev1.PodSpec, _ map[string]string) {
			app(p).WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: &yes}
		}, "HostProcess"},
		{"privileged", func(p *corev1.PodSpec, _ map[string]string) { app(p).Privileged = &yes }, "Privileged Containers"},
		{"a hostPath volume", func(p *corev1.PodSpec, _ map[string]string) {
			p.Volumes = append(p.Volumes, corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
		}, "HostPath Volumes"},
		{"a host port", func(p *corev1.PodSpec, _ map[string]string) { p.Containers[0].Ports[0].HostPort = 80 }, "Host Ports"},
		{"AppArmor unconfined", func(p *corev1.PodSpec, _ map[string]string) {
			app(p).AppArmorProfile.Type = corev1.AppArmorProfileTypeUnconfined
		}, "AppArmor"},
		{"AppArmor unconfined by annotation", func(_ *corev1.PodSpec, a map[string]string) {
			a[appArmorAnnotation+"app"] = "unconfined"
		}, "AppArmor"},
		{"an SELinux type of its own", func(p *corev1.PodSpec, _ map[string]string) { app(p).SELinuxOptions.Type = "spc_t" }, "SELinux"},
		{"an SELinux user", func(p *corev1.PodSpec, _ map[string]string) {
			p.SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{User: "system_u"}
		}, "SELinux"},
		{"an unmasked /proc", func(p *corev1.PodSpec, _ map[string]string) {
			unmasked := corev1.UnmaskedProcMount
			app(p).ProcMount = &unmasked
		}, "/proc Mount Type"},
		{"an unsafe sysctl", func(p *corev1.PodSpec, _ map[string]string) {
			p.SecurityContext.Sysctls = append(p.SecurityContext.Sysctls, corev1.Sysctl{Name: "kernel.msgmax", Value: "1"})
		}, "Sysctls"},
		{"a hostPath-like volume type", func(p *corev1.PodSpec, _ map[string]string) {
			p.Volumes = append(p.Volumes, corev1.Volume{Name: "nfs", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs", Path: "/"}}})
		}, "Volume Types"},
		{"privilege escalation unset", func(p *corev1.PodSpec, _ map[string]string) {
			p.InitContainers[0].SecurityContext.AllowPrivilegeEscalation = nil
		}, "Privilege Escalation"},
		{"privilege escalation allowed", func(p *corev1.PodSpec, _ map[string]string) { app(p).AllowPrivilegeEscalation = &yes }, "Privilege Escalation"},
		{"runAsNonRoot unset", func(p *corev1.PodSpec, _ map[string]string) { p.SecurityContext.RunAsNonRoot = nil }, "Running as Non-root"},
		{"a container not runAsNonRoot", func(p *corev1.PodSpec, _ map[string]string) { app(p).RunAsNonRoot = &no }, "Running as Non-root"},
		{"the pod as uid 0", func(p *corev1.PodSpec, _ map[string]string) { p.SecurityContext.RunAsUser = &root }, "Running as Non-root user"},
		{"a container as uid 0", func(p *corev1.PodSpec, _ map[string]string) { app(p).RunAsUser = &root }, "Running as Non-root user"},
		{"no seccomp profile", func(p *corev1.PodSpec, _ map[string]string) { p.SecurityContext.SeccompProfile = nil }, "Seccomp"},
		{"seccomp unconfined", func(p *corev1.PodSpec, _ map[string]string) {
			app(p).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}, "Seccomp"},
		{"no drop ALL", func(p *corev1.PodSpec, _ map[string]string) {
			app(p).Capabilities.Drop = []corev1.Capability{"NET_RAW"}
		}, "Capabilities"},
		{"an init container without capabilities", func(p *corev1.PodSpec, _ map[string]string) {
			p.InitContainers[0].SecurityContext.Capabilities = nil
		}, "Capabilities"},
		{"a capability added beyond NET_BIND_SERVICE", func(p *corev1.PodSpec, _ map[string]string) {
			app(p).Capabilities.Add = append(app(p).Capabilities.Add, "CHOWN")
		}, "Capabilities"},
		{"a probe asking another host", func(p *corev1.PodSpec, _ map[string]string) {
			p.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				HTTPGet: &corev1.HTTPGetAction{Host: "169.254.169.254", Path: "/"}}}
		}, "Host Probes / Lifecycle Hooks"},
		{"a lifecycle hook asking another host", func(p *corev1.PodSpec, _ map[string]string) {
			p.InitContainers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
				TCPSocket: &corev1.TCPSocketAction{Host: "10.0.0.1"}}}
		}, "Host Probes / Lifecycle Hooks"},
		{"a probe on the pod itself", func(p *corev1.PodSpec, _ map[string]string) {
			p.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/"}}}
		}, ""},
		{"an image volume", func(p *corev1.PodSpec, _ map[string]string) {
			p.Volumes = append(p.Volumes, corev1.Volume{Name: "img", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "x"}}})
		}, ""},
		{"an ephemeral container without a security context", func(p *corev1.PodSpec, _ map[string]string) {
			p.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug"}}}
		}, "Privilege Escalation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec, annotations := restrictedPod()
			c.breakIt(&spec, annotations)
			got := restrictedViolations(spec, annotations)
			// Kubernetes' own admission must decide the same.
			refusal := admissionRefusal(t, spec, annotations)
			if c.control == "" {
				if len(got) > 0 || refusal != "" {
					t.Errorf("refused (%s; admission: %s), want admitted", strings.Join(got, "; "), refusal)
				}
				return
			}
			if !slices.ContainsFunc(got, func(v string) bool { return strings.HasPrefix(v, c.control+": ") }) {
				t.Errorf("violations %q, want one of control %q", got, c.control)
			}
			if refusal == "" {
				t.Error("Kubernetes' Pod Security admission admits the pod: the case breaks no rule of the profile")
			}
		})
	}
}

// restrictedPod is a pod the restricted profile admits, for the checker's own test to break.
func restrictedPod() (corev1.PodSpec, map[string]string) {
	yes, no, uid := true, false, int64(1000)
	return corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   &yes,
			RunAsUser:      &uid,
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			Sysctls:        []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}},
		},
		InitContainers: []corev1.Container{{Name: "init", SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: &no,
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		}}},
		Containers: []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: &no,
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}},
				SELinuxOptions:           &corev1.SELinuxOptions{Type: "container_t", Level: "s0:c1,c2"},
				AppArmorProfile:          &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault},
			}}},
		Volumes: []corev1.Volume{
			{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
		},
	}, map[string]string{appArmorAnnotation + "app": "runtime/default"}
}

// errorRecorder is a test whose Errorf only records.
type errorRecorder struct {
	testing.TB
	errors []string
}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// CheckRestricted reports what the checker finds and what Kubernetes' admission refuses.
func TestCheckRestricted(t *testing.T) {
	spec, annotations := restrictedPod()
	r := &errorRecorder{TB: t}
	CheckRestricted(r, "Deployment web", corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Annotations: annotations}, Spec: spec})
	if len(r.errors) > 0 {
		t.Errorf("a pod of the profile: %q, want no error", r.errors)
	}
	spec.HostNetwork = true
	r = &errorRecorder{TB: t}
	CheckRestricted(r, "Deployment web", corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Annotations: annotations}, Spec: spec})
	want := []string{
		"Deployment web breaks the restricted Pod Security Standard: Host Namespaces: hostNetwork: true",
		"Deployment web: Kubernetes' Pod Security admission refuses it at the restricted level: host namespaces: host namespaces (hostNetwork=true)",
	}
	if !slices.Equal(r.errors, want) {
		t.Errorf("a pod on the host's network:\n%q\nwant\n%q", r.errors, want)
	}
}
