// Command ci plans, builds, tests and publishes the Stud.IP container images.
//
//	go run ./ci <command> [flags]
//
// Exit codes: 0 success, 1 failure, 2 bad input or usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/upstream"
	"gitlab.studip.de/studip/docker/versions"
)

// env is what a command may touch of the outside world, so tests can run commands in process.
// stdout and stderr must be safe for concurrent writes: the Dagger SDK writes its log to
// stderr from goroutines of its own (os.Stderr is; tests use testutil.Buffer).
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time // today: ci check warns, ci outdated chooses runtimes, by end of life
	// remote reads a git repository's refs; nil reads them with git (upstream.Git).
	remote func(url string) upstream.Resolver
}

func (e *env) resolver(url string) upstream.Resolver {
	if e.remote != nil {
		return e.remote(url)
	}
	return upstream.Git{URL: url}
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands in the order `ci -h` lists them.
var commands = []command{
	{"check", "validate versions.yaml and report every problem", runCheck},
	{"plan", "print the targets and their tags", runPlan},
	{"build", "build the selected targets on a Dagger engine; --export writes OCI tarballs", runBuild},
	{"test", "build and smoke-test the selected targets on the engine's platform", runTest},
	{"publish", "build, smoke-test and push every tag of the selected targets", runPublish},
	{"gitlab", "print the GitLab CI child pipeline: one job per target", runGitLab},
	{"release", "set a minor line of versions.yaml to a new release and show the tag changes", runRelease},
	{"outdated", "list the Stud.IP releases versions.yaml is behind on; --apply edits it", runOutdated},
	{"review", "print the Kubernetes manifests of a merge request's review app", runReview},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now})
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, e *env) int {
	switch {
	case len(args) == 0:
		usage(e.stderr)
		return 2
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help" && len(args) == 1:
		usage(e.stdout)
		return 0
	case args[0] == "help" && len(args) == 2: // help COMMAND is COMMAND -h
		args = []string{args[1], "-h"}
	case args[0] == "help":
		fmt.Fprintf(e.stderr, "ci help: want one command, got %q\n", args[1:])
		return 2
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			report(e.stderr, c.name, err)
			return exitCode(err)
		}
	}
	fmt.Fprintf(e.stderr, "ci: unknown command %q\n", args[0])
	usage(e.stderr)
	return 2
}

// report prints a command's error. Problems in the versions file go out compiler-style, one
// FILE:LINE per line, so that editors can jump to them.
func report(w io.Writer, name string, err error) {
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return
	}
	if verr, ok := errors.AsType[*versions.Error](err); ok {
		fmt.Fprintln(w, verr)
		fmt.Fprintf(w, "ci %s: %s has %d problem(s); fix them and rerun\n", name, verr.File, len(verr.Problems))
		return
	}
	if ferr, ok := errors.AsType[*versions.FileError](err); ok {
		fmt.Fprintln(w, ferr)
		fmt.Fprintf(w, "ci %s: name the versions file with --file (default: versions.yaml in the current directory)\n", name)
		return
	}
	fmt.Fprintf(w, "ci %s: %v\n", name, err)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: go run ./ci <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'go run ./ci <command> -h' for a command's flags.")
}

// usageError is bad input from the user: a wrong flag or argument.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitStatus ends a command with its own exit code, for commands whose codes say more than
// success or failure (`ci outdated`: 1 is "something to do").
type exitStatus struct {
	code int
	err  error
}

func (s exitStatus) Error() string { return s.err.Error() }
func (s exitStatus) Unwrap() error { return s.err }

func exitCode(err error) int {
	if s, ok := errors.AsType[exitStatus](err); ok {
		return s.code
	}
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)),
		errors.As(err, new(*versions.Error)),
		errors.As(err, new(*versions.FileError)),
		errors.As(err, new(*plan.TagError)):
		return 2
	}
	return 1
}

// newFlags makes a command's flag set; its errors are usage errors and -h prints the
// command's usage line and flags to stdout.
func newFlags(e *env, name, args, about string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("ci "+name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "usage: go run ./ci %s %s\n\n%s\n\nflags:\n%s", name, args, about, fs.FlagUsages())
	}
	return fs
}

// parse parses args, turning flag errors into usage errors.
func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}
