package main

import (
	"context"

	"gitlab.studip.de/studip/docker/gitlabci"
	"gitlab.studip.de/studip/docker/plan"
)

func runGitLab(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "gitlab", "[--file F] [--version V]... [--base B]... [--platform P]... [--command test|publish]",
		"Prints a GitLab CI child pipeline with one job per selected target, each running\n"+
			"`dagger run go run ./ci COMMAND` for that target alone. .gitlab-ci.yml generates and\n"+
			"triggers it. Needs no engine.")
	pf := addPlanFlags(fs)
	command := fs.String("command", string(gitlabci.Test), "what every job does: test (build and test, push nothing) or publish")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	c, err := gitlabci.ParseCommand(*command)
	if err != nil {
		return usagef("--command: %v", err)
	}
	if c == gitlabci.Publish && fs.Changed("platform") {
		return usagef("--platform: publish pushes every platform of a target, so a publish pipeline cannot narrow them")
	}
	p, err := pf.load(e, plan.Options{})
	if err != nil {
		return err
	}
	return gitlabci.Write(e.stdout, p, gitlabci.Options{Command: c, File: pf.file, Args: args})
}
