package daggertest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"dagger.io/dagger"
)

// The fake must answer the SDK's own queries: these tests drive it through the real client.

func TestContentAddressed(t *testing.T) {
	ctx := context.Background()
	e := New("linux/arm64")
	dag, err := e.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	build := func() *dagger.Container {
		return dag.Container().From("alpine").
			WithEnvVariable("A", "1").
			WithMountedCache("/cache", dag.CacheVolume("c"), dagger.ContainerWithMountedCacheOpts{Owner: "1:1"}).
			WithNewFile("/f", "line \"one\"\nline two\n").
			WithExec([]string{"true"})
	}
	for range 3 { // the SDK sends arguments in a different order each time
		if _, err := build().Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	syncs := e.Evaluated("sync")
	if len(syncs) != 3 || syncs[0].Node != syncs[1].Node || syncs[1].Node != syncs[2].Node {
		t.Fatalf("the same chain is not one node: %v", syncs)
	}
	n := syncs[0].Node
	if got := n.Platform(); got != "linux/arm64" {
		t.Errorf("Platform() = %q, want the engine's linux/arm64", got)
	}
	file := n.Steps("withNewFile")[0]
	if got := file.Str("contents"); got != "line \"one\"\nline two\n" {
		t.Errorf("string argument decoded as %q", got)
	}
	cache := n.Steps("withMountedCache")[0].Ref("cache")
	if cache == nil || cache.Field != "cacheVolume" || cache.Str("key") != "c" {
		t.Errorf("object argument not resolved to its node: %v", n.Steps("withMountedCache")[0])
	}
}

func TestPublishAndExecError(t *testing.T) {
	ctx := context.Background()
	e := New("linux/amd64")
	dag, err := e.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	amd := dag.Container(dagger.ContainerOpts{Platform: "linux/amd64"}).From("alpine")
	arm := dag.Container(dagger.ContainerOpts{Platform: "linux/arm64"}).From("alpine")
	opts := dagger.ContainerPublishOpts{PlatformVariants: []*dagger.Container{arm}}
	a, err := amd.Publish(ctx, "r.example/x:1", opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := amd.Publish(ctx, "r.example/x:latest", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, "r.example/x:1@sha256:") || strings.TrimPrefix(a, "r.example/x:1") != strings.TrimPrefix(b, "r.example/x:latest") {
		t.Errorf("equal content should push with equal digests: %s, %s", a, b)
	}
	var platforms []string
	for _, n := range e.Evaluated("publish")[0].Inputs() {
		platforms = append(platforms, n.Platform())
	}
	if strings.Join(platforms, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("publish inputs are on %v", platforms)
	}

	e.FailExec(func(n *Node) bool { return n.Field == "withExec" && n.Platform() == "linux/arm64" }, "boom\n")
	_, err = arm.WithExec([]string{"make", "all"}).Sync(ctx)
	var exec *dagger.ExecError
	if !errors.As(err, &exec) || exec.Stderr != "boom\n" || strings.Join(exec.Cmd, " ") != "make all" {
		t.Fatalf("want an ExecError for make all with stderr, got %#v", err)
	}
	if _, err := amd.WithExec([]string{"make", "all"}).Sync(ctx); err != nil {
		t.Errorf("only arm64 should fail: %v", err)
	}

	e.FailPublish(func(address string) bool { return strings.HasSuffix(address, ":2") })
	if _, err := amd.Publish(ctx, "r.example/x:2"); err == nil || !strings.Contains(err.Error(), "r.example/x:2") {
		t.Errorf("want a failed push naming the address, got %v", err)
	}
}

func TestFileContents(t *testing.T) {
	ctx := context.Background()
	e := New("linux/amd64")
	dag, err := e.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const url = "https://git.example/app.git"
	e.GitFile(url, "", "package.json", `{"scripts": {"build": "rspack build"}}`)
	e.GitFile(url, "v6.0.3", "package.json", `{"scripts": {"webpack-prod": "webpack"}}`)
	e.HostFile("/home/me/app", "./package.json", `{"scripts": {}}`)

	// A tree of a resolved commit, as the pipelines check out a version.
	at := func(ref string) *dagger.Directory {
		repo := dag.Git(url)
		commit, err := repo.Ref(ref).Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return repo.Commit(commit).Tree(dagger.GitRefTreeOpts{DiscardGitDir: true})
	}
	tests := []struct {
		name    string
		dir     *dagger.Directory
		path    string
		want    string
		wantErr string
	}{
		{name: "the file of the ref", dir: at("v6.0.3"), path: "package.json", want: `{"scripts": {"webpack-prod": "webpack"}}`},
		{name: "another ref reads the file of every ref", dir: at("main"), path: "package.json", want: `{"scripts": {"build": "rspack build"}}`},
		{name: "a tree of a ref itself", dir: dag.Git(url).Ref("v6.0.3").Tree(), path: "package.json", want: `{"scripts": {"webpack-prod": "webpack"}}`},
		{name: "a host directory", dir: dag.Host().Directory("/home/me/app", dagger.HostDirectoryOpts{Gitignore: true}), path: "package.json", want: `{"scripts": {}}`},
		{name: "a file nobody gave", dir: at("main"), path: "composer.json", wantErr: "lstat /composer.json: no such file or directory"},
		{name: "another repository", dir: dag.Git("https://git.example/other.git").Ref("main").Tree(), path: "package.json", wantErr: "no such file or directory"},
		{name: "a directory the fake cannot know", dir: at("main").WithNewDirectory("x"), path: "package.json", wantErr: "only a file of a git tree or a host directory can be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.dir.File(tt.path).Contents(ctx)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("contents = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
