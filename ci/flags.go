package main

import (
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

// planFlags are the flags of every command that works on (part of) the plan.
type planFlags struct {
	file      string
	versions  []string
	bases     []string
	platforms []string
}

func addFileFlag(fs *pflag.FlagSet, file *string) {
	fs.StringVarP(file, "file", "f", "versions.yaml", "the versions file")
}

func addPlanFlags(fs *pflag.FlagSet) *planFlags {
	pf := &planFlags{}
	addFileFlag(fs, &pf.file)
	fs.StringSliceVar(&pf.versions, "version", nil, "only this minor line (6.0), version (6.0.3), nightly, tests or tests-phpM.m; repeatable")
	fs.StringSliceVar(&pf.bases, "base", nil, "only this base (apache, fpm-alpine); repeatable")
	fs.StringSliceVar(&pf.platforms, "platform", nil, "only this platform, e.g. linux/arm64; repeatable")
	return pf
}

func (pf *planFlags) filter() (plan.Filter, error) {
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

// load reads the versions file and plans the selected targets.
func (pf *planFlags) load(e *env, opts plan.Options) (*plan.Plan, error) {
	filter, err := pf.filter()
	if err != nil {
		return nil, err
	}
	f, err := versions.Load(pf.file)
	if err != nil {
		return nil, err
	}
	if opts.Created.IsZero() {
		if opts.Created, err = sourceDateEpoch(e); err != nil {
			return nil, err
		}
	}
	p, err := plan.New(f, opts)
	if err != nil {
		return nil, err
	}
	return p.Select(filter)
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
