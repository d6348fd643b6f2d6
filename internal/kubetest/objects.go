// Package kubetest reads Kubernetes manifests into k8s.io/api types and checks their pods
// against the restricted Pod Security Standard, for the tests of the examples and of review
// apps. Only tests import it.
package kubetest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Objects are Kubernetes objects by kind and name, each decoded strictly (an unknown or
// duplicate field is an error) into the k8s.io/api type of its kind.
type Objects struct {
	Namespaces   map[string]*corev1.Namespace
	Deployments  map[string]*appsv1.Deployment
	StatefulSets map[string]*appsv1.StatefulSet
	Jobs         map[string]*batchv1.Job
	CronJobs     map[string]*batchv1.CronJob
	Services     map[string]*corev1.Service
	Claims       map[string]*corev1.PersistentVolumeClaim
	Secrets      map[string]*corev1.Secret
	ConfigMaps   map[string]*corev1.ConfigMap
	Ingresses    map[string]*networkingv1.Ingress
	// All is every object in the order read, for the checks that apply to all.
	All []metav1.Object
}

// New returns no objects, ready to Read.
func New() *Objects {
	return &Objects{
		Namespaces:   map[string]*corev1.Namespace{},
		Deployments:  map[string]*appsv1.Deployment{},
		StatefulSets: map[string]*appsv1.StatefulSet{},
		Jobs:         map[string]*batchv1.Job{},
		CronJobs:     map[string]*batchv1.CronJob{},
		Services:     map[string]*corev1.Service{},
		Claims:       map[string]*corev1.PersistentVolumeClaim{},
		Secrets:      map[string]*corev1.Secret{},
		ConfigMaps:   map[string]*corev1.ConfigMap{},
		Ingresses:    map[string]*networkingv1.Ingress{},
	}
}

// Read adds every document of src, a YAML stream of manifests, skipping those that hold
// only comments. A kind it does not know, and an object defined twice, are errors, so a test
// knows every workload whose pods it checks.
func (o *Objects) Read(src []byte) error {
	reader := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(src)))
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("splitting the documents: %w", err)
		}
		if json, err := yaml.YAMLToJSON(doc); err == nil && string(json) == "null" {
			continue // only comments
		}
		if err := o.add(doc); err != nil {
			return fmt.Errorf("decoding document %d: %w", n, err)
		}
	}
}

// add decodes one document into the type of its kind.
func (o *Objects) add(doc []byte) error {
	var meta metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return fmt.Errorf("reading apiVersion and kind: %w", err)
	}
	decoders := map[string]func([]byte) error{
		"v1 Namespace":                 decoder(o, o.Namespaces),
		"apps/v1 Deployment":           decoder(o, o.Deployments),
		"apps/v1 StatefulSet":          decoder(o, o.StatefulSets),
		"batch/v1 Job":                 decoder(o, o.Jobs),
		"batch/v1 CronJob":             decoder(o, o.CronJobs),
		"v1 Service":                   decoder(o, o.Services),
		"v1 PersistentVolumeClaim":     decoder(o, o.Claims),
		"v1 Secret":                    decoder(o, o.Secrets),
		"v1 ConfigMap":                 decoder(o, o.ConfigMaps),
		"networking.k8s.io/v1 Ingress": decoder(o, o.Ingresses),
	}
	kind := meta.APIVersion + " " + meta.Kind
	decode, ok := decoders[kind]
	if !ok {
		return fmt.Errorf("unknown kind %q", kind)
	}
	if err := decode(doc); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	return nil
}

// decoder decodes a document strictly into a new T and files it by name in into.
func decoder[T any, P interface {
	*T
	metav1.Object
}](o *Objects, into map[string]*T) func([]byte) error {
	return func(doc []byte) error {
		obj := P(new(T))
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return err
		}
		if _, dup := into[obj.GetName()]; dup {
			return fmt.Errorf("%q is defined twice", obj.GetName())
		}
		into[obj.GetName()] = (*T)(obj)
		o.All = append(o.All, obj)
		return nil
	}
}

// PodTemplates are the pod templates of every workload, by "Kind name".
func (o *Objects) PodTemplates() map[string]corev1.PodTemplateSpec {
	out := map[string]corev1.PodTemplateSpec{}
	for name, d := range o.Deployments {
		out["Deployment "+name] = d.Spec.Template
	}
	for name, s := range o.StatefulSets {
		out["StatefulSet "+name] = s.Spec.Template
	}
	for name, j := range o.Jobs {
		out["Job "+name] = j.Spec.Template
	}
	for name, c := range o.CronJobs {
		out["CronJob "+name] = c.Spec.JobTemplate.Spec.Template
	}
	return out
}
