package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"dagger.io/dagger"
	"dagger.io/dagger/engineconn"
	"github.com/distribution/reference"
	"github.com/spf13/pflag"

	"gitlab.studip.de/studip/docker/pipelines"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/upstream"
	"gitlab.studip.de/studip/docker/versions"
)

func runBuild(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "build", "[--file F] [--version V]... [--base B]... [--platform P]... [--source DIR] [--export DIR] [--push REF] [--jobs N] [--mirror PREFIX]",
		"Builds the selected targets for their platforms on a Dagger engine. With --export, writes\n"+
			"one multi-platform OCI tarball per target (`docker load -i FILE` loads the native one).\n"+
			"With --push, pushes the one selected target as REF (credentials from REGISTRY_USERNAME\n"+
			"and REGISTRY_PASSWORD), e.g. a merge request's review image. With --source and no\n"+
			"--version, builds the checkout as the line its VERSION file names.")
	pf := addPipelineFlags(fs, e)
	export := fs.String("export", "", "write one OCI tarball per target into this directory, created if missing")
	push := fs.String("push", "", "push the one selected target (all its selected platforms) as this reference, e.g. registry.example/studip/review:my-branch")
	if err := pf.parse(fs, args); err != nil {
		return err
	}
	var pub *pipelines.Publish
	if *push != "" {
		if err := checkPushRef(*push); err != nil {
			return err
		}
		pub = &pipelines.Publish{Username: e.getenv("REGISTRY_USERNAME"), Password: e.getenv("REGISTRY_PASSWORD"), To: *push}
		if pub.Username == "" || pub.Password == "" {
			return usagef("--push: REGISTRY_USERNAME and REGISTRY_PASSWORD must both be set")
		}
	}
	p, opts, err := pf.load(e)
	if err != nil {
		return err
	}
	if pub != nil && len(p.Targets) != 1 {
		return usagef("--push pushes one target's images, but %d are selected (%s); narrow with --version and --base", len(p.Targets), strings.Join(strs(p.Targets), ", "))
	}
	steps := pipelines.Steps{Publish: pub}
	if *export != "" {
		// Created by runPipelines once the engine answers, so that a command that fails
		// before building leaves nothing behind.
		if steps.Export, err = filepath.Abs(*export); err != nil {
			return usagef("--export: %v", err)
		}
		if fi, err := os.Stat(steps.Export); err == nil && !fi.IsDir() {
			return usagef("--export: %s is not a directory", *export)
		}
	}
	results, err := runPipelines(ctx, e, p, opts, steps)
	if err != nil {
		return err
	}
	return summarize(e, "built", results, func(r pipelines.Result) []string {
		var lines []string
		switch {
		case r.Err != nil && len(r.Pushed) == 0:
			return nil
		case r.Exported != "":
			lines = append(lines, fmt.Sprintf("exported %s (%s): %s", r.Target, platforms(r.Target), r.Exported))
		default:
			lines = append(lines, fmt.Sprintf("built %s (%s)", r.Target, platforms(r.Target)))
		}
		for _, ref := range r.Pushed {
			lines = append(lines, "pushed "+ref)
		}
		return lines
	})
}

// checkPushRef accepts a registry reference with a tag and no digest.
func checkPushRef(ref string) error {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return usagef("--push %q: %v; want REGISTRY/REPOSITORY:TAG", ref, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return usagef("--push %q: a digest names existing content; push to a tag, REGISTRY/REPOSITORY:TAG", ref)
	}
	if _, ok := named.(reference.Tagged); !ok {
		return usagef("--push %q has no tag; write REGISTRY/REPOSITORY:TAG", ref)
	}
	return nil
}

// sourceVersion is the --version that a Stud.IP checkout stands in for: the release line of
// the versions file that its version belongs to, or nightly for a line above all of them
// (Stud.IP's main and its feature branches).
func sourceVersion(f *versions.File, dir string) (string, error) {
	if _, err := existingDir("--source", dir); err != nil {
		return "", err
	}
	tv, err := upstream.TreeVersion(os.DirFS(dir))
	if err != nil {
		return "", usagef("--source %s: %v; pass --version", dir, err)
	}
	line, err := upstream.Line(tv)
	if err != nil {
		return "", usagef("--source %s: %v; pass --version", dir, err)
	}
	above, nightly := true, false
	for _, e := range f.Entries {
		switch {
		case e.IsNightly():
			nightly = true
		case e.Version.Minor() == line:
			return line, nil
		case upstream.CompareLines(line, e.Version.Minor()) < 0:
			above = false
		}
	}
	if above && nightly {
		return "nightly", nil
	}
	return "", usagef("--source %s is Stud.IP %s, whose line %s the versions file does not build; pass --version", dir, tv, line)
}

// pipelineFlags are the flags of the commands that run the pipelines.
type pipelineFlags struct {
	*planFlags
	source      string
	dockerfiles string
	mirror      string
	jobs        int
	refCommits  []string // --ref-commit VERSION=COMMIT, where the command takes it
}

