package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"gitlab.studip.de/studip/docker/gitlabapi"
	"gitlab.studip.de/studip/docker/upstream"
)

// The variables of `ci outdated --merge-request`: GitLab CI sets the CI_ ones; the token is a
// masked, protected CI/CD variable holding a project access token with the api scope.
const (
	tokenVar        = "STUDIP_BOT_TOKEN"
	outdatedLabel   = "studip-outdated"
	outdatedBranchP = "studip-outdated/"
)

// mergeRequestBot proposes an edit of the versions file as one merge request of this project.
type mergeRequestBot struct {
	client *gitlabapi.Client
	target string // the default branch
	path   string // the versions file's path in the repository
}

// newMergeRequestBot checks, before anything is read or written, that the environment and
// the versions file at file allow proposing its edit.
func newMergeRequestBot(e *env, file string) (*mergeRequestBot, error) {
	vars := map[string]string{}
	var missing []string
	for _, k := range []string{"CI_API_V4_URL", "CI_PROJECT_ID", "CI_DEFAULT_BRANCH", tokenVar} {
		if vars[k] = e.getenv(k); vars[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, usagef("--merge-request needs %s (GitLab CI sets the CI_ ones; %s is a project access token with the api scope, see docs/release-managers.md)",
			strings.Join(missing, ", "), tokenVar)
	}
	if !filepath.IsLocal(file) {
		return nil, usagef("--merge-request: --file %s must be a path inside the repository, relative to its root", file)
	}
	return &mergeRequestBot{
		client: &gitlabapi.Client{API: vars["CI_API_V4_URL"], Project: vars["CI_PROJECT_ID"], Token: vars[tokenVar]},
		target: vars["CI_DEFAULT_BRANCH"],
		path:   filepath.ToSlash(filepath.Clean(file)),
	}, nil
}

// change is an applied `ci outdated` edit.
type change struct {
	file    string
	updates []upstream.Update
	edit    *releaseEdit
}

func (b *mergeRequestBot) propose(ctx context.Context, e *env, c change) error {
	p := gitlabapi.Proposal{
		Branch: c.branch(), Target: b.target,
		Files:         map[string][]byte{b.path: c.edit.data},
		CommitMessage: c.title() + "\n\n" + c.description(),
		Title:         c.title(), Description: c.description(),
		Label: outdatedLabel,
	}
	out, err := b.client.Propose(ctx, p)
	if err != nil {
		return fmt.Errorf("proposing the edit as a merge request: %w", err)
	}
	mr := fmt.Sprintf("!%d %s", out.MergeRequest.IID, out.MergeRequest.WebURL)
	switch {
	case out.Declined:
		fmt.Fprintf(e.stdout, "Merge request %s, which proposed this change, was closed unmerged; not proposing it again.\n", mr)
	case out.Created:
		fmt.Fprintf(e.stdout, "Opened merge request %s (branch %s).\n", mr, p.Branch)
	case out.Committed || out.Edited:
		fmt.Fprintf(e.stdout, "Updated merge request %s (branch %s).\n", mr, p.Branch)
	default:
		fmt.Fprintf(e.stdout, "Merge request %s already proposes this change.\n", mr)
	}
	for _, old := range out.Superseded {
		fmt.Fprintf(e.stdout, "Closed merge request !%d (%s): superseded.\n", old.IID, old.Title)
	}
	return nil
}

// branch is named after the releases, so that the same change always lands on the same
// branch: studip-outdated/6.1.0-6.0.3.
func (c change) branch() string {
	vs := make([]string, len(c.updates))
	for i, u := range c.updates {
		vs[i] = u.Version.String()
	}
	return outdatedBranchP + strings.Join(vs, "-")
}

// title: "versions: Stud.IP 6.1.0 (new line), 6.0.3".
func (c change) title() string {
	vs := make([]string, len(c.updates))
	for i, u := range c.updates {
		vs[i] = u.Version.String()
		if u.NewLine() {
			vs[i] += " (new line)"
		}
	}
	return "versions: Stud.IP " + strings.Join(vs, ", ")
}

// description says what changes and why, and what to do after merging. It holds nothing that
// differs between two runs for the same change.
func (c change) description() string {
	var b strings.Builder
	b.WriteString("Stud.IP has released what `" + c.file + "` is behind on (`go run ./ci outdated`):\n\n")
	for _, u := range c.updates {
		fmt.Fprintf(&b, "- %s\n", u)
		for _, n := range u.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	b.WriteString("\nThe edit is `go run ./ci outdated --apply`, the same as `ci release`:\n\n```\n")
	var out strings.Builder
	c.edit.print(&out)
	b.WriteString(out.String())
	b.WriteString("```\n\nAfter merging, publish each release: tag this project `vX.Y.Z` or run a pipeline with ")
	b.WriteString("`STUDIP_VERSION=X.Y.Z` (docs/release-managers.md). A new line's PHP and Node are proposals: ")
	b.WriteString("check them against Stud.IP's installation notes before merging.\n\n")
	b.WriteString("Opened by the scheduled job `outdated`; it updates this merge request while the change is the same.\n")
	return b.String()
}
