package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"gitlab.studip.de/studip/docker/upstream"
	"gitlab.studip.de/studip/docker/versions"
)

func runOutdated(ctx context.Context, e *env, args []string) error {
	err := outdated(ctx, e, args)
	if err == nil || errors.Is(err, pflag.ErrHelp) || errors.As(err, new(exitStatus)) {
		return err
	}
	return exitStatus{2, err}
}

func outdated(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "outdated", "[--file versions.yaml] [--apply [--merge-request]]",
		"Lists the Stud.IP releases the versions file is behind on: a newer patch of a line it has,\n"+
			"or a newer minor line, read from the tags of its source repository (git ls-remote; tags\n"+
			"vX.Y.Z and vX.Y; pre-releases are never proposed). For a new line it reads composer.json,\n"+
			"composer.lock and package.json of the tag and proposes the newest supported PHP and Node\n"+
			"they allow. --apply makes the edits of `ci release`; --merge-request then proposes them\n"+
			"as a merge request of this project (docs/release-managers.md, \"New Stud.IP releases\").\n\n"+
			"Exit codes: 0 up to date (or the merge request is open), 1 behind, 2 error.")
	var file string
	addFileFlag(fs, &file)
	apply := fs.Bool("apply", false, "edit the versions file as ci release does, for every release listed")
	mr := fs.Bool("merge-request", false, "with --apply: open or update the one merge request of this change (GitLab CI variables)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *mr && !*apply {
		return usagef("--merge-request proposes the edit of --apply; pass both")
	}
	var bot *mergeRequestBot
	if *mr {
		var err error
		if bot, err = newMergeRequestBot(e, file); err != nil {
			return err
		}
	}
	f, data, err := versions.LoadData(file)
	if err != nil {
		return err
	}
	updates, err := upstream.Propose(ctx, upstream.Git{URL: f.Source}, f, upstream.RuntimeOptions{Now: e.now()})
	if err != nil {
		return err
	}
	if len(updates) == 0 {
		fmt.Fprintf(e.stdout, "%s is up to date with the release tags of %s.\n", file, f.Source)
		return nil
	}
	fmt.Fprintf(e.stdout, "%s is behind the release tags of %s:\n", file, f.Source)
	releases := make([]release, len(updates))
	for i, u := range updates {
		fmt.Fprintf(e.stdout, "  %s\n", u)
		for _, n := range u.Notes {
			fmt.Fprintf(e.stdout, "      %s\n", n)
		}
		releases[i] = release{u.Version, versions.ReleaseOptions{PHP: u.PHP, Node: u.Node}}
	}
	behind := exitStatus{1, fmt.Errorf("%s is behind on %d release(s)", file, len(updates))}
	if !*apply {
		fmt.Fprintln(e.stdout, "`go run ./ci outdated --apply` makes these edits, as these would:")
		for _, r := range releases {
			fmt.Fprintf(e.stdout, "  go run ./ci release %s\n", releaseArgs(r))
		}
		return behind
	}
	ed, err := editReleases(file, data, f, releases)
	if err != nil {
		return err
	}
	ed.print(e.stdout)
	if err := writeFile(file, ed.data); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s.\n", file)
	if bot == nil {
		fmt.Fprintln(e.stdout, "Next: review `go run ./ci plan`, commit, open a merge request; once merged, tag this\n"+
			"project (or trigger a pipeline with STUDIP_VERSION) for each release.")
		return behind
	}
	return bot.propose(ctx, e, change{file: file, updates: updates, edit: ed})
}

// releaseArgs are the arguments of `ci release` that make r's edit.
func releaseArgs(r release) string {
	s := r.version.String()
	if r.opts.PHP != "" {
		s += " --php " + r.opts.PHP
	}
	if r.opts.Node != "" {
		s += " --node " + r.opts.Node
	}
	return s
}
