// Package daggertest is a fake Dagger engine for tests: it answers the GraphQL the Dagger Go
// SDK sends, over in-memory HTTP, and records every query, so that a test can rebuild the
// whole DAG behind each evaluation (sync, publish, export, ...) and assert its properties
// without an engine.
//
// It is content-addressed like the real engine: the same chain of calls with the same
// arguments is one node with one ID, however often and in whatever argument order the SDK
// sends it. It does not run anything: a leaf answers with a fixed, deterministic value.
package daggertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	pathpkg "path"
	"slices"
	"strings"
	"sync"

	"dagger.io/dagger"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// idPrefix marks the IDs this engine hands out, so that an argument can be told from a string.
const idPrefix = "fakeid:"

// Engine is one fake session. Its methods are safe for concurrent use.
type Engine struct {
	platform string

	mu       sync.Mutex
	nodes    map[string]*Node
	queries  []string
	evals    []Eval
	failExec []execRule
	failPush []func(address string) bool
	files    map[fileKey]string
	commits  map[string]string // commit handed out -> the ref it resolved
	stdout   []stdoutRule
	written  []func(*Node) (string, bool)
	registry *registry
	pushed   map[string]string // git URL and ref -> the commit SetCommit gave it
}

type stdoutRule struct {
	match func(*Node) bool
	out   string
}

// fileKey names a file that a test gave contents: path in a git repository's trees at ref
// ("" for every ref), or in a host directory (repo "", ref the directory).
type fileKey struct{ repo, ref, path string }

type execRule struct {
	match  func(*Node) bool
	stderr string
}

// Eval is one evaluation the SDK asked for: a leaf field such as sync, publish or export on
// Node, with the leaf's own arguments.
type Eval struct {
	Field string
	Node  *Node // nil for a leaf on the query root (defaultPlatform)
	Args  map[string]any
	Value any   // what the engine answered on success
	Err   error // what the engine answered on failure, nil on success
}

// Inputs are the nodes an evaluation depends on directly: its node and the objects passed
// as its arguments (a publish's platformVariants).
func (ev Eval) Inputs() []*Node {
	var out []*Node
	if ev.Node != nil {
		out = append(out, ev.Node)
	}
	return append(out, refsIn(ev.Args)...)
}

// New starts a fake engine whose native platform is platform ("linux/amd64").
func New(platform string) *Engine {
	return &Engine{platform: platform, nodes: map[string]*Node{}, files: map[fileKey]string{}, commits: map[string]string{},
		pushed: map[string]string{}, registry: &registry{}, stdout: []stdoutRule{{printsCommitTime, CommitTime}}}
}

// CommitTime is what `git log --format=%ct` prints in the fake engine, unless a Stdout rule
// says otherwise: like a resolved git ref's commit, a fixed value.
const CommitTime = "1767225600\n"

func printsCommitTime(n *Node) bool {
	args := n.Strings("args")
	return n.Field == "withExec" && len(args) > 0 && args[0] == "git" && slices.Contains(args, "--format=%ct")
}

// Connect is dagger.Connect to this engine; the connection lives in memory.
func (e *Engine) Connect(ctx context.Context) (*dagger.Client, error) {
	return dagger.Connect(ctx, dagger.WithConn(conn{&http.Client{Transport: e}}))
}

type conn struct{ *http.Client }

func (conn) Host() string { return "fake-engine" }
func (conn) Close() error { return nil }

// FailExec makes every evaluation that depends on a node matching match fail the way a
// failed exec does (a *dagger.ExecError with exit code 1 and stderr).
func (e *Engine) FailExec(match func(*Node) bool, stderr string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failExec = append(e.failExec, execRule{match, stderr})
}

// FailPublish makes every publish to an address matching match fail.
func (e *Engine) FailPublish(match func(address string) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failPush = append(e.failPush, match)
}

// Stdout makes the stdout of every container matching match answer out ("" otherwise), the
// way a command that printed it would. The latest matching rule wins.
func (e *Engine) Stdout(match func(*Node) bool, out string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stdout = append([]stdoutRule{{match, out}}, e.stdout...)
}

