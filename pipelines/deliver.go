package pipelines

import (
	"context"
	"fmt"
	"path/filepath"

	"dagger.io/dagger"

	"gitlab.studip.de/studip/docker/plan"
)

// export writes t's images, all platforms in one OCI tarball, into dir on the host, named
// after t's first tag; `docker load` takes the engine's own platform from it.
func (p *Pipeline) export(ctx context.Context, t plan.Target, images []*dagger.Container, dir string) (string, error) {
	path := filepath.Join(dir, t.Tags[0].Name+".tar")
	written, err := images[0].Export(ctx, path, dagger.ContainerExportOpts{PlatformVariants: images[1:]})
	if err != nil {
		return "", fmt.Errorf("exporting %s to %s: %w", t, path, err)
	}
	return written, nil
}

// publish pushes t's images as one multi-platform index under each of t's tags: the tags
// that name one version for good first, and the floating ones only once those succeeded, so
// that a failure never moves a floating tag; or under pub.To alone. It returns the
// references pushed, each with its digest; on a dry run, the references it would push.
func (p *Pipeline) publish(ctx context.Context, t plan.Target, images []*dagger.Container, pub Publish, password *dagger.Secret) ([]string, error) {
	refs := []string{pub.To}
	if pub.To == "" {
		refs = refs[:0]
		for _, tag := range pushOrder(t.Tags) {
			refs = append(refs, t.Ref(tag))
		}
	}
	var pushed []string
	for _, ref := range refs {
		if pub.DryRun {
			pushed = append(pushed, ref)
			continue
		}
		digest, err := images[0].
			WithRegistryAuth(ref, pub.Username, password).
			Publish(ctx, ref, dagger.ContainerPublishOpts{PlatformVariants: images[1:]})
		if err != nil {
			return pushed, fmt.Errorf("pushing %s as %s: %w", t, ref, err)
		}
		pushed = append(pushed, digest)
	}
	return pushed, nil
}

// pushOrder is tags with the fixed ones first; a target whose tags all float (nightly, a test
// image) leads with its first tag. Otherwise plan order.
func pushOrder(tags []plan.Tag) []plan.Tag {
	var fixed, floating []plan.Tag
	for _, tag := range tags {
		if tag.Floating {
			floating = append(floating, tag)
		} else {
			fixed = append(fixed, tag)
		}
	}
	if len(fixed) == 0 {
		return tags
	}
	return append(fixed, floating...)
}
