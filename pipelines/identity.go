package pipelines

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"dagger.io/dagger"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// identify resolves what t's build ID on platform pl needs besides the plan (the source
// commit, or a local tree's digest; the build context's digest; every image's digest) and
// computes it. It builds nothing, so that an unchanged target costs a few registry reads;
// each answer is asked for once per pipeline.
func (p *Pipeline) identify(ctx context.Context, t plan.Target, pl dagger.Platform) (plan.Resolved, string, error) {
	fail := func(err error) (plan.Resolved, string, error) {
		return plan.Resolved{}, "", fmt.Errorf("identifying %s for %s: %w", t, pl, err)
	}
	platform, err := versions.ParsePlatform(string(pl))
	if err != nil {
		return fail(err)
	}
	r := plan.Resolved{Images: map[string]string{}}
	if r.Context, err = p.contextDigest(ctx); err != nil {
		return fail(err)
	}
	if t.Source != nil {
		st, err := p.source(ctx, t)
		if err != nil {
			return plan.Resolved{}, "", err
		}
		if r.Source, err = st.identity(ctx); err != nil {
			return fail(err)
		}
		// The stages run natively, the same for every platform.
		for _, img := range []string{t.Source.NodeImage, t.Source.ComposerImage} {
			if r.Images[img], err = p.digest(ctx, img, p.platform); err != nil {
				return fail(err)
			}
		}
	}
	for _, b := range t.Runtime.Bases {
		if r.Images[b.Image], err = p.digest(ctx, b.Image, pl); err != nil {
			return fail(err)
		}
	}
	id, err := p.plan.BuildInputs(t).BuildID(platform, r)
	if err != nil {
		return fail(err)
	}
	return r, id, nil
}

// contextDigest is the digest of the Dockerfiles' build context, asked for once.
func (p *Pipeline) contextDigest(ctx context.Context) (string, error) {
	p.contextOnce.Do(func() {
		p.context, p.contextErr = p.buildContext().Digest(ctx)
		if p.contextErr != nil {
			p.contextErr = fmt.Errorf("reading the digest of %s: %w", p.opts.Dockerfiles, p.contextErr)
		}
	})
	return p.context, p.contextErr
}

// resolution is one image reference resolved for one platform, asked for once.
type resolution struct {
	once   sync.Once
	digest string
	err    error
}

type imageKey struct {
	ref      string
	platform dagger.Platform
}

// digest is the digest that ref points at for platform pl: for a multi-platform image, its
// index's, as the registry answers.
func (p *Pipeline) digest(ctx context.Context, ref string, pl dagger.Platform) (string, error) {
	p.mu.Lock()
	res, ok := p.digests[imageKey{ref, pl}]
	if !ok {
		res = &resolution{}
		p.digests[imageKey{ref, pl}] = res
	}
	p.mu.Unlock()
	res.once.Do(func() {
		res.digest, res.err = indexDigest(ctx, p.dag.Container(dagger.ContainerOpts{Platform: pl}).From(ref))
		if res.err != nil {
			res.err = fmt.Errorf("resolving %s for %s: %w", ref, pl, res.err)
		}
	})
	return res.digest, res.err
}

// pinnedNative is ref at the digest it points at for the engine's platform: what the
// source's stages pull, so that they run what the build ID names.
func (p *Pipeline) pinnedNative(ctx context.Context, ref string) (string, error) {
	d, err := p.digest(ctx, ref, p.platform)
	if err != nil {
		return "", err
	}
	return pin(ref, d), nil
}

// pin is ref with digest: "php:8.3-apache@sha256:...".
func pin(ref, digest string) string {
	name, _, _ := strings.Cut(ref, "@")
	return name + "@" + digest
}

// identity is what stands for the tree in the build ID: the commit, or for a local tree,
// whose uncommitted changes a commit would miss, the digest of its content.
func (st *sourceStage) identity(ctx context.Context) (string, error) {
	if !st.local {
		return st.revision, nil
	}
	d, err := st.checkout.Digest(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the digest of the local tree: %w", err)
	}
	return d, nil
}

// created is the creation time, RFC 3339, of the images of t built from st when the plan
// sets none (no SOURCE_DATE_EPOCH): the time of the source commit, so that the same inputs
// give the same image; "" for a local tree whose commit git cannot tell.
func (p *Pipeline) created(ctx context.Context, t plan.Target, st *sourceStage) (string, error) {
	st.createdOnce.Do(func() {
		if st.local {
			// A maintainer's working copy: its commit's time if git can tell, else none.
			if out, err := localCommitTime(ctx, p.opts.Source); err == nil {
				st.created, st.createdErr = rfc3339(out)
			}
			return
		}
		// The composer image has git: composer needs it for source installs.
		var composer, out string
		composer, st.createdErr = p.pinnedNative(ctx, t.Source.ComposerImage)
		if st.createdErr == nil {
			out, st.createdErr = p.dag.Container(dagger.ContainerOpts{Platform: p.platform}).
				From(composer).
				WithMountedDirectory("/src", p.dag.Git(t.Source.URL).Commit(st.revision).Tree()).
				WithExec([]string{"git", "-c", "safe.directory=*", "-C", "/src", "log", "-1", "--format=%ct"}).
				Stdout(ctx)
		}
		if st.createdErr == nil {
			st.created, st.createdErr = rfc3339(out)
		}
		if st.createdErr != nil {
			st.createdErr = fmt.Errorf("reading the time of commit %s: %w", st.revision, explain(st.createdErr))
		}
	})
	return st.created, st.createdErr
}

// localCommitTime is what git prints as the time of the commit checked out in dir.
func localCommitTime(ctx context.Context, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "log", "-1", "--format=%ct").Output()
	return string(out), err
}

// rfc3339 turns seconds since 1970, as git's %ct prints them, into RFC 3339 in UTC.
func rfc3339(secs string) (string, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(secs), 10, 64)
	if err != nil {
		return "", fmt.Errorf("git printed %q, not seconds since 1970", strings.TrimSpace(secs))
	}
	return time.Unix(n, 0).UTC().Format(time.RFC3339), nil
}

// platformOf is a plan platform as Dagger names it.
func platformOf(pl versions.Platform) dagger.Platform { return dagger.Platform(pl.String()) }