// Written makes the contents of every file for which answer says so what it returns, as a
// command that wrote it would; other files are looked up as GitFile and HostFile gave them.
func (e *Engine) Written(answer func(file *Node) (string, bool)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.written = append(e.written, answer)
}

// SetCommit makes ref (a branch, tag or other name) of the git repository url resolve to
// commit, as a push there would.
func (e *Engine) SetCommit(url, ref, commit string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pushed[url+"\x00"+ref] = commit
}

// GitFile gives the file at path of the trees of the git repository url contents, at ref
// (a branch or tag as resolved, e.g. "v6.0.3") or, with ref "", at every ref and commit.
// Reading a file of a tree that no call gave is an error, as reading a missing file is.
func (e *Engine) GitFile(url, ref, path, contents string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.files[fileKey{url, ref, cleanPath(path)}] = contents
}

// HostFile gives the file at path of the host directory dir contents.
func (e *Engine) HostFile(dir, path, contents string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.files[fileKey{"", dir, cleanPath(path)}] = contents
}

func cleanPath(p string) string { return strings.TrimPrefix(pathpkg.Clean("/"+p), "/") }

// Queries are the query texts received, in arrival order.
func (e *Engine) Queries() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.queries...)
}

// Evals are the evaluations received, in arrival order.
func (e *Engine) Evals() []Eval {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Eval(nil), e.evals...)
}

// Evaluated are the evaluations of field that succeeded, in arrival order.
func (e *Engine) Evaluated(field string) []Eval {
	var out []Eval
	for _, ev := range e.Evals() {
		if ev.Field == field && ev.Err == nil {
			out = append(out, ev)
		}
	}
	return out
}

// RoundTrip serves one SDK request: the engine is the connection's transport.
func (e *Engine) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	e.serveHTTP(rec, r)
	return rec.Result(), nil
}

func (e *Engine) serveHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query string `json:"query"`
	}
	if r.Method != http.MethodPost || r.URL.Path != "/query" {
		http.Error(w, "the fake engine serves POST /query", http.StatusNotFound)
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	e.queries = append(e.queries, req.Query)
	e.mu.Unlock()

	var resp struct {
		Data   any           `json:"data"`
		Errors gqlerror.List `json:"errors,omitempty"`
	}
	data, err := e.query(req.Query)
	if err != nil {
		resp.Errors = gqlerror.List{gqlerror.WrapIfUnwrapped(err)}
	} else {
		resp.Data = data
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (e *Engine) query(text string) (any, error) {
	doc, err := parser.ParseQuery(&ast.Source{Input: text})
	if err != nil {
		return nil, fmt.Errorf("fake engine: parsing query: %w", err)
	}
	if len(doc.Operations) != 1 {
		return nil, fmt.Errorf("fake engine: want one operation, got %d", len(doc.Operations))
	}
	return e.selection(nil, doc.Operations[0].SelectionSet)
}

// selection answers set on parent (nil: the query root). The SDK sends one chain per query,
// so every object field has a single path below it.
func (e *Engine) selection(parent *Node, set ast.SelectionSet) (map[string]any, error) {
	out := map[string]any{}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.InlineFragment: // `node(id:) { ... on Container { ... } }`: same object
			inner, err := e.selection(parent, s.SelectionSet)
			if err != nil {
				return nil, err
			}
			for k, v := range inner {
				out[k] = v
			}
		case *ast.Field:
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			args := map[string]any{}
			for _, a := range s.Arguments {
				v, err := a.Value.Value(nil)
				if err != nil {
					return nil, fmt.Errorf("fake engine: argument %s of %s: %w", a.Name, s.Name, err)
				}
				args[a.Name] = v
			}
			var (
				v   any
				err error
			)
			if len(s.SelectionSet) == 0 {
				v, err = e.leaf(parent, s.Name, args)
			} else {
				var child *Node
				if child, err = e.step(parent, s.Name, args); err == nil {
					v, err = e.selection(child, s.SelectionSet)
				}
			}
			if err != nil {
				return nil, err
			}
			out[key] = v
		default:
			return nil, fmt.Errorf("fake engine: unsupported selection %T", sel)
		}
	}
	return out, nil
}

