package main

import (
	"context"

	"gitlab.studip.de/studip/docker/reviewapp"
)

func runReview(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "review", "--name SLUG --namespace NS --domain DOMAIN --image REF [--ingress-class C] [--examples DIR]",
		"Prints the Kubernetes manifests of a merge request's review app: examples/kubernetes-review\n"+
			"(the Kubernetes example with demo data, a throw-away MariaDB, one web pod and an Ingress)\n"+
			"in its own namespace, running REF, at https://SLUG.DOMAIN/. `kubectl apply -f -` takes them;\n"+
			"templates/review-app.yml does (docs/review-apps.md).")
	var a reviewapp.App
	fs.StringVar(&a.Name, "name", "", "the app's name, the first label of its host: the merge request's $CI_COMMIT_REF_SLUG")
	fs.StringVar(&a.Namespace, "namespace", "", "the app's own namespace, which stopping it deletes")
	fs.StringVar(&a.Domain, "domain", "", "the review apps' domain: the app is served at NAME.DOMAIN")
	fs.StringVar(&a.Image, "image", "", "the image to run, REPOSITORY:TAG or REPOSITORY@DIGEST")
	fs.StringVar(&a.IngressClass, "ingress-class", "", "the Ingress's class (default: the cluster's default class)")
	examples := fs.String("examples", "examples", "the examples folder, holding kubernetes/ and kubernetes-review/")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := a.Check(); err != nil {
		return usagef("%v", err)
	}
	dir, err := existingDir("--examples", *examples)
	if err != nil {
		return err
	}
	out, err := a.Build(dir)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}
