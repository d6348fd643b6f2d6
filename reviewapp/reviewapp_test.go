package reviewapp_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"gitlab.studip.de/studip/docker/internal/kubetest"
	"gitlab.studip.de/studip/docker/internal/testutil"
	"gitlab.studip.de/studip/docker/reviewapp"
)

const exampleDir = "../examples"

func TestImportsNoDagger(t *testing.T) {
	testutil.ImportsNoDagger(t, "gitlab.studip.de/studip/docker/reviewapp")
}

var app = reviewapp.App{
	Name:      "1234-course-wizard",
	Namespace: "studip-review-1234-cour-x7k2",
	Domain:    "review.studip.example",
	Image:     "registry.studip.example/studip/studip/review:1234-course-wizard@sha256:" + strings.Repeat("ab", 32),
}

// build renders a's manifests and reads them (kubetest.Objects).
func build(t *testing.T, a reviewapp.App) *kubetest.Objects {
	t.Helper()
	out, err := a.Build(exampleDir)
	if err != nil {
		t.Fatal(err)
	}
	o := kubetest.New()
	if err := o.Read(out); err != nil {
		t.Fatalf("reading the manifests: %v\n%s", err, out)
	}
	return o
}

func TestReviewApp(t *testing.T) {
	o := build(t, app)
	host := "1234-course-wizard.review.studip.example"

	// Its own namespace, first, and everything else in it.
	if _, ok := o.All[0].(*corev1.Namespace); !ok {
		t.Errorf("the first object is a %T; kubectl must create the Namespace first", o.All[0])
	}
	ns, ok := o.Namespaces[app.Namespace]
	if len(o.Namespaces) != 1 || !ok {
		t.Fatalf("namespaces %v, want %s alone", slices.Collect(maps.Keys(o.Namespaces)), app.Namespace)
	}
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace labels %v: want the restricted Pod Security Standard enforced", ns.Labels)
	}
	// What the namespace enforces, its pods meet (and Kubernetes' own admission code lets
	// through).
	templates := o.PodTemplates()
	for _, name := range slices.Sorted(maps.Keys(templates)) {
		kubetest.CheckRestricted(t, name, templates[name])
	}
	for _, obj := range o.All {
		if _, isNS := obj.(*corev1.Namespace); !isNS && obj.GetNamespace() != app.Namespace {
			t.Errorf("%s is in namespace %q, want %s", obj.GetName(), obj.GetNamespace(), app.Namespace)
		}
		if obj.GetLabels()[reviewapp.LabelInstance] != app.Name || obj.GetLabels()[reviewapp.LabelManagedBy] != "studip-review-app" {
			t.Errorf("%s: labels %v, want the instance and managed-by labels", obj.GetName(), obj.GetLabels())
		}
	}

	// The merge request's image, by digest, in the one web pod; no cron pod.
	web, ok := o.Deployments["studip-web"]
	if !ok {
		t.Fatal("no Deployment studip-web")
	}
	if _, ok := o.Deployments["studip-cron"]; ok || len(o.Deployments) != 1 {
		t.Errorf("deployments %v, want studip-web alone", slices.Collect(maps.Keys(o.Deployments)))
	}
	wantImage := "registry.studip.example/studip/studip/review@sha256:" + strings.Repeat("ab", 32)
	if got := web.Spec.Template.Spec.Containers[0].Image; got != wantImage {
		t.Errorf("web runs %s, want %s", got, wantImage)
	}
	if web.Spec.Replicas == nil || *web.Spec.Replicas != 1 || web.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType || web.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("web: replicas %v, strategy %+v; want one pod, recreated", web.Spec.Replicas, web.Spec.Strategy)
	}
	if web.Spec.Template.Labels[reviewapp.LabelInstance] != app.Name {
		t.Errorf("web's pods are not labelled with the instance: %v", web.Spec.Template.Labels)
	}
	if _, inSelector := web.Spec.Selector.MatchLabels[reviewapp.LabelInstance]; inSelector {
		t.Error("the instance label is in web's selector, which a Deployment cannot change")
	}

	// Demo data and the public URL.
	cfg := o.ConfigMaps["studip-config"]
	if cfg == nil || cfg.Data["DEMO_DATA"] != "1" || cfg.Data["PROXY_URL"] != "https://"+host+"/" {
		t.Errorf("studip-config %v, want DEMO_DATA=1 and PROXY_URL=https://%s/", cfg, host)
	}

	// Its own MariaDB, small; the passwords are not in the manifests.
	db := o.StatefulSets["studip-db"]
	if db == nil || !strings.HasPrefix(db.Spec.Template.Spec.Containers[0].Image, "mariadb:") {
		t.Fatalf("no MariaDB StatefulSet studip-db: %v", db)
	}
	if got := db.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("database volume %s, want 2Gi", got.String())
	}
	if len(o.Secrets) != 0 {
		t.Errorf("secrets %v in the manifests; the deploy job creates studip-db with random passwords", slices.Collect(maps.Keys(o.Secrets)))
	}
	data := o.Claims["studip-data"]
	if data == nil || !slices.Equal(data.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) {
		t.Errorf("data volume %v, want ReadWriteOnce", data)
	}

	// The Ingress at <slug>.<domain>, to the web Service's port.
	ing := o.Ingresses["studip-web"]
	if ing == nil || len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != host {
		t.Fatalf("ingress %v, want one rule for %s", ing, host)
	}
	if ing.Spec.IngressClassName != nil {
		t.Errorf("ingress class %s, want the cluster's default", *ing.Spec.IngressClassName)
	}
	backend := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service
	svc := o.Services[backend.Name]
	if svc == nil || !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == backend.Port.Name }) {
		t.Errorf("the Ingress points to %s port %q, which no Service has", backend.Name, backend.Port.Name)
	}
}

func TestReviewAppTagAndIngressClass(t *testing.T) {
	a := app
	a.Image = "registry.studip.example/studip/studip/review:1234-course-wizard"
	a.IngressClass = "nginx"
	o := build(t, a)
	if got := o.Deployments["studip-web"].Spec.Template.Spec.Containers[0].Image; got != a.Image {
		t.Errorf("web runs %s, want %s", got, a.Image)
	}
	if c := o.Ingresses["studip-web"].Spec.IngressClassName; c == nil || *c != "nginx" {
		t.Errorf("ingress class %v, want nginx", c)
	}
}

func TestReviewAppCheck(t *testing.T) {
	tests := []struct {
		name string
		edit func(*reviewapp.App)
		want []string
	}{
		{"bad name and namespace", func(a *reviewapp.App) { a.Name, a.Namespace = "Feature_X", "" },
			[]string{`name "Feature_X"`, `namespace ""`}},
		{"no domain", func(a *reviewapp.App) { a.Domain = "" }, []string{"domain is empty"}},
		{"bad domain", func(a *reviewapp.App) { a.Domain = "review..example" }, []string{`host "1234-course-wizard.review..example"`}},
		{"image without tag", func(a *reviewapp.App) { a.Image = "registry.example/studip/review" }, []string{"has neither tag nor digest"}},
		{"bad image", func(a *reviewapp.App) { a.Image = "Registry/Review:x" }, []string{`image "Registry/Review:x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := app
			tt.edit(&a)
			_, err := a.Build(exampleDir)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want %q", err, w)
				}
			}
		})
	}
}
