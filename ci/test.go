package main

import (
	"context"
	"fmt"

	"gitlab.studip.de/studip/docker/pipelines"
)

func runTest(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "test", "[--file F] [--version V]... [--base B]... [--platform P]... [--source DIR] [--jobs N] [--mirror PREFIX]",
		"Builds the selected targets for their platforms and smoke-tests each on the engine's own\n"+
			"platform: a Stud.IP image runs next to a MariaDB with the demo data and must serve its\n"+
			"start page (apache) or answer php-fpm's ping (fpm-alpine); a test image must have its\n"+
			"tools and PHP extensions. With --source, the image holds a local Stud.IP checkout (without\n"+
			"--version, as the line its VERSION file names).")
	pf := addPipelineFlags(fs, e)
	if err := pf.parse(fs, args); err != nil {
		return err
	}
	p, opts, err := pf.load(e)
	if err != nil {
		return err
	}
	results, err := runPipelines(ctx, e, p, opts, pipelines.Steps{Test: true})
	if err != nil {
		return err
	}
	return summarize(e, "passed", results, func(r pipelines.Result) []string {
		if r.Err != nil {
			return nil
		}
		return []string{fmt.Sprintf("passed %s (built for %s)", r.Target, platforms(r.Target))}
	})
}
