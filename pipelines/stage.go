package pipelines

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"dagger.io/dagger"

	"gitlab.studip.de/studip/docker/plan"
)

// Stage is a staging repository: where a CI pipeline's platform jobs, each on a runner of
// its platform, push their images one platform at a time, tagged with the build ID, for an
// assemble job to make the multi-platform indexes of. Its tags never reach the release
// repository. Password reaches the engine only as a Dagger secret.
type Stage struct {
	Repository         string
	Username, Password string
}

// ref is where the image with build ID id is staged: the ID's hex digits as the tag, so
// that equal inputs meet at one tag and a platform job finds what is staged already.
func (s Stage) ref(id string) string { return s.Repository + ":" + strings.TrimPrefix(id, "sha256:") }

// staging pushes each of images, t's per platform, to the staging repository under its build
// ID; on a dry run it only names the references.
func (p *Pipeline) staging(ctx context.Context, t plan.Target, images []*dagger.Container, pub Publish, creds *credentials) ([]string, error) {
	refs, err := p.stagedRefs(ctx, t, *pub.StageTo)
	if err != nil || pub.DryRun {
		return refs, err
	}
	pushed := make([]string, len(refs))
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Go(func() {
			pushed[i], errs[i] = images[i].WithRegistryAuth(ref, pub.StageTo.Username, creds.stage).Publish(ctx, ref)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("staging %s for %s as %s: %w", t, t.Platforms[i], ref, errs[i])
			}
		})
	}
	wg.Wait()
	return pushed, errors.Join(errs...)
}

// stagedRefs are the staging references of t's images, in t.Platforms order.
func (p *Pipeline) stagedRefs(ctx context.Context, t plan.Target, s Stage) ([]string, error) {
	refs := make([]string, len(t.Platforms))
	for i, pl := range t.Platforms {
		_, id, err := p.identify(ctx, t, platformOf(pl))
		if err != nil {
			return nil, err
		}
		refs[i] = s.ref(id)
	}
	return refs, nil
}

// staged pulls t's images from the staging repository, in t.Platforms order: what the
// platform jobs built from the inputs this job resolves. Each job resolves the base images'
// digests itself (only the source commit is pinned for the whole pipeline), so a digest that
// moved in between gives another build ID here, and the image is not found. A platform
// whose job found the release repository holding its image unchanged staged nothing: that
// image comes from there. An image found in neither fails t, naming it; a platform job that
// failed has failed the pipeline already.
func (p *Pipeline) staged(ctx context.Context, t plan.Target, s Stage, creds *credentials) ([]*dagger.Container, error) {
	refs, err := p.stagedRefs(ctx, t, s)
	if err != nil {
		return nil, err
	}
	released := t.Ref(pushOrder(t.Tags)[0])
	images := make([]*dagger.Container, len(refs))
	for i, ref := range refs {
		pl := platformOf(t.Platforms[i])
		if images[i] = p.fromStage(ref, pl, s, creds); holds(ctx, images[i], s, ref) {
			continue
		}
		if images[i] = p.pull(released, pl, creds); holds(ctx, images[i], s, ref) {
			continue
		}
		return nil, fmt.Errorf("assembling %s: no image of %s staged as %s, nor released as %s: its platform job failed, or built other inputs than this job resolves "+
			"(a base image's digest moved since it ran, or the source was not pinned); run the pipeline again", t, t.Platforms[i], ref, released)
	}
	return images, nil
}

// fromStage is the image staged as ref for platform pl, read with the staging login if any.
func (p *Pipeline) fromStage(ref string, pl dagger.Platform, s Stage, creds *credentials) *dagger.Container {
	c := p.dag.Container(dagger.ContainerOpts{Platform: pl})
	if creds != nil {
		c = c.WithRegistryAuth(ref, s.Username, creds.stage)
	}
	return c.From(ref)
}

// holds says whether img can be read and has the build ID that ref, a reference of the
// staging repository s, is tagged with.
func holds(ctx context.Context, img *dagger.Container, s Stage, ref string) bool {
	got, err := img.Label(ctx, plan.LabelBuildID)
	return err == nil && got == "sha256:"+strings.TrimPrefix(ref, s.Repository+":")
}

// allStaged says whether every image of t is in the staging repository already, so that a
// platform job retried, or run again on unchanged inputs, builds nothing.
func (p *Pipeline) allStaged(ctx context.Context, t plan.Target, s Stage, creds *credentials) (bool, error) {
	refs, err := p.stagedRefs(ctx, t, s)
	if err != nil {
		return false, err
	}
	for i, ref := range refs {
		if !holds(ctx, p.fromStage(ref, platformOf(t.Platforms[i]), s, creds), s, ref) {
			return false, nil
		}
	}
	return true, nil
}
