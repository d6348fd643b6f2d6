// Package reviewapp renders the Kubernetes manifests of one merge request's review app: the
// overlay examples/kubernetes-review/ of examples/kubernetes/ (demo data, a throw-away MariaDB, one web pod, an
// Ingress) with the merge request's namespace, image and host, built with kustomize's own Go
// API, as `kubectl apply -k` would build it.
package reviewapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"
)

// App is one review app.
type App struct {
	Name      string // the merge request's slug: the Ingress host's first label and app.kubernetes.io/instance
	Namespace string // its own namespace, which stopping the app deletes
	Domain    string // the Ingress host is Name.Domain
	Image     string // the image to run: REPOSITORY:TAG or REPOSITORY@DIGEST (or both)
	// IngressClass is the Ingress's class; "" leaves it to the cluster's default.
	IngressClass string
}

// The image that the example runs, which the app's image replaces.
const exampleImage = "studip/studip"

// Labels of every object of a review app.
const (
	LabelInstance  = "app.kubernetes.io/instance"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "studip-review-app"
)

// Host is the app's address.
func (a App) Host() string { return a.Name + "." + a.Domain }

// Check reports every field that Kubernetes or a registry would refuse, at once.
func (a App) Check() error {
	var errs []error
	for _, msg := range validation.IsDNS1123Label(a.Name) {
		errs = append(errs, fmt.Errorf("name %q: %s", a.Name, msg))
	}
	for _, msg := range validation.IsDNS1123Label(a.Namespace) {
		errs = append(errs, fmt.Errorf("namespace %q: %s", a.Namespace, msg))
	}
	if a.Domain == "" {
		errs = append(errs, errors.New("domain is empty; give the review apps' domain, e.g. review.example.org"))
	} else {
		for _, msg := range validation.IsDNS1123Subdomain(a.Host()) {
			errs = append(errs, fmt.Errorf("host %q: %s", a.Host(), msg))
		}
	}
	if a.IngressClass != "" {
		for _, msg := range validation.IsDNS1123Subdomain(a.IngressClass) {
			errs = append(errs, fmt.Errorf("ingress class %q: %s", a.IngressClass, msg))
		}
	}
	if _, err := a.image(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// image is the kustomize image replacement of the example's image by a.Image.
func (a App) image() (types.Image, error) {
	named, err := reference.ParseNormalizedNamed(a.Image)
	if err != nil {
		return types.Image{}, fmt.Errorf("image %q: %w", a.Image, err)
	}
	img := types.Image{Name: exampleImage, NewName: named.Name()}
	switch r := named.(type) {
	case reference.Digested: // a digest pins the content even when a tag is given too
		img.Digest = r.Digest().String()
	case reference.Tagged:
		img.NewTag = r.Tag()
	default:
		return types.Image{}, fmt.Errorf("image %q has neither tag nor digest", a.Image)
	}
	return img, nil
}

// Kustomization is the kustomization of the app: the overlay at overlay (a path relative to
// the kustomization's own directory) in a.Namespace, running a.Image, served at a.Host().
func (a App) Kustomization(overlay string) ([]byte, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	img, _ := a.image()
	replace := func(kind, name string, ops ...string) types.Patch {
		return types.Patch{
			Target: &types.Selector{ResId: resid.ResId{Gvk: resid.Gvk{Kind: kind}, Name: name}},
			Patch:  "[" + strings.Join(ops, ", ") + "]",
		}
	}
	op := func(verb, path string, value any) string {
		v, _ := json.Marshal(value)
		return fmt.Sprintf(`{"op": %q, "path": %q, "value": %s}`, verb, path, v)
	}
	ingress := []string{op("replace", "/spec/rules/0/host", a.Host())}
	if a.IngressClass != "" {
		ingress = append(ingress, op("add", "/spec/ingressClassName", a.IngressClass))
	}
	k := types.Kustomization{
		TypeMeta:  types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind},
		Namespace: a.Namespace,
		Resources: []string{"namespace.yaml", overlay},
		Images:    []types.Image{img},
		Labels: []types.Label{{
			Pairs:            map[string]string{LabelInstance: a.Name, LabelManagedBy: managedBy},
			IncludeTemplates: true, // the pods too, so that `kubectl get pods -l` finds them
		}},
		Patches: []types.Patch{
			replace("Ingress", "studip-web", ingress...),
			// Stud.IP builds its links from the public URL, which is the Ingress's.
			replace("ConfigMap", "studip-config", op("add", "/data/PROXY_URL", "https://"+a.Host()+"/")),
		},
	}
	return yaml.Marshal(k)
}

// namespace is the app's Namespace, whose pods are held to the restricted Pod Security
// Standard, as the example's are.
func (a App) namespace() ([]byte, error) {
	return yaml.Marshal(map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata": map[string]any{
			"name": a.Namespace,
			"labels": map[string]string{
				"app.kubernetes.io/name":             "studip",
				"app.kubernetes.io/component":        "review-app",
				"pod-security.kubernetes.io/enforce": "restricted",
				"pod-security.kubernetes.io/warn":    "restricted",
			},
		},
	})
}

// Build renders the app's manifests from the examples in dir (examples/, holding kubernetes/
// and kubernetes-review/), as one YAML stream: the Namespace first, as kubectl applies them.
func (a App) Build(dir string) ([]byte, error) {
	mem := filesys.MakeFsInMemory()
	const root = "/examples"
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != dir && !strings.HasPrefix(d.Name(), "kubernetes") {
			return filepath.SkipDir // compose/ and the like: not read
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.WriteFile(path.Join(root, filepath.ToSlash(rel)), data)
	})
	if err != nil {
		return nil, fmt.Errorf("reading the Kubernetes example: %w", err)
	}
	kust, err := a.Kustomization("../examples/kubernetes-review")
	if err != nil {
		return nil, err
	}
	ns, err := a.namespace()
	if err != nil {
		return nil, err
	}
	for name, data := range map[string][]byte{"kustomization.yaml": kust, "namespace.yaml": ns} {
		if err := mem.WriteFile("/review-app/"+name, data); err != nil {
			return nil, err
		}
	}
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy
	m, err := krusty.MakeKustomizer(opts).Run(mem, "/review-app")
	if err != nil {
		return nil, fmt.Errorf("building the review app from %s: %w", filepath.Join(dir, "kubernetes-review"), err)
	}
	return m.AsYaml()
}
