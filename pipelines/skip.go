package pipelines

import (
	"context"
	"fmt"
	"strings"

	"dagger.io/dagger"

	"gitlab.studip.de/studip/docker/plan"
)

// published is the index that a target's first pushed tag points at.
type published struct {
	ref    string // the tag read
	digest string // its index's digest
}

// pinned is the index by digest.
func (pb published) pinned() string { return pin(pb.ref, pb.digest) }

// unchanged reads, for each platform, the build ID of the image that t's first pushed tag
// points at. When every one equals the ID this build would give, it returns that index:
// building again would make the same images. A registry that cannot be read (no such tag,
// no access) or an image without a build ID means build (nil). It builds nothing.
func (p *Pipeline) unchanged(ctx context.Context, t plan.Target, creds *credentials) (*published, error) {
	ref := t.Ref(pushOrder(t.Tags)[0])
	var index string
	for _, pl := range t.Platforms {
		_, want, err := p.identify(ctx, t, platformOf(pl))
		if err != nil {
			return nil, err
		}
		img := p.pull(ref, platformOf(pl), creds)
		got, err := img.Label(ctx, plan.LabelBuildID)
		if err != nil || got != want {
			return nil, nil
		}
		digest, err := indexDigest(ctx, img)
		if err != nil || (index != "" && digest != index) {
			return nil, nil
		}
		index = digest
	}
	return &published{ref: ref, digest: index}, nil
}

// moveFloating points every other tag of t at the index pb already holds, where it does
// not yet: the floating tags that a newer build took over, and a fixed tag an earlier
// publish failed to push. Fixed tags go first. It returns what it pushed.
func (p *Pipeline) moveFloating(ctx context.Context, t plan.Target, pb published, pub Publish, creds *credentials) ([]string, error) {
	var moved []string
	for _, tag := range pushOrder(t.Tags)[1:] {
		ref := t.Ref(tag)
		if digest, err := indexDigest(ctx, p.pull(ref, platformOf(t.Platforms[0]), creds)); err == nil && digest == pb.digest {
			continue
		}
		if pub.DryRun {
			moved = append(moved, ref)
			continue
		}
		if err := p.copyIndex(ctx, pb.pinned(), ref, creds); err != nil {
			return moved, fmt.Errorf("pointing %s at %s: %w", ref, pb.pinned(), explain(err))
		}
		moved = append(moved, ref+"@"+pb.digest)
	}
	return moved, nil
}

// pull is the image ref points at for platform pl, read with the registry login if any.
func (p *Pipeline) pull(ref string, pl dagger.Platform, creds *credentials) *dagger.Container {
	c := p.dag.Container(dagger.ContainerOpts{Platform: pl})
	if creds != nil && creds.username != "" {
		c = c.WithRegistryAuth(ref, creds.username, creds.password)
	}
	return c.From(ref)
}

// indexDigest is the digest of what img was pulled from.
func indexDigest(ctx context.Context, img *dagger.Container) (string, error) {
	ref, err := img.ImageRef(ctx)
	if err != nil {
		return "", err
	}
	_, digest, ok := strings.Cut(ref, "@")
	if !ok {
		return "", fmt.Errorf("the engine answered %q, without a digest", ref)
	}
	return digest, nil
}
