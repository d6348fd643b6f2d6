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
	"time"

	"dagger.io/dagger"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
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
	// Rebuild builds and pushes a target even when the registry holds its images with the
	// build IDs this build would give them.
	Rebuild bool
	// Sign signs every pushed index and attests each platform image's SBOM; the zero value
	// publishes unsigned.
	Sign Signing
	// StageTo, if set, makes this a platform job: each platform's image goes to the staging
	// repository under its build ID, and nothing to the release repository.
	StageTo *Stage
	// AssembleFrom, if set, makes this an assemble job: it builds nothing, but pushes the
	// images that platform jobs staged there as the targets' indexes.
	AssembleFrom *Stage
	// To, if set, is the one reference to push each target as (a review image, say),
	// instead of the target's tags.
	To string
}

// Status is what became of a target.
type Status string

const (
	Built     Status = "built"     // built (and pushed, when publishing)
	Unchanged Status = "unchanged" // the registry holds it as this build would make it: nothing built
	Failed    Status = "failed"
)

// Result is what became of one target.
type Result struct {
	Target   plan.Target
	Status   Status
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
	run      string          // names this run, so that registry steps are not taken from the cache

	mu      sync.Mutex
	sources map[string]*sourceStage // by plan.Source
	digests map[imageKey]*resolution

	contextOnce sync.Once // the digest of Options.Dockerfiles
	context     string
	contextErr  error
}

// New prepares p's targets for the session dag and asks the engine for its platform, on
// which the platform-independent stages and the smoke tests run.
func New(ctx context.Context, dag *dagger.Client, p *plan.Plan, opts Options) (*Pipeline, error) {
	native, err := dag.DefaultPlatform(ctx)
	if err != nil {
		return nil, fmt.Errorf("asking the Dagger engine for its platform: %w", err)
	}
	return &Pipeline{dag: dag, plan: p, opts: opts, platform: native, run: time.Now().UTC().Format(time.RFC3339Nano),
		sources: map[string]*sourceStage{}, digests: map[imageKey]*resolution{}}, nil
}

// Run builds every target of the plan and applies steps to it, at most Options.Jobs targets
// at a time. A failed target does not stop the others: its Result holds the error. The
// results are in plan order; the error is for what keeps every target from starting.
func (p *Pipeline) Run(ctx context.Context, steps Steps) ([]Result, error) {
	var creds *credentials
	if steps.Publish != nil && !steps.Publish.DryRun {
		var err error
		if creds, err = p.credentials(ctx, *steps.Publish); err != nil {
			return nil, err
		}
	}
	results := make([]Result, len(p.plan.Targets))
	slots := make(chan struct{}, max(p.opts.Jobs, 1))
	var wg sync.WaitGroup
	for i, t := range p.plan.Targets {
		wg.Go(func() {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				results[i] = p.runTarget(ctx, t, steps, creds)
			case <-ctx.Done():
				results[i] = Result{Target: t, Err: fmt.Errorf("building %s: %w", t, ctx.Err())}
			}
		})
	}
	wg.Wait()
	return results, nil
}

func (p *Pipeline) runTarget(ctx context.Context, t plan.Target, steps Steps, creds *credentials) Result {
	r := p.runSteps(ctx, t, steps, creds)
	switch {
	case r.Err != nil:
		r.Status = Failed
	case r.Status == "":
		r.Status = Built
	}
	return r
}

func (p *Pipeline) runSteps(ctx context.Context, t plan.Target, steps Steps, creds *credentials) Result {
	pub := steps.Publish
	// A push to one reference of the caller's (To) builds whatever that reference holds.
	if pub != nil && !pub.Rebuild && pub.To == "" {
		if r, done := p.skip(ctx, t, *pub, creds); done {
			return r
		}
	}
	r := Result{Target: t}
	if pub != nil && pub.AssembleFrom != nil {
		images, err := p.staged(ctx, t, *pub.AssembleFrom, creds)
		if err != nil {
			r.Err = err
			return r
		}
		r.Pushed, r.Err = p.publish(ctx, t, images, *pub, creds)
		return r
	}
	images, err := p.build(ctx, t)
	if err != nil {
		r.Err = err
		return r
	}
	// A platform job tests what runs natively; an emulated platform is not tested, here or in
	// the assemble job.
	if steps.Test && (pub == nil || pub.StageTo == nil || p.builtNatively(t)) {
		if r.Err = p.smokeTest(ctx, t); r.Err != nil {
			return r
		}
	}
	if steps.Export != "" {
		if r.Exported, r.Err = p.export(ctx, t, images, steps.Export); r.Err != nil {
			return r
		}
	}
	switch {
	case pub != nil && pub.StageTo != nil:
		r.Pushed, r.Err = p.staging(ctx, t, images, *pub, creds)
	case pub != nil:
		r.Pushed, r.Err = p.publish(ctx, t, images, *pub, creds)
	}
	return r
}

