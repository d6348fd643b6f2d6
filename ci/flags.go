package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// planFlags are the flags of every command that works on (part of) the plan.
type planFlags struct {
	fs        *pflag.FlagSet
	file      string
	versions  []string
	bases     []string
	platforms []string
}

func addFileFlag(fs *pflag.FlagSet, file *string) {
	fs.StringVarP(file, "file", "f", "versions.yaml", "the versions file")
}

func addPlanFlags(fs *pflag.FlagSet) *planFlags {
	pf := &planFlags{fs: fs}
	addFileFlag(fs, &pf.file)
	fs.StringSliceVar(&pf.versions, "version", nil, "only this minor line (6.0), version (6.0.3), nightly, tests or tests-phpM.m; repeatable")
	fs.StringSliceVar(&pf.bases, "base", nil, "only this base (apache, fpm-alpine); repeatable")
	fs.StringSliceVar(&pf.platforms, "platform", nil, "only this platform, e.g. linux/arm64; repeatable")
	return pf
}

func (pf *planFlags) filter() (plan.Filter, error) {
	for _, flag := range []struct {
		name    string
		values  []string
		example string
	}{
		{"version", pf.versions, "6.0"},
		{"base", pf.bases, "apache"},
		{"platform", pf.platforms, "linux/arm64"},
	} {
		// An empty value would otherwise leave the filter empty, which selects everything.
		if pf.fs.Changed(flag.name) && (len(flag.values) == 0 || slices.ContainsFunc(flag.values, isBlank)) {
			return plan.Filter{}, usagef("--%s: an empty value selects nothing; name one, e.g. --%s %s, or leave the flag out for all", flag.name, flag.name, flag.example)
		}
	}
	f := plan.Filter{Versions: pf.versions}
	for _, s := range pf.bases {
		b, err := versions.ParseBase(s)
		if err != nil {
			return f, usagef("--base: %v", err)
		}
		f.Bases = append(f.Bases, b)
	}
	for _, s := range pf.platforms {
		p, err := versions.ParsePlatform(s)
		if err != nil {
			return f, usagef("--platform: %v", err)
		}
		f.Platforms = append(f.Platforms, p)
	}
	return f, nil
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// load reads the versions file and plans the selected targets.
func (pf *planFlags) load(e *env, opts plan.Options) (*plan.Plan, error) {
	filter, f, err := pf.read()
	if err != nil {
		return nil, err
	}
	return pf.plan(e, f, filter, opts)
}

// read checks the filter flags, then loads the versions file.
func (pf *planFlags) read() (plan.Filter, *versions.File, error) {
	filter, err := pf.filter()
	if err != nil {
		return filter, nil, err
	}
	f, err := versions.Load(pf.file)
	return filter, f, err
}

// plan plans the targets of f that filter selects.
func (pf *planFlags) plan(e *env, f *versions.File, filter plan.Filter, opts plan.Options) (*plan.Plan, error) {
	var err error
	if opts.Created.IsZero() {
		if opts.Created, err = sourceDateEpoch(e); err != nil {
			return nil, err
		}
	}
	p, err := plan.New(f, opts)
	if err != nil {
		return nil, err
	}
	p, err = p.Select(filter)
	if ferr, ok := errors.AsType[*plan.FilterError](err); ok {
		return nil, pf.filterUsage(ferr)
	}
	return p, err
}

// filterUsage is a filter that selects nothing, told by the flags that make it.
func (pf *planFlags) filterUsage(ferr *plan.FilterError) error {
	if len(ferr.Unmatched) == 0 {
		var given []string
		for _, name := range []string{"version", "base", "platform"} {
			if pf.fs.Changed(name) {
				given = append(given, "--"+name)
			}
		}
		return usagef("%s together match no target", strings.Join(given, " and "))
	}
	lines := make([]string, len(ferr.Unmatched))
	for i, u := range ferr.Unmatched {
		lines[i] = fmt.Sprintf("--%s %s %s", u.Field, u.Value, ferr.Explain(u))
	}
	return usageError{errors.New(strings.Join(lines, "\n"))}
}

// sourceDateEpoch is SOURCE_DATE_EPOCH, every image's creation time when set; zero when not,
// which leaves each image's to the pipeline (its source commit's time).
func sourceDateEpoch(e *env) (time.Time, error) {
	s := e.getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Time{}, nil
	}
	secs, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, usagef("SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", s)
	}
	return time.Unix(secs, 0).UTC(), nil
}
