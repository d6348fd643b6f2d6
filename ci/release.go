package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

func runRelease(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "release", "X.Y.Z [--file versions.yaml] [--php M.m] [--node N] [--force]",
		"Sets the entry of X.Y's minor line in the versions file to X.Y.Z, or adds an entry for a\n"+
			"new line (php and node from the nearest lower line unless given). The file keeps its\n"+
			"comments and order. Prints the tags that publishing the result moves, adds and drops.")
	var file string
	addFileFlag(fs, &file)
	var opts versions.ReleaseOptions
	fs.StringVar(&opts.PHP, "php", "", "PHP minor of the entry, e.g. 8.3 (default: the entry's own; a new line's from the line below)")
	fs.StringVar(&opts.Node, "node", "", "Node major of the entry's asset build, e.g. 22 (default: as for --php)")
	fs.BoolVar(&opts.Force, "force", false, "allow a version lower than the line's current one")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one version X.Y.Z, got %d arguments", fs.NArg())
	}
	v, err := versions.ParseVersion(fs.Arg(0))
	if err != nil {
		return usagef("%v", err)
	}
	data, err := versions.ReadFile(file)
	if err != nil {
		return err
	}
	// The file as it is must be valid (its problems are reported at its own lines) and
	// plan; whatever fails after this is the edit's fault.
	before, err := versions.Parse(bytes.NewReader(data))
	if verr, ok := errors.AsType[*versions.Error](err); ok {
		verr.File = file
	}
	if err != nil {
		return err
	}
	oldPlan, err := plan.New(before, plan.Options{})
	if err != nil {
		return err
	}
	edited := file + " (edited, not written)"
	rel, err := versions.EditRelease(data, v, opts)
	if verr, ok := errors.AsType[*versions.Error](err); ok {
		verr.File = edited
		return err
	}
	if err != nil {
		return releaseUsage(file, err)
	}
	newPlan, err := plan.New(rel.File, plan.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", edited, err)
	}
	for _, n := range rel.Notes {
		fmt.Fprintf(e.stdout, "%s: %s\n", file, n)
	}
	if len(rel.Inferred) > 0 {
		fmt.Fprintf(e.stdout, "%s: pass --%s to choose otherwise\n", file, strings.Join(rel.Inferred, " or --"))
	}
	if bytes.Equal(rel.Data, data) {
		return nil
	}
	changes, dropped := tagChanges(oldPlan, newPlan)
	if len(changes) == 0 {
		fmt.Fprintln(e.stdout, "Publishing moves no tag.")
	} else {
		fmt.Fprintln(e.stdout, "Publishing changes these tags:")
		for _, c := range changes {
			fmt.Fprintf(e.stdout, "  %s\n", c)
		}
	}
	if dropped {
		fmt.Fprintln(e.stdout, "Dropped tags stay in the registry as they are; no pipeline updates them any more.")
	}
	if err := writeFile(file, rel.Data); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s. Next: review `go run ./ci plan`, commit, open a merge request; once merged,\n"+
		"tag this project v%s or trigger a pipeline with STUDIP_VERSION=%s.\n", file, v, v)
	return nil
}

// releaseUsage is an edit of file that failed, with the flags that would make it work.
func releaseUsage(file string, err error) error {
	rerr, ok := errors.AsType[*versions.ReleaseError](err)
	switch {
	case !ok:
		return usageError{fmt.Errorf("%s: %w", file, err)}
	case rerr.Problem == versions.BadPHP:
		return usagef("--php %q is not a PHP minor version, e.g. --php 8.3", rerr.Value)
	case rerr.Problem == versions.BadNode:
		return usagef("--node %q is not a Node major version, e.g. --node 22", rerr.Value)
	case rerr.Problem == versions.LowerVersion:
		return usagef("%s: %v; pass --force to go back", file, rerr)
	}
	return usagef("%s: %v; pass --php and --node", file, rerr)
}

// tagChanges lists, in plan order, the tags that move to another target, then the new tags,
// then the dropped ones ("latest: 6.0.3 -> 6.1.0"); dropped reports whether there are any.
func tagChanges(before, after *plan.Plan) (changes []string, dropped bool) {
	oldOwner, newOwner := tagOwners(before), tagOwners(after)
	var moved, added, gone []string
	for _, t := range after.Targets {
		for _, tag := range t.Tags {
			switch o, ok := oldOwner[tag.Name]; {
			case !ok:
				added = append(added, fmt.Sprintf("%s: new (%s)", tag.Name, t))
			case o.String() != t.String():
				moved = append(moved, fmt.Sprintf("%s: %s -> %s", tag.Name, o.Name, t.Name))
			}
		}
	}
	for _, t := range before.Targets {
		for _, tag := range t.Tags {
			if _, ok := newOwner[tag.Name]; !ok {
				gone = append(gone, fmt.Sprintf("%s: dropped (was %s)", tag.Name, t))
			}
		}
	}
	return slices.Concat(moved, added, gone), len(gone) > 0
}

func tagOwners(p *plan.Plan) map[string]plan.Target {
	owners := map[string]plan.Target{}
	for _, t := range p.Targets {
		for _, tag := range t.Tags {
			owners[tag.Name] = t
		}
	}
	return owners
}

// writeFile replaces path with data through a temporary file in the same directory, so that
// an interrupted write never leaves half a versions file; the file keeps its mode.
func writeFile(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".versions-*.yaml")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), info.Mode().Perm()); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
