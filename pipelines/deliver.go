package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"

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
// that a failure never moves a floating tag. When signing, the index is signed and each
// platform image's SBOM attested right after the first push, before any other tag points
// at it. It returns the references pushed, each with its digest; on a dry run, the
// references it would push.
func (p *Pipeline) publish(ctx context.Context, t plan.Target, images []*dagger.Container, pub Publish, creds *credentials) ([]string, error) {
	var pushed []string
	for i, tag := range pushOrder(t.Tags) {
		ref := t.Ref(tag)
		if pub.DryRun {
			pushed = append(pushed, ref)
			continue
		}
		digested, err := images[0].
			WithRegistryAuth(ref, pub.Username, creds.password).
			Publish(ctx, ref, dagger.ContainerPublishOpts{PlatformVariants: images[1:]})
		if err != nil {
			return pushed, fmt.Errorf("pushing %s as %s: %w", t, ref, err)
		}
		pushed = append(pushed, digested)
		if i == 0 && pub.Sign.Enabled() {
			if err := p.attestAndSign(ctx, t, digested, creds); err != nil {
				return pushed, err
			}
		}
	}
	return pushed, nil
}

// attestAndSign attests an SBOM for each platform image of the index digested (a reference
// with digest) and signs the index and its images.
func (p *Pipeline) attestAndSign(ctx context.Context, t plan.Target, digested string, creds *credentials) error {
	errs := make([]error, len(t.Platforms))
	var wg sync.WaitGroup
	for i, pl := range t.Platforms {
		wg.Go(func() {
			if err := p.attestSBOM(ctx, digested, platformOf(pl), creds); err != nil {
				errs[i] = fmt.Errorf("attesting the SBOM of %s for %s: %w", t, pl, explain(err))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// --recursive signs the platform images too, so that a pull by platform verifies.
	_, err := p.cosign(creds).
		WithExec(append([]string{"cosign", "sign", "--yes", "--recursive"}, p.keyArgs(creds, digested)...)).
		Sync(ctx)
	if err != nil {
		return fmt.Errorf("signing %s (%s): %w", t, digested, explain(err))
	}
	return nil
}

// SBOM files in the tools' containers.
const (
	sbomPath     = "/tmp/sbom.spdx.json"
	syftJSONPath = "/tmp/sbom.syft.json"
)

// attestSBOM has syft write the SPDX SBOM of the image that index (a reference with digest)
// holds for platform pl, read from the registry as pushed, and cosign attest it to that
// platform's manifest, whose digest syft reports.
func (p *Pipeline) attestSBOM(ctx context.Context, index string, pl dagger.Platform, creds *credentials) error {
	scan := creds.withTools(p.tool(p.plan.Images.Syft())).
		WithExec([]string{"/syft", "scan", "registry:" + index, "--platform", string(pl),
			"--output", "spdx-json=" + sbomPath, "--output", "syft-json=" + syftJSONPath})
	report, err := scan.File(syftJSONPath).Contents(ctx)
	if err != nil {
		return err
	}
	manifest, err := manifestDigest(report)
	if err != nil {
		return err
	}
	_, err = p.cosign(creds).
		WithMountedFile(sbomPath, scan.File(sbomPath)).
		WithExec(append([]string{"cosign", "attest", "--yes", "--type", "spdxjson", "--predicate", sbomPath},
			p.keyArgs(creds, pin(index, manifest))...)).
		Sync(ctx)
	return err
}

// manifestDigest is the digest of the platform manifest that syft's own JSON report says it
// scanned.
func manifestDigest(syftJSON string) (string, error) {
	var report struct {
		Source struct {
			Metadata struct {
				ManifestDigest string `json:"manifestDigest"`
			} `json:"metadata"`
		} `json:"source"`
	}
	if err := json.Unmarshal([]byte(syftJSON), &report); err != nil {
		return "", fmt.Errorf("reading syft's report: %w", err)
	}
	d := report.Source.Metadata.ManifestDigest
	if !strings.HasPrefix(d, "sha256:") {
		return "", fmt.Errorf("syft's report names no manifest digest (source.metadata.manifestDigest %q)", d)
	}
	return d, nil
}

// copyIndex points ref at the index src (a reference with digest), signatures and
// attestations included, without pulling or rebuilding anything.
func (p *Pipeline) copyIndex(ctx context.Context, src, ref string, creds *credentials) error {
	_, err := p.cosign(creds).WithExec([]string{"cosign", "copy", "--force", src, ref}).Sync(ctx)
	return err
}

// cosign is the cosign container, logged in to the registry, with the signing secrets in its
// environment.
func (p *Pipeline) cosign(creds *credentials) *dagger.Container {
	c := creds.withTools(p.tool(p.plan.Images.Cosign()))
	for _, name := range slices.Sorted(maps.Keys(creds.signing)) {
		c = c.WithSecretVariable(name, creds.signing[name])
	}
	return c
}

// keyArgs are cosign's arguments to sign ref: the key from the environment, or none for
// keyless signing with SIGSTORE_ID_TOKEN.
func (p *Pipeline) keyArgs(creds *credentials, ref string) []string {
	if _, ok := creds.signing["COSIGN_PRIVATE_KEY"]; ok {
		return []string{"--key", "env://COSIGN_PRIVATE_KEY", ref}
	}
	return []string{ref}
}

// tool is a container of image on the engine's platform for a step that acts on the
// registry. Such steps are never cached: the registry, not the engine, holds their result.
func (p *Pipeline) tool(image string) *dagger.Container {
	return p.dag.Container(dagger.ContainerOpts{Platform: p.platform}).From(image).
		WithEnvVariable("STUDIP_PUBLISH_RUN", p.run)
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
