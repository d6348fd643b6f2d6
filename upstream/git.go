package upstream

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// Git is a Repository read with the git CLI, without a clone: the tags with `git ls-remote`,
// a tag's files with a shallow fetch of that tag's trees only (`--depth=1 --filter=blob:none`)
// into a throw-away bare repository, from which git then fetches just the blobs asked for.
type Git struct {
	URL string // as git takes it: https://..., file://... (a plain path ignores --filter)
}

// Tags lists the remote's tags; peeled entries (tag^{}) are left out.
func (g Git) Tags(ctx context.Context) ([]string, error) {
	out, err := g.run(ctx, "", "ls-remote", "--tags", "--refs", "--", g.URL)
	if err != nil {
		return nil, fmt.Errorf("listing the tags of %s: %w", g.URL, err)
	}
	var tags []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		_, ref, ok := strings.Cut(sc.Text(), "\t")
		if name, isTag := strings.CutPrefix(ref, "refs/tags/"); ok && isTag {
			tags = append(tags, name)
		}
	}
	return tags, nil
}

// Resolver resolves a ref of a remote repository (a branch, a tag, a full ref name) to the
// commit it names now.
type Resolver interface {
	Commit(ctx context.Context, ref string) (string, error)
}

// ErrNoSuchRef is a ref that the remote does not have.
var ErrNoSuchRef = errors.New("no such branch or tag")

// RefError is a ref that could not be resolved.
type RefError struct {
	URL, Ref string
	Err      error
}

func (e *RefError) Error() string { return fmt.Sprintf("resolving %s of %s: %v", e.Ref, e.URL, e.Err) }
func (e *RefError) Unwrap() error { return e.Err }

var commitID = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Commit resolves ref with one `git ls-remote`, in git's order of names: a full ref name,
// else a tag (an annotated one peeled to its commit), else a branch. A commit ID is its own commit
// and asks the remote nothing.
func (g Git) Commit(ctx context.Context, ref string) (string, error) {
	if commitID.MatchString(ref) {
		return ref, nil
	}
	fail := func(err error) (string, error) { return "", &RefError{URL: g.URL, Ref: ref, Err: err} }
	if ref == "" || strings.HasPrefix(ref, "-") {
		return fail(ErrNoSuchRef)
	}
	// A pattern lists no peeled entry unless asked for by its own name.
	out, err := g.run(ctx, "", "ls-remote", "--", g.URL, ref, ref+"^{}")
	if err != nil {
		return fail(err)
	}
	refs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if commit, name, ok := strings.Cut(sc.Text(), "\t"); ok {
			refs[name] = commit
		}
	}
	for _, name := range []string{ref, "refs/" + ref, "refs/tags/" + ref + "^{}", "refs/tags/" + ref, "refs/heads/" + ref} {
		if commit, ok := refs[name]; ok {
			return commit, nil
		}
	}
	return fail(ErrNoSuchRef)
}

// Files reads paths (files at the root of the tree, or below it) at tag.
func (g Git) Files(ctx context.Context, tag string, paths ...string) (map[string][]byte, error) {
	if strings.HasPrefix(tag, "-") || strings.ContainsAny(tag, " \t\n:") {
		return nil, fmt.Errorf("reading files of %s: %q is not a tag name", g.URL, tag)
	}
	dir, err := os.MkdirTemp("", "studip-tag-*.git")
	if err != nil {
		return nil, fmt.Errorf("reading files of %s at %s: %w", g.URL, tag, err)
	}
	defer os.RemoveAll(dir)
	ref := "refs/tags/" + tag
	steps := [][]string{
		{"init", "-q", "--bare"},
		{"remote", "add", "origin", g.URL},
		{"fetch", "-q", "--depth=1", "--filter=blob:none", "--no-tags", "origin", "+" + ref + ":" + ref},
	}
	for _, args := range steps {
		if _, err := g.run(ctx, dir, args...); err != nil {
			return nil, fmt.Errorf("fetching %s from %s: %w", tag, g.URL, err)
		}
	}
	// ls-tree first: the trees are here, so a missing file is told apart from a failed fetch.
	out, err := g.run(ctx, dir, append([]string{"ls-tree", "-z", ref + "^{commit}", "--"}, paths...)...)
	if err != nil {
		return nil, fmt.Errorf("listing files of %s at %s: %w", g.URL, tag, err)
	}
	files := map[string][]byte{}
	for _, entry := range bytes.Split(out, []byte{0}) {
		meta, path, ok := strings.Cut(string(entry), "\t")
		fields := strings.Fields(meta)
		if !ok || len(fields) != 3 || fields[1] != "blob" {
			continue
		}
		data, err := g.run(ctx, dir, "cat-file", "blob", fields[2])
		if err != nil {
			return nil, fmt.Errorf("reading %s of %s at %s: %w", path, g.URL, tag, err)
		}
		files[path] = data
	}
	return files, nil
}

// run runs git in dir ("" for the current directory) and returns its standard output; its
// error holds git's standard error. git never prompts: a remote that wants credentials fails.
func (g Git) run(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && msg != "" {
			return nil, fmt.Errorf("git %s: %s", args[0], msg)
		}
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return out, nil
}
