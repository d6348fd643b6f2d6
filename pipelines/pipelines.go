// Package pipelines turns plan targets into Dagger calls: it builds each target for all its
// platforms, smoke-tests it on the engine's own platform, and exports or publishes it.
//
// Stages are shared as widely as their inputs allow, so that the engine runs each once:
// the Stud.IP tree with its npm and composer builds once per version, natively (assets and
// PHP dependencies are the same on every platform); the PHP runtime once per equal
// plan.Runtime and platform, whichever versions use it. Only the final image, runtime plus
// tree, is per version, base and platform, and it runs nothing.
//
// The package computes no version, tag, base image or build argument: those come from the
// plan. Every error names the target, and the platform where there is one.
package pipelines

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"dagger.io/dagger"

	"gitlab.studip.de/studip/docker/plan"
)

// Options configure a Pipeline.
type Options struct {
	// Dockerfiles is the host directory holding the runtime Dockerfiles, their build context.
	Dockerfiles string
	// Source, if set, is a local Stud.IP checkout that every target builds instead of its
	// git ref: read with its own .gitignore applied and without .git.
	Source string
	// Jobs bounds how many targets run at once; less than 1 means 1.
	Jobs int
}

// Steps say what Run does with each target once it is built for all its platforms.
type Steps struct {
	Test    bool     // smoke-test on the engine's platform
	Export  string   // host directory: write one multi-platform OCI tarball per target there
	Publish *Publish // push every tag; nil for none
}

// Publish is how to push. Password reaches the engine only as a Dagger secret.
type Publish struct {
	Username, Password string
	DryRun             bool // do everything but push
}

// Result is what became of one target.
type Result struct {
	Target   plan.Target
	Exported string   // the tarball written (Steps.Export)
	Pushed   []string // references pushed, each with its digest, in push order; without digest on a dry run
	Err      error
}

// Pipeline runs the targets of one plan in one Dagger session.
type Pipeline struct {
	dag      *dagger.Client
	plan     *plan.Plan
	opts     Options
	platform dagger.Platform // the engine's own

	mu      sync.Mutex
	sources map[string]*sourceStage // by plan.Source
}

// New prepares p's targets for the session dag and asks the engine for its platform, on
// which the platform-independent stages and the smoke tests run.
func New(ctx context.Context, dag *dagger.Client, p *plan.Plan, opts Options) (*Pipeline, error) {
	native, err := dag.DefaultPlatform(ctx)
	if err != nil {
		return nil, fmt.Errorf("asking the Dagger engine for its platform: %w", err)
	}
	return &Pipeline{dag: dag, plan: p, opts: opts, platform: native, sources: map[string]*sourceStage{}}, nil
}

// Run builds every target of the plan and applies steps to it, at most Options.Jobs targets
// at a time. A failed target does not stop the others: its Result holds the error. The
// results are in plan order; the error is for what keeps every target from starting.
func (p *Pipeline) Run(ctx context.Context, steps Steps) ([]Result, error) {
	var password *dagger.Secret
	if steps.Publish != nil && !steps.Publish.DryRun {
		// Loaded by ID from here on, so that the plaintext goes to the engine in one request
		// (a lazy secret would send it again with every push that uses it).
		id, err := p.dag.SetSecret("REGISTRY_PASSWORD", steps.Publish.Password).ID(ctx)
		if err != nil {
			return nil, fmt.Errorf("handing the registry password to the engine: %w", err)
		}
		password = dagger.Ref[*dagger.Secret](p.dag, id)
	}
	results := make([]Result, len(p.plan.Targets))
	slots := make(chan struct{}, max(p.opts.Jobs, 1))
	var wg sync.WaitGroup
	for i, t := range p.plan.Targets {
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				results[i] = p.runTarget(ctx, t, steps, password)
			case <-ctx.Done():
				results[i] = Result{Target: t, Err: fmt.Errorf("building %s: %w", t, ctx.Err())}
			}
		})
	}
	wg.Wait()
	return results, nil
}

