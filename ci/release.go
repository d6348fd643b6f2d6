package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	before, data, err := versions.LoadData(file)
	if err != nil {
		return err
	}
	ed, err := editReleases(file, data, before, []release{{v, opts}})
	if err != nil {
		return err
	}
	ed.print(e.stdout)
	if !ed.changed() {
		return nil
	}
	if err := writeFile(file, ed.data); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s. Next: review `go run ./ci plan`, commit, open a merge request; once merged,\n"+
		"tag this project v%s or trigger a pipeline with STUDIP_VERSION=%s.\n", file, v, v)
	return nil
}

// release is one `ci release` edit: a version and the release manager's choices.
type release struct {
	version versions.Version
	opts    versions.ReleaseOptions
}

// releaseEdit is a versions file edited for one or more releases, not yet written, and what
// publishing the result changes.
type releaseEdit struct {
	file        string
	before      []byte
	data        []byte   // the edited file
	notes       []string // what each edit did, in order
	inferred    []string // the keys that a new entry took from the line below
	tagChanges  []string // tagChanges of the plans before and after
	droppedTags bool
}

// editReleases makes the edits of `ci release` on data, the versions file at path file as
// loaded into before, one release after the other. The file as it is must plan; whatever
// fails after that is the edits' fault.
func editReleases(file string, data []byte, before *versions.File, releases []release) (*releaseEdit, error) {
	oldPlan, err := plan.New(before, plan.Options{})
	if err != nil {
		return nil, err
	}
	edited := file + " (edited, not written)"
	ed := &releaseEdit{file: file, before: data, data: data}
	var last *versions.File
	for _, r := range releases {
		rel, err := versions.EditRelease(ed.data, r.version, r.opts)
		if verr, ok := errors.AsType[*versions.Error](err); ok {
			verr.File = edited
			return nil, err
		}
		if err != nil {
			return nil, releaseUsage(file, err)
		}
		ed.data, last = rel.Data, rel.File
		ed.notes = append(ed.notes, rel.Notes...)
		for _, k := range rel.Inferred {
			if !slices.Contains(ed.inferred, k) {
				ed.inferred = append(ed.inferred, k)
			}
		}
	}
	if !ed.changed() {
		return ed, nil
	}
	newPlan, err := plan.New(last, plan.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", edited, err)
	}
	ed.tagChanges, ed.droppedTags = tagChanges(oldPlan, newPlan)
	return ed, nil
}

func (ed *releaseEdit) changed() bool { return !bytes.Equal(ed.data, ed.before) }

// print writes the edits' notes and, if the file changed, the tag changes.
func (ed *releaseEdit) print(w io.Writer) {
	for _, n := range ed.notes {
		fmt.Fprintf(w, "%s: %s\n", ed.file, n)
	}
	if len(ed.inferred) > 0 {
		fmt.Fprintf(w, "%s: pass --%s to choose otherwise\n", ed.file, strings.Join(ed.inferred, " or --"))
	}
	if !ed.changed() {
		return
	}
	if len(ed.tagChanges) == 0 {
		fmt.Fprintln(w, "Publishing moves no tag.")
	} else {
		fmt.Fprintln(w, "Publishing changes these tags:")
		for _, c := range ed.tagChanges {
			fmt.Fprintf(w, "  %s\n", c)
		}
	}
	if ed.droppedTags {
		fmt.Fprintln(w, "Dropped tags stay in the registry as they are; no pipeline updates them any more.")
	}
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