// skip finishes a publish of t early when building would change nothing: the release
// repository holds t's images with the build IDs this build would give them (then only
// tags that point elsewhere are moved, by the assemble job in a staged pipeline), or a
// platform job finds them all staged already.
func (p *Pipeline) skip(ctx context.Context, t plan.Target, pub Publish, creds *credentials) (Result, bool) {
	r := Result{Target: t, Status: Unchanged}
	unchanged, err := p.unchanged(ctx, t, creds)
	switch {
	case err != nil:
		r.Err = err
		return r, true
	case unchanged != nil && pub.StageTo == nil:
		r.Pushed, r.Err = p.moveFloating(ctx, t, *unchanged, pub, creds)
		return r, true
	case unchanged != nil:
		return r, true
	case pub.StageTo != nil:
		staged, err := p.allStaged(ctx, t, *pub.StageTo, creds)
		r.Err = err
		return r, staged || err != nil
	}
	return r, false
}

// builtNatively says whether one of t's platforms is the engine's own.
func (p *Pipeline) builtNatively(t plan.Target) bool {
	return slices.ContainsFunc(t.Platforms, func(pl versions.Platform) bool { return platformOf(pl) == p.platform })
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
// its version, owned by the web server user, with the labels of t, the tree's revision and
// creation time, and the build ID. A test image (no Source) is its runtime build alone.
func (p *Pipeline) image(ctx context.Context, t plan.Target, pl dagger.Platform) (*dagger.Container, error) {
	resolved, id, err := p.identify(ctx, t, pl)
	if err != nil {
		return nil, err
	}
	img := p.runtime(t.Runtime, pl, resolved)
	for _, l := range t.Labels {
		img = img.WithLabel(l.Key, l.Value)
	}
	if t.Source != nil {
		src, err := p.source(ctx, t)
		if err != nil {
			return nil, err
		}
		tree, err := p.prepared(ctx, t, src)
		if err != nil {
			return nil, err
		}
		img = img.
			WithDirectory(studipRoot, tree, dagger.ContainerWithDirectoryOpts{Owner: webUser}).
			WithLabel(plan.LabelRevision, src.revision)
		// A test image, which has no source, is left without one unless the plan sets it.
		if !slices.ContainsFunc(t.Labels, func(l plan.Label) bool { return l.Key == plan.LabelCreated }) {
			created, err := p.created(ctx, t, src)
			if err != nil {
				return nil, fmt.Errorf("labelling %s: %w", t, err)
			}
			if created != "" {
				img = img.WithLabel(plan.LabelCreated, created)
			}
		}
	}
	return img.WithLabel(plan.LabelBuildID, id), nil
}

// From docs/image-contract.md.
const (
	studipRoot = "/var/www/studip"
	webUser    = "www-data:www-data" // uid 33 on Debian, 82 on Alpine: resolved in the image
)

// runtime is the Docker build of rt for platform pl, its base images pinned to the digests
// in r. Equal Runtime values make equal calls, which the engine builds once for all the
// targets that share them.
func (p *Pipeline) runtime(rt plan.Runtime, pl dagger.Platform, r plan.Resolved) *dagger.Container {
	args := make([]dagger.BuildArg, 0, len(rt.BuildArgs)+len(rt.Bases))
	for _, a := range rt.BuildArgs {
		args = append(args, dagger.BuildArg{Name: a.Name, Value: a.Value})
	}
	for _, b := range rt.Bases {
		args = append(args, dagger.BuildArg{Name: b.Arg, Value: r.Images[b.Image]})
	}
	return p.buildContext().DockerBuild(dagger.DirectoryDockerBuildOpts{
		Dockerfile: rt.Dockerfile,
		Target:     rt.Target,
		Platform:   pl,
		BuildArgs:  args,
	})
}

// buildContext is the runtime Dockerfiles' build context: Options.Dockerfiles without the Go
// tests and their data that live there, which no build reads and whose changes must not
// change a build ID.
func (p *Pipeline) buildContext() *dagger.Directory {
	return p.dag.Host().Directory(p.opts.Dockerfiles, dagger.HostDirectoryOpts{Exclude: []string{"**/*.go", "**/testdata"}})
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
