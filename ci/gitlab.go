package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gitlab.studip.de/studip/docker/gitlabci"
	"gitlab.studip.de/studip/docker/plan"
	"gitlab.studip.de/studip/docker/versions"
)

func runGitLab(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "gitlab", "[--file F] [--version V]... [--base B]... [--platform P]... [--command test|publish]",
		"Prints a GitLab CI child pipeline: for test, one job per selected target; for publish, one\n"+
			"job per version and platform (staging the images) and one per version after them\n"+
			"(publishing the indexes). A platform's jobs run on the runners tagged as the variable\n"+
			"STUDIP_RUNNER_TAGS_<ARCH> says (comma-separated, e.g. STUDIP_RUNNER_TAGS_ARM64), on any\n"+
			"runner if it is empty. A publish pins each version's git ref to the commit it names now\n"+
			"(git ls-remote), so that all jobs of a version build that commit however the branch\n"+
			"moves meanwhile. .gitlab-ci.yml generates and triggers it. Needs no engine.")
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
	opts := gitlabci.Options{Command: c, File: pf.file, Args: args, RunnerTags: runnerTags(e, p)}
	if c == gitlabci.Publish {
		if opts.Commits, err = pinSources(ctx, e, p); err != nil {
			return err
		}
	}
	return gitlabci.Write(e.stdout, p, opts)
}

// pinSources resolves the ref of each selected Stud.IP version to the commit it names now,
// asking each repository once per ref.
func pinSources(ctx context.Context, e *env, p *plan.Plan) (map[string]string, error) {
	type source struct{ url, ref string }
	resolved := map[source]string{}
	pins := map[string]string{}
	for _, t := range p.Targets {
		if t.Source == nil {
			continue
		}
		s := source{t.Source.URL, t.Source.Ref}
		if _, ok := resolved[s]; !ok {
			commit, err := e.resolver(s.url).Commit(ctx, s.ref)
			if err != nil {
				return nil, fmt.Errorf("pinning the source of %s: %w", t.Name, err)
			}
			resolved[s] = commit
		}
		pins[t.Name] = resolved[s]
	}
	return pins, nil
}

// runnerTags reads each platform's runner tags from its variable.
func runnerTags(e *env, p *plan.Plan) map[versions.Platform][]string {
	out := map[versions.Platform][]string{}
	for _, t := range p.Targets {
		for _, pl := range t.Platforms {
			for _, tag := range strings.Split(e.getenv(gitlabci.RunnerTagsVariable(pl)), ",") {
				if tag = strings.TrimSpace(tag); tag != "" && !slices.Contains(out[pl], tag) {
					out[pl] = append(out[pl], tag)
				}
			}
		}
	}
	return out
}