func (p *Pipeline) runTarget(ctx context.Context, t plan.Target, steps Steps, password *dagger.Secret) Result {
	r := Result{Target: t}
	images, err := p.build(ctx, t)
	if err != nil {
		r.Err = err
		return r
	}
	if steps.Test {
		if r.Err = p.smokeTest(ctx, t); r.Err != nil {
			return r
		}
	}
	if steps.Export != "" {
		if r.Exported, r.Err = p.export(ctx, t, images, steps.Export); r.Err != nil {
			return r
		}
	}
	if steps.Publish != nil {
		r.Pushed, r.Err = p.publish(ctx, t, images, *steps.Publish, password)
	}
	return r
}

// build makes t's image for each of its platforms, concurrently, and waits until the engine
// has built them all. The images are in t.Platforms order.
func (p *Pipeline) build(ctx context.Context, t plan.Target) ([]*dagger.Container, error) {
	images := make([]*dagger.Container, len(t.Platforms))
	errs := make([]error, len(t.Platforms))
	var wg sync.WaitGroup
	for i, pl := range t.Platforms {
		wg.Go(func() {
			img, err := p.image(ctx, t, dagger.Platform(pl.String()))
			if err == nil {
				_, err = img.Sync(ctx)
			}
			images[i] = img
			if err != nil {
				errs[i] = fmt.Errorf("building %s for %s: %w", t, pl, explain(err))
			}
		})
	}
	wg.Wait()
	return images, errors.Join(errs...)
}

// image is t's image for platform pl: the runtime, plus for a Stud.IP target the tree of
// its version, owned by the web server user, with the labels of t and the tree's revision.
// A test image (no Source) is its runtime build alone.
func (p *Pipeline) image(ctx context.Context, t plan.Target, pl dagger.Platform) (*dagger.Container, error) {
	img := p.runtime(t.Runtime, pl)
	for _, l := range t.Labels {
		img = img.WithLabel(l.Key, l.Value)
	}
	if t.Source == nil {
		return img, nil
	}
	src, err := p.source(ctx, t)
	if err != nil {
		return nil, err
	}
	return img.
		WithDirectory(studipRoot, src.tree, dagger.ContainerWithDirectoryOpts{Owner: webUser}).
		WithLabel(plan.LabelRevision, src.revision), nil
}

// From docs/image-contract.md.
const (
	studipRoot = "/var/www/studip"
	webUser    = "www-data:www-data" // uid 33 on Debian, 82 on Alpine: resolved in the image
)

// runtime is the Docker build of rt for platform pl. Equal Runtime values make equal calls,
// which the engine builds once for all the targets that share them.
func (p *Pipeline) runtime(rt plan.Runtime, pl dagger.Platform) *dagger.Container {
	args := make([]dagger.BuildArg, len(rt.BuildArgs))
	for i, a := range rt.BuildArgs {
		args[i] = dagger.BuildArg{Name: a.Name, Value: a.Value}
	}
	return p.dag.Host().Directory(p.opts.Dockerfiles).DockerBuild(dagger.DirectoryDockerBuildOpts{
		Dockerfile: rt.Dockerfile,
		Target:     rt.Target,
		Platform:   pl,
		BuildArgs:  args,
	})
}

// explain adds a failed command's output to err: the SDK's ExecError message leaves it out.
func explain(err error) error {
	var exec *dagger.ExecError
	if !errors.As(err, &exec) {
		return err
	}
	out := strings.TrimSpace(exec.Stderr)
	if out == "" {
		out = strings.TrimSpace(exec.Stdout)
	}
	if out == "" {
		return err
	}
	lines := strings.Split(out, "\n")
	const keep = 20 // the end of a build log says what failed
	if len(lines) > keep {
		lines = slices.Concat([]string{"..."}, lines[len(lines)-keep:])
	}
	return fmt.Errorf("%w\n    %s", err, strings.Join(lines, "\n    "))
}