// addRefCommitFlag adds --ref-commit: the jobs of a generated publish pipeline build the
// commits that its generate job resolved.
func (pf *pipelineFlags) addRefCommitFlag(fs *pflag.FlagSet) {
	fs.StringArrayVar(&pf.refCommits, "ref-commit", nil, "build this Stud.IP version from this commit, as resolved from its ref before, e.g. nightly=<40 hex digits> (a generated publish pipeline pins every job to one); repeatable")
}

// pins are the --ref-commit values by version.
func (pf *pipelineFlags) pins() (map[string]string, error) {
	pins := map[string]string{}
	for _, v := range pf.refCommits {
		name, commit, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return nil, usagef("--ref-commit %q: want VERSION=COMMIT, e.g. nightly=<the commit's 40 hex digits>", v)
		}
		if prev, dup := pins[name]; dup && prev != commit {
			return nil, usagef("--ref-commit: %s is pinned twice, to %s and %s", name, prev, commit)
		}
		pins[name] = commit
	}
	return pins, nil
}

func addPipelineFlags(fs *pflag.FlagSet, e *env) *pipelineFlags {
	pf := &pipelineFlags{planFlags: addPlanFlags(fs)}
	fs.StringVar(&pf.source, "source", "", "build this local Stud.IP checkout instead of the version's git ref (one version only)")
	fs.StringVar(&pf.dockerfiles, "dockerfiles", "dockerfiles", "the runtime Dockerfiles, their build context")
	fs.StringVar(&pf.mirror, "mirror", e.getenv("STUDIP_IMAGE_MIRROR"), "pull every base image through this registry prefix, e.g. mirror.example/hub (env STUDIP_IMAGE_MIRROR)")
	fs.IntVar(&pf.jobs, "jobs", 4, "how many targets to build at once")
	return pf
}

// parse parses a pipeline command's args and checks what needs no file, the mirror first:
// it may come from the environment, where a mistake is easily overlooked.
func (pf *pipelineFlags) parse(fs *pflag.FlagSet, args []string) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := plan.CheckMirror(pf.mirror); err != nil {
		if fs.Changed("mirror") {
			return usagef("--mirror: %v", err)
		}
		return usagef("STUDIP_IMAGE_MIRROR: %v (or override it with --mirror)", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if pf.jobs < 1 {
		return usagef("--jobs must be at least 1")
	}
	return nil
}

// load plans the selected targets; it touches no engine.
// With --source and no --version, the checkout selects the line it belongs to.
func (pf *pipelineFlags) load(e *env) (*plan.Plan, pipelines.Options, error) {
	var opts pipelines.Options
	filter, f, err := pf.read()
	if err != nil {
		return nil, opts, err
	}
	if pf.source != "" && len(filter.Versions) == 0 {
		v, err := sourceVersion(f, pf.source)
		if err != nil {
			return nil, opts, err
		}
		filter.Versions = []string{v}
		fmt.Fprintf(e.stderr, "%s: --source %s: building it as --version %s\n", pf.fs.Name(), pf.source, v)
	}
	pins, err := pf.pins()
	if err != nil {
		return nil, opts, err
	}
	p, err := pf.plan(e, f, filter, plan.Options{Mirror: pf.mirror, Commits: pins})
	if pinErr, ok := errors.AsType[*plan.PinError](err); ok {
		return nil, opts, usagef("--ref-commit: %v", pinErr)
	}
	if err != nil {
		return nil, opts, err
	}
	if pf.source != "" {
		if opts.Source, err = checkSource(p, pf.source); err != nil {
			return nil, opts, err
		}
	}
	if opts.Dockerfiles, err = existingDir("--dockerfiles", pf.dockerfiles); err != nil {
		return nil, opts, err
	}
	opts.Jobs = pf.jobs
	return p, opts, nil
}

// checkSource returns the local checkout dir as an absolute path, if it can stand in for
// the source of every selected Stud.IP target: all of one Stud.IP version. Test images hold
// no tree, so the checkout does not change them.
func checkSource(p *plan.Plan, dir string) (string, error) {
	var names []string
	for _, t := range p.Targets {
		if t.Source != nil && !slices.Contains(names, t.Name) {
			names = append(names, t.Name)
		}
	}
	switch {
	case len(names) == 0:
		return "", usagef("--source: %s is a test image, which holds no Stud.IP tree; select a Stud.IP version", p.Targets[0])
	case len(names) > 1:
		return "", usagef("--source replaces the source of one Stud.IP version, but %d are selected (%s); narrow with --version", len(names), strings.Join(names, ", "))
	}
	return existingDir("--source", dir)
}

func existingDir(flag, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", usagef("%s: %v", flag, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", usagef("%s: %s is not a directory", flag, dir)
	}
	return abs, nil
}