// step is the node for calling field with args on parent: an existing one if the same call
// was made before, else a new one.
func (e *Engine) step(parent *Node, field string, args map[string]any) (*Node, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if parent == nil && field == "node" { // loading an object by ID
		id, _ := args["id"].(string)
		n, ok := e.nodes[id]
		if !ok {
			return nil, fmt.Errorf("fake engine: unknown ID %q", id)
		}
		return n, nil
	}
	canon, err := json.Marshal(args) // encoding/json sorts map keys: argument order is irrelevant
	if err != nil {
		return nil, err
	}
	parentID := ""
	if parent != nil {
		parentID = parent.ID
	}
	sum := sha256.Sum256([]byte(parentID + "\x00" + field + "\x00" + string(canon)))
	id := idPrefix + hex.EncodeToString(sum[:12])
	if n, ok := e.nodes[id]; ok {
		return n, nil
	}
	resolved, err := e.resolveRefs(args)
	if err != nil {
		return nil, fmt.Errorf("fake engine: %s: %w", field, err)
	}
	n := &Node{ID: id, Parent: parent, Field: field, Args: resolved.(map[string]any), engine: e}
	e.nodes[id] = n
	return n, nil
}

// resolveRefs replaces the IDs in an argument value by their nodes.
func (e *Engine) resolveRefs(v any) (any, error) {
	switch v := v.(type) {
	case string:
		if !strings.HasPrefix(v, idPrefix) {
			return v, nil
		}
		n, ok := e.nodes[v]
		if !ok {
			return nil, fmt.Errorf("unknown ID %q", v)
		}
		return n, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := e.resolveRefs(x)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, err := e.resolveRefs(x)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

// leaf answers a scalar field. Every field but id forces evaluation and is recorded.
func (e *Engine) leaf(n *Node, field string, args map[string]any) (any, error) {
	if field == "id" {
		if n == nil {
			return nil, fmt.Errorf("fake engine: the query root has no id")
		}
		return n.ID, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	resolved, err := e.resolveRefs(args)
	if err != nil {
		return nil, fmt.Errorf("fake engine: %s: %w", field, err)
	}
	ev := Eval{Field: field, Node: n, Args: resolved.(map[string]any)}
	v, err := e.answer(ev)
	ev.Value, ev.Err = v, err
	e.evals = append(e.evals, ev)
	return v, err
}

func (e *Engine) answer(ev Eval) (any, error) {
	if ev.Field == "defaultPlatform" && ev.Node == nil {
		return e.platform, nil
	}
	if ev.Node == nil {
		return nil, fmt.Errorf("fake engine: unsupported root field %s", ev.Field)
	}
	for _, n := range Reach(ev.Inputs()...) {
		for _, r := range e.failExec {
			if r.match(n) {
				return nil, execError(n, r.stderr)
			}
		}
	}
	switch ev.Field {
	case "sync":
		return ev.Node.ID, nil
	case "publish":
		address, _ := ev.Args["address"].(string)
		for _, match := range e.failPush {
			if match(address) {
				return nil, fmt.Errorf("failed to export: failed to push %s: unexpected status from PUT request: 503 Service Unavailable", address)
			}
		}
		d := digest(ev.Inputs())
		e.record(address, d, ev.Inputs())
		return address + "@" + d, nil
	case "export":
		return ev.Args["path"], nil
	case "stdout":
		for _, r := range e.stdout {
			if r.match(ev.Node) {
				return r.out, nil
			}
		}
		return "", nil
	case "stderr", "combinedOutput":
		return "", nil
	case "label":
		name, _ := ev.Args["name"].(string)
		return e.label(ev.Node, name)
	case "imageRef":
		return e.imageRef(ev.Node)
	case "digest": // a directory's content: stable per chain, as the real one is per content
		sum := sha256.Sum256([]byte("directory " + ev.Node.ID))
		return "sha256:" + hex.EncodeToString(sum[:]), nil
	case "exitCode":
		return 0, nil
	case "commit": // a git ref resolved: a stable fake commit per ref, unless set
		sum := sha256.Sum256([]byte(ev.Node.ID))
		commit := hex.EncodeToString(sum[:20])
		if repo := ev.Node.Parent; repo != nil && repo.Field == "git" {
			if c, ok := e.pushed[repo.Str("url")+"\x00"+ev.Node.Str("name")]; ok {
				commit = c
			}
		}
		e.commits[commit] = ev.Node.Str("name")
		return commit, nil
	case "contents":
		return e.contents(ev)
	}
	return nil, fmt.Errorf("fake engine: unsupported leaf %s on %s", ev.Field, ev.Node.Field)
}

// contents answers the contents of a file of a git tree or a host directory, as GitFile and
// HostFile gave them.
func (e *Engine) contents(ev Eval) (any, error) {
	file := ev.Node
	for _, answer := range e.written {
		if out, ok := answer(file); ok {
			return out, nil
		}
	}
	if len(ev.Args) > 0 {
		return nil, fmt.Errorf("fake engine: contents%s: reading part of a file is not supported", formatArgs(ev.Args))
	}
	if file.Field != "file" || file.Parent == nil {
		return nil, fmt.Errorf("fake engine: contents of %v: only a file of a directory can be read", file)
	}
	key, ok := e.fileKey(file.Parent, cleanPath(file.Str("path")))
	if !ok {
		return nil, fmt.Errorf("fake engine: contents of %v: only a file of a git tree or a host directory can be read", file)
	}
	if c, found := e.files[key]; found {
		return c, nil
	}
	if key.repo != "" {
		if c, found := e.files[fileKey{key.repo, "", key.path}]; found {
			return c, nil
		}
	}
	// What the engine answers for a missing file.
	return nil, fmt.Errorf("lstat /%s: no such file or directory", key.path)
}

// fileKey locates path in dir: a git tree (of a resolved commit, or of a ref) or a host
// directory.
func (e *Engine) fileKey(dir *Node, path string) (fileKey, bool) {
	switch {
	case dir.Field == "directory" && dir.Parent != nil && dir.Parent.Field == "host":
		return fileKey{"", dir.Str("path"), path}, true
	case dir.Field != "tree" || dir.Parent == nil || dir.Parent.Parent == nil || dir.Parent.Parent.Field != "git":
		return fileKey{}, false
	}
	at, repo := dir.Parent, dir.Parent.Parent
	ref := at.Str("name") // ref, branch or tag
	if at.Field == "commit" {
		ref = e.commits[at.Str("id")]
	}
	return fileKey{repo.Str("url"), ref, path}, true
}

// digest is the fake manifest digest of an image and its platform variants: equal content,
// equal digest, as in a registry. A registry login is no content.
func digest(nodes []*Node) string {
	h := sha256.New()
	for _, n := range nodes {
		for n.Field == "withRegistryAuth" && n.Parent != nil {
			n = n.Parent
		}
		io.WriteString(h, n.ID+"\n")
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// execError is what the engine answers for a failed exec: the SDK turns it into *dagger.ExecError.
func execError(n *Node, stderr string) error {
	cmd := []any{}
	for _, a := range n.Strings("args") {
		cmd = append(cmd, a)
	}
	return &gqlerror.Error{
		Message: fmt.Sprintf("process %q did not complete successfully: exit code: 1", strings.Join(n.Strings("args"), " ")),
		Extensions: map[string]any{
			"_type":    "EXEC_ERROR",
			"cmd":      cmd,
			"exitCode": 1,
			"stdout":   "",
			"stderr":   stderr,
		},
	}
}

// String renders an evaluation for test failures.
func (ev Eval) String() string {
	var b bytes.Buffer
	if ev.Node != nil {
		b.WriteString(ev.Node.String() + ".")
	}
	b.WriteString(ev.Field + formatArgs(ev.Args))
	return b.String()
}
