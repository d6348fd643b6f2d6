package daggertest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"dagger.io/dagger"
)

// The behaviour helpers read what a session did through the real SDK's requests.
func TestBehaviour(t *testing.T) {
	ctx := context.Background()
	e := New("linux/amd64")
	dag, err := e.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	build := func(platform dagger.Platform) *dagger.Container {
		return dag.Directory().DockerBuild(dagger.DirectoryDockerBuildOpts{Dockerfile: "apache/Dockerfile", Platform: platform,
			BuildArgs: []dagger.BuildArg{{Name: "PHP_VERSION", Value: "8.3"}}}).
			WithLabel("version", "6.0.3").
			WithEnvVariable("A", "1").
			WithEnvVariable("A", "2")
	}
	amd, arm := build("linux/amd64"), build("linux/arm64")
	tree := dag.Container().From("node:22").WithExec([]string{"npm", "ci"}).WithExec([]string{"npm", "run", "build"}).Directory("/src")
	amd = amd.WithDirectory("/app", tree)
	arm = arm.WithDirectory("/app", tree)
	for _, c := range []*dagger.Container{amd, arm} {
		if _, err := c.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := amd.WithExec([]string{"php", "-m"}).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := dag.Git("https://git.example/x.git").Ref("v1").Commit(ctx); err != nil {
		t.Fatal(err)
	}
	secret, err := dag.SetSecret("pw", "s3cret").ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pw := dagger.Ref[*dagger.Secret](dag, secret)
	variants := dagger.ContainerPublishOpts{PlatformVariants: []*dagger.Container{arm}}
	if _, err := amd.WithRegistryAuth("r.example", "bot", pw).Publish(ctx, "r.example/x:1", variants); err != nil {
		t.Fatal(err)
	}
	e.FailPublish(func(address string) bool { return strings.HasSuffix(address, ":latest") })
	if _, err := amd.Publish(ctx, "r.example/x:latest", variants); err == nil {
		t.Fatal("the failing push succeeded")
	}
	if _, err := amd.Export(ctx, "/out/x.tar", dagger.ContainerExportOpts{PlatformVariants: []*dagger.Container{arm}}); err != nil {
		t.Fatal(err)
	}

	if runs := e.Runs("npm"); len(runs) != 2 {
		t.Errorf("Runs(npm) = %v, want npm ci and npm run build once each, however many images use them", runs)
	}
	if runs := e.Runs("npm", "run"); len(runs) != 1 || !slices.Equal(runs[0].Command(), []string{"npm", "run", "build"}) {
		t.Errorf("Runs(npm, run) = %v", runs)
	}
	if builds := e.DockerBuilds(); len(builds) != 2 || builds[0].BuildArgs()["PHP_VERSION"] != "8.3" {
		t.Errorf("DockerBuilds = %v, want one per platform", builds)
	}
	if images, checks := e.Images(), e.Checks(); len(images) != 2 || len(checks) != 1 || !slices.Equal(checks[0].Command(), []string{"php", "-m"}) {
		t.Errorf("Images = %v, Checks = %v", images, checks)
	}
	img := e.Images()[0]
	if img.Labels()["version"] != "6.0.3" || img.Env()["A"] != "2" || img.DockerBuild().Str("dockerfile") != "apache/Dockerfile" {
		t.Errorf("labels %v, env %v, build %v of %v", img.Labels(), img.Env(), img.DockerBuild(), img)
	}
	if pulls := e.Pulls(); !slices.Equal(pulls, []string{"node:22"}) {
		t.Errorf("Pulls = %q", pulls)
	}
	if refs := e.Resolved(); len(refs) != 1 || refs[0].Str("name") != "v1" || refs[0].Parent.Str("url") != "https://git.example/x.git" {
		t.Errorf("Resolved = %v", refs)
	}
	pushes := e.Pushes()
	if len(pushes) != 2 || pushes[0].Ref != "r.example/x:1" || !strings.HasPrefix(pushes[0].Digest, "r.example/x:1@sha256:") ||
		!slices.Equal(pushes[0].Platforms, []string{"linux/amd64", "linux/arm64"}) || pushes[0].Err != nil {
		t.Errorf("Pushes = %+v", pushes)
	}
	if len(pushes) == 2 && (pushes[1].Err == nil || pushes[1].Digest != "") {
		t.Errorf("the failed push: %+v", pushes[1])
	}
	if ex := e.Exports(); len(ex) != 1 || ex[0].Path != "/out/x.tar" || len(ex[0].Platforms) != 2 {
		t.Errorf("Exports = %+v", ex)
	}
	if s := e.Secrets(); len(s) != 1 || s[0].Str("plaintext") != "s3cret" {
		t.Errorf("Secrets = %v", s)
	}
	if got := len(e.Requests("s3cret")); got != 1 {
		t.Errorf("the secret went out in %d requests, want 1", got)
	}

	e.FailDockerBuild("apache/Dockerfile", "linux/arm64", "boom\n")
	if _, err := arm.WithExec([]string{"true"}).Sync(ctx); err == nil || !strings.Contains(err.Error(), "exit code: 1") {
		t.Errorf("a container on the failed build: %v", err)
	}
	if _, err := amd.WithExec([]string{"true"}).Sync(ctx); err != nil {
		t.Errorf("the other platform's build failed too: %v", err)
	}
}
