package pipelines

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"dagger.io/dagger"

	"gitlab.studip.de/studip/docker/plan"
)

// sourceStage is the Stud.IP tree of one version as it goes into every image of that
// version: checkout, built assets and composer dependencies, in the image contract's layout.
type sourceStage struct {
	once     sync.Once
	checkout *dagger.Directory // the tree as checked out
	local    bool              // checked out from Options.Source
	revision string            // the commit the tree was built from, for LabelRevision
	err      error

	// The tree with its stages is prepared only when an image is built: deciding whether to
	// build needs the checkout's identity alone, not its package.json.
	treeOnce sync.Once
	tree     *dagger.Directory
	treeErr  error

	createdOnce sync.Once // the commit's time, read only when an image is built
	created     string
	createdErr  error
}

// source is the checkout of t's version, resolved once for all targets that share its
// Source.
func (p *Pipeline) source(ctx context.Context, t plan.Target) (*sourceStage, error) {
	// plan.Source holds a slice, so it cannot be a map key itself; %#v renders every field.
	key := fmt.Sprintf("%#v", *t.Source)
	p.mu.Lock()
	st, ok := p.sources[key]
	if !ok {
		st = &sourceStage{}
		p.sources[key] = st
	}
	p.mu.Unlock()
	st.once.Do(func() {
		st.checkout, st.revision, st.err = p.checkout(ctx, *t.Source)
		st.local = p.opts.Source != ""
	})
	if st.err != nil {
		return nil, fmt.Errorf("preparing the source of %s: %w", t, st.err)
	}
	return st, nil
}

// prepared is the tree of st as it goes into t's images, its stages set up once for all
// targets that share t's Source.
func (p *Pipeline) prepared(ctx context.Context, t plan.Target, st *sourceStage) (*dagger.Directory, error) {
	st.treeOnce.Do(func() {
		// The stages pull their images at the digests the build ID names.
		var node, composer string
		var command []string
		if command, st.treeErr = assetCommand(ctx, st.checkout, *t.Source); st.treeErr != nil {
			return
		}
		if node, st.treeErr = p.pinnedNative(ctx, t.Source.NodeImage); st.treeErr != nil {
			return
		}
		if composer, st.treeErr = p.pinnedNative(ctx, t.Source.ComposerImage); st.treeErr != nil {
			return
		}
		st.tree = layout(st.checkout, p.assets(st.checkout, node, command), p.dependencies(st.checkout, composer))
	})
	if st.treeErr != nil {
		return nil, fmt.Errorf("preparing the source of %s: %w", t, st.treeErr)
	}
	return st.tree, nil
}

// checkout is the Stud.IP tree of s and its commit: the local checkout of Options.Source if
// set, else s.Commit of s.URL when the plan is pinned (whatever s.Ref names by now), else
// s.Ref, resolved once so that the tree and its label cannot disagree.
func (p *Pipeline) checkout(ctx context.Context, s plan.Source) (*dagger.Directory, string, error) {
	if p.opts.Source != "" {
		// The tree's .gitignore leaves out what a working copy holds besides the source:
		// node_modules, composer's vendor dir, the webpack output, and the maintainer's own
		// config_local.inc.php and data/, which must never reach an image.
		dir := p.dag.Host().Directory(p.opts.Source, dagger.HostDirectoryOpts{Gitignore: true, Exclude: []string{".git"}})
		return dir, localRevision(ctx, p.opts.Source), nil
	}
	repo, commit := p.dag.Git(s.URL), s.Commit
	if commit == "" {
		var err error
		if commit, err = repo.Ref(s.Ref).Commit(ctx); err != nil {
			return nil, "", fmt.Errorf("resolving %s of %s: %w", s.Ref, s.URL, err)
		}
	}
	return repo.Commit(commit).Tree(dagger.GitRefTreeOpts{DiscardGitDir: true}), commit, nil
}

// localRevision is the commit checked out in dir, "unknown" if git cannot tell quickly.
func localRevision(ctx context.Context, dir string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--verify", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// Stud.IP's composer.json sets "vendor-dir": "composer"; the tree's own vendor/ is source.
const composerDir = "composer"

// native is a container of image on the engine's own platform, never an emulated one.
func (p *Pipeline) native(image string) *dagger.Container {
	return p.dag.Container(dagger.ContainerOpts{Platform: p.platform}).From(image)
}

// stage is a native container of image working on checkout in /src, with the cache volume
// cacheKey in the directory that the variable cacheEnv names to the tool. What runs in it
// yields the same files for every platform.
func (p *Pipeline) stage(image string, checkout *dagger.Directory, cacheKey, cacheEnv string) *dagger.Container {
	cache := "/cache/" + cacheKey
	return p.native(image).
		WithMountedCache(cache, p.dag.CacheVolume(cacheKey)).
		WithEnvVariable(cacheEnv, cache).
		WithDirectory("/src", checkout).
		WithWorkdir("/src")
}

// assetCommand is the command that builds the tree's assets: the one versions.yaml sets for
// s, else the one the plan chooses from the scripts of the tree's package.json.
func assetCommand(ctx context.Context, checkout *dagger.Directory, s plan.Source) ([]string, error) {
	if len(s.Assets) > 0 {
		return s.Assets, nil
	}
	data, err := checkout.File("package.json").Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading package.json to choose the asset command: %w", err)
	}
	scripts, err := plan.PackageScripts([]byte(data))
	if err != nil {
		return nil, err
	}
	return plan.AssetCommand(scripts)
}

// assets installs the tree's npm dependencies from its lock file, runs command, Stud.IP's
// production asset build, and returns public/assets: the shipped fonts, images and sounds
// plus the built scripts and stylesheets.
func (p *Pipeline) assets(checkout *dagger.Directory, nodeImage string, command []string) *dagger.Directory {
	return p.stage(nodeImage, checkout, "studip-npm", "npm_config_cache").
		WithExec([]string{"npm", "ci", "--no-audit", "--no-fund"}).
		WithExec(command).
		Directory("/src/public/assets")
}

// dependencies runs composer install and returns composer's vendor dir. The composer image
// has none of the runtime's extensions, so their checks are left to the runtime; the PHP
// version check stays (Stud.IP pins config.platform.php).
func (p *Pipeline) dependencies(checkout *dagger.Directory, composerImage string) *dagger.Directory {
	return p.stage(composerImage, checkout, "studip-composer", "COMPOSER_CACHE_DIR").
		WithExec([]string{"composer", "install", "--no-dev", "--optimize-autoloader",
			"--no-interaction", "--no-progress", "--ignore-platform-req=ext-*"}).
		Directory("/src/" + composerDir)
}

// seeded are the folders of public/ that hold run-time data: the image ships their contents
// in seed/ and links them into the data volume (docs/image-contract.md).
var seeded = []string{"pictures", "plugins_packages"}

// layout is the tree as it goes into the image: checkout plus assets and dependencies, the
// seeded folders moved to seed/ and replaced by links into data/, and no data/: the runtime's
// data directory (www-data, group 0, mode 0775, for any uid with group 0) must stay as its
// Dockerfile made it, which a copied data/ would change. Directory operations only: nothing
// runs, on no platform.
func layout(checkout, assets, dependencies *dagger.Directory) *dagger.Directory {
	tree := checkout.
		WithDirectory("public/assets", assets).
		WithDirectory(composerDir, dependencies).
		WithoutDirectory("data")
	for _, d := range seeded {
		tree = tree.
			WithDirectory("seed/"+d, checkout.Directory("public/"+d)).
			WithoutDirectory("public/"+d).
			WithSymlink("../data/"+d, "public/"+d)
	}
	return tree
}
