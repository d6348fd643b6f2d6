package main

import (
	"context"
	"fmt"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

func runCheck(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "check", "[--file versions.yaml]",
		"Validates the versions file and reports every problem at once, each as FILE:LINE.\n"+
			"Warns, without failing, of each entry or test image on a PHP or Node line past its\n"+
			"end of life (the dates are in versions/lifecycle.go).")
	var file string
	addFileFlag(fs, &file)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	f, err := versions.Load(file)
	if err != nil {
		return err
	}
	// The tag rules can still conflict in a file that is valid line by line.
	p, err := plan.New(f, plan.Options{})
	if err != nil {
		return err
	}
	// Compiler-style, as the problems are, so that editors can jump to them.
	for _, w := range f.PastEndOfLife(e.now()) {
		fmt.Fprintf(e.stderr, "%s:%d: warning: %s: %s\n", file, w.Line, w.Subject, w.Message)
	}
	fmt.Fprintf(e.stdout, "%s: ok (%d entries, %d test images, %d targets)\n", file, len(f.Entries), len(f.Tests), len(p.Targets))
	return nil
}