// runPipelines runs steps on every target of p in one Dagger session.
func runPipelines(ctx context.Context, e *env, p *plan.Plan, opts pipelines.Options, steps pipelines.Steps) ([]pipelines.Result, error) {
	dag, err := connect(ctx, e)
	if err != nil {
		return nil, err
	}
	defer dag.Close()
	startCtx, cancel := context.WithTimeout(ctx, engineTimeout)
	defer cancel()
	pl, err := pipelines.New(startCtx, dag, p, opts)
	if err != nil {
		return nil, err
	}
	if steps.Export != "" {
		if err := os.MkdirAll(steps.Export, 0o755); err != nil {
			return nil, fmt.Errorf("creating the export directory: %w", err)
		}
	}
	return pl.Run(ctx, steps)
}

// engineTimeout bounds how long a command waits for an engine to answer at all: starting
// one pulls the engine image first.
const engineTimeout = 3 * time.Minute

type connectFunc func(context.Context) (*dagger.Client, error)

type connectKey struct{}

// withConnect makes the pipeline commands run in the session that connect opens, not in
// the engine's: how the tests put in a fake engine.
func withConnect(ctx context.Context, connect connectFunc) context.Context {
	return context.WithValue(ctx, connectKey{}, connect)
}

// connect opens the Dagger session the command runs in. Without one it fails at once
// rather than let the SDK download a CLI and start an engine behind the user's back.
func connect(ctx context.Context, e *env) (*dagger.Client, error) {
	if c, ok := ctx.Value(connectKey{}).(connectFunc); ok {
		return c(ctx)
	}
	if e.getenv("DAGGER_SESSION_PORT") == "" && e.getenv("_EXPERIMENTAL_DAGGER_CLI_BIN") == "" {
		// The SDK ignores a dagger on PATH outside `dagger run`; a maintainer who has one
		// expects it to be used.
		bin := lookPath("dagger", e.getenv("PATH"))
		if bin == "" {
			return nil, usageError{errors.New(noEngine)}
		}
		if err := os.Setenv("_EXPERIMENTAL_DAGGER_CLI_BIN", bin); err != nil {
			return nil, fmt.Errorf("connecting to the Dagger engine: %w", err)
		}
	}
	type session struct {
		dag *dagger.Client
		err error
	}
	done := make(chan session, 1)
	// Not under a timeout context: the SDK ties the CLI's engine session to the context it
	// connects with.
	go func() {
		dag, err := dagger.Connect(ctx, dagger.WithLogOutput(e.stderr))
		done <- session{dag, err}
	}()
	select {
	case s := <-done:
		if s.err != nil {
			return nil, fmt.Errorf("connecting to the Dagger engine: %w", s.err)
		}
		return s.dag, nil
	case <-time.After(engineTimeout):
		return nil, fmt.Errorf("connecting to the Dagger engine: no answer within %s; is Docker running?", engineTimeout)
	}
}

// lookPath finds an executable in the directories of path (the command's own PATH, so that
// tests decide what is found); "" when there is none.
func lookPath(name, path string) string {
	for _, dir := range filepath.SplitList(path) {
		bin := filepath.Join(dir, name)
		if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return bin
		}
	}
	return ""
}

var noEngine = strings.Join([]string{
	"no Dagger engine: this command runs its pipelines on one, and there is no Dagger session",
	"(DAGGER_SESSION_PORT) and no dagger CLI (on PATH or in _EXPERIMENTAL_DAGGER_CLI_BIN) to start",
	"one. Install the Dagger CLI v" + engineconn.CLIVersion + " on PATH, with Docker running, then run e.g.",
	"    go run ./ci build --version 6.0    (or: dagger run go run ./ci build --version 6.0)",
	"`ci plan` and `ci check` need no engine.",
}, "\n")

// summarize prints what each target did (lines, also called for a failed one), in plan order,
// then a summary, and fails if any target did; each failure goes to stderr.
func summarize(e *env, verb string, results []pipelines.Result, lines func(pipelines.Result) []string) error {
	failed := 0
	for _, r := range results {
		for _, l := range lines(r) {
			fmt.Fprintln(e.stdout, l)
		}
		if r.Err != nil {
			failed++
			fmt.Fprintf(e.stderr, "error: %v\n", r.Err)
		}
	}
	fmt.Fprintf(e.stdout, "summary: %d of %d targets %s", len(results)-failed, len(results), verb)
	if unchanged := countStatus(results, pipelines.Unchanged); unchanged > 0 {
		fmt.Fprintf(e.stdout, " (%d of them unchanged: nothing built)", unchanged)
	}
	if failed > 0 {
		fmt.Fprintf(e.stdout, ", %d failed\n", failed)
		return fmt.Errorf("%d of %d targets failed", failed, len(results))
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func countStatus(results []pipelines.Result, s pipelines.Status) int {
	n := 0
	for _, r := range results {
		if r.Status == s {
			n++
		}
	}
	return n
}

func platforms(t plan.Target) string { return strings.Join(strs(t.Platforms), ", ") }
