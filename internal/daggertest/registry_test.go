package daggertest

import (
	"context"
	"strings"
	"testing"

	"dagger.io/dagger"
)

// What a publish pushes can be read back per platform: its labels and the index digest; a
// reference nobody pushed resolves like a public image, one marked unreadable fails.
func TestRegistry(t *testing.T) {
	ctx := context.Background()
	e := New("linux/amd64")
	dag, err := e.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	image := func(pl, id string) *dagger.Container {
		return dag.Container(dagger.ContainerOpts{Platform: dagger.Platform(pl)}).From("alpine").WithLabel("id", id)
	}
	const ref = "registry.example/app:1"
	pushed, err := image("linux/amd64", "a").Publish(ctx, ref, dagger.ContainerPublishOpts{PlatformVariants: []*dagger.Container{image("linux/arm64", "b")}})
	if err != nil {
		t.Fatal(err)
	}
	for pl, want := range map[string]string{"linux/amd64": "a", "linux/arm64": "b"} {
		pulled := dag.Container(dagger.ContainerOpts{Platform: dagger.Platform(pl)}).From(ref)
		if got, err := pulled.Label(ctx, "id"); err != nil || got != want {
			t.Errorf("%s: label %q, %v; want %q", pl, got, err, want)
		}
		if got, err := pulled.ImageRef(ctx); err != nil || got != pushed {
			t.Errorf("%s: imageRef %q, %v; want the pushed %q", pl, got, err, pushed)
		}
	}
	public, err := dag.Container().From("php:8.3-apache").ImageRef(ctx)
	if err != nil || !strings.HasPrefix(public, "php:8.3-apache@sha256:") {
		t.Errorf("a public image resolves to %q, %v", public, err)
	}
	e.SetUnreadable(ref)
	if _, err := dag.Container().From(ref).Label(ctx, "id"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("an unreadable tag answers %v, want not found", err)
	}
}
