package main

import (
	"context"
	"fmt"

	"gitlab.studip.de/studip/docker/pipelines"
)

func runPublish(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "publish", "[--file F] [--version V]... [--base B]... [--dry-run] [--jobs N] [--mirror PREFIX]",
		"Builds and smoke-tests the selected targets like `ci test`, then pushes every tag of each\n"+
			"as one multi-platform index. The tags naming one version go first, the floating ones\n"+
			"(6.0, latest, nightly, ...) only after those succeeded. Credentials come from\n"+
			"REGISTRY_USERNAME and REGISTRY_PASSWORD.")
	pf := addPipelineFlags(fs, e)
	dryRun := fs.Bool("dry-run", false, "do everything but push; needs no credentials")
	fs.MarkHidden("platform") // refused below
	fs.MarkHidden("source")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.Changed("platform") {
		return usagef("--platform: publish pushes every platform of a target; an index of fewer would replace the multi-platform one")
	}
	if fs.Changed("source") {
		return usagef("--source: publish builds every release from its git ref, so that a pushed image is what Stud.IP tagged; try a local checkout with ci test --source or ci build --source")
	}
	pub := &pipelines.Publish{Username: e.getenv("REGISTRY_USERNAME"), Password: e.getenv("REGISTRY_PASSWORD"), DryRun: *dryRun}
	if !pub.DryRun && (pub.Username == "" || pub.Password == "") {
		return usagef("REGISTRY_USERNAME and REGISTRY_PASSWORD must both be set to push (or use --dry-run)")
	}
	p, opts, err := pf.load(e, fs)
	if err != nil {
		return err
	}
	results, err := runPipelines(ctx, e, p, opts, pipelines.Steps{Test: true, Publish: pub})
	if err != nil {
		return err
	}
	verb := "pushed"
	if pub.DryRun {
		verb = "ready to push (dry run)"
	}
	return summarize(e, verb, results, func(r pipelines.Result) []string {
		var lines []string
		for _, ref := range r.Pushed {
			if pub.DryRun {
				lines = append(lines, fmt.Sprintf("would push %s (%s)", ref, platforms(r.Target)))
			} else {
				lines = append(lines, "pushed "+ref)
			}
		}
		return lines
	})
}
