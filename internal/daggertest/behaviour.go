package daggertest

import (
	"slices"
	"strings"
)

// What a session did, as tests assert it. These helpers read the recorded DAG so that a test
// names the behaviour it checks (Runs("npm", "ci"), Pushes()); the GraphQL fields that record
// it are named here, once.

// Reached is every node that the successful evaluations depended on: what the engine built.
func (e *Engine) Reached() []*Node {
	var inputs []*Node
	for _, ev := range e.Evals() {
		if ev.Err == nil {
			inputs = append(inputs, ev.Inputs()...)
		}
	}
	return Reach(inputs...)
}

// Runs are the commands the engine ran for the successful evaluations whose arguments start
// with prefix (every command, without one). Equal calls are one node, which the engine runs
// once: a command that two images share is one run.
func (e *Engine) Runs(prefix ...string) []*Node {
	var out []*Node
	for _, n := range e.reached("withExec") {
		if args := n.Command(); len(args) >= len(prefix) && slices.Equal(args[:len(prefix)], prefix) {
			out = append(out, n)
		}
	}
	return out
}

// DockerBuilds are the Docker builds the engine ran for the successful evaluations.
func (e *Engine) DockerBuilds() []*Node { return e.reached("dockerBuild") }

// reached are the nodes of Reached that call field.
func (e *Engine) reached(field string) []*Node {
	var out []*Node
	for _, n := range e.Reached() {
		if n.Field == field {
			out = append(out, n)
		}
	}
	return out
}

// Pulls are the image references that containers start from (from), for the successful
// evaluations, each once; base images of Docker builds are their build arguments.
func (e *Engine) Pulls() []string {
	var out []string
	for _, n := range e.reached("from") {
		if !slices.Contains(out, n.Str("address")) {
			out = append(out, n.Str("address"))
		}
	}
	return out
}

// Images are the containers the session waited for as images (synced, and not a command's
// run), in arrival order.
func (e *Engine) Images() []*Node {
	var out []*Node
	for _, ev := range e.Evaluated("sync") {
		if ev.Node.Field != "withExec" {
			out = append(out, ev.Node)
		}
	}
	return out
}

// Checks are the commands the session waited for on their own, such as a smoke test's, in
// arrival order.
func (e *Engine) Checks() []*Node {
	var out []*Node
	for _, ev := range e.Evaluated("sync") {
		if ev.Node.Field == "withExec" {
			out = append(out, ev.Node)
		}
	}
	return out
}

// Resolved are the git refs the session resolved to a commit, in arrival order; each node is
// the ref, its parent the repository.
func (e *Engine) Resolved() []*Node {
	var out []*Node
	for _, ev := range e.Evaluated("commit") {
		out = append(out, ev.Node)
	}
	return out
}

// Push is one publish of an image, with its platform variants, as one index.
type Push struct {
	Ref       string   // the reference pushed, repository:tag
	Digest    string   // what the registry answered, Ref@sha256:...; "" for a failed push
	Image     *Node    // the container published: its first platform
	Platforms []string // the platforms of the index, sorted
	Err       error    // what the registry answered to a failed push
}

// Pushes are the publishes the session asked for, in arrival order, failed ones included.
func (e *Engine) Pushes() []Push {
	var out []Push
	for _, ev := range e.Evals() {
		if ev.Field != "publish" {
			continue
		}
		p := Push{Ref: ev.Str("address"), Image: ev.Node, Platforms: platforms(ev.Inputs()), Err: ev.Err}
		if ev.Err == nil {
			p.Digest, _ = ev.Value.(string)
		}
		out = append(out, p)
	}
	return out
}

// Export is one image, with its platform variants, written to the host as a tarball.
type Export struct {
	Path      string
	Image     *Node
	Platforms []string // sorted
}

// Exports are the successful exports, in arrival order.
func (e *Engine) Exports() []Export {
	var out []Export
	for _, ev := range e.Evaluated("export") {
		out = append(out, Export{Path: ev.Str("path"), Image: ev.Node, Platforms: platforms(ev.Inputs())})
	}
	return out
}

// Secrets are the secrets the successful evaluations depended on.
func (e *Engine) Secrets() []*Node { return e.reached("setSecret") }

// Requests are the requests whose query text contains s: how often s went to the engine.
func (e *Engine) Requests(s string) []string {
	var out []string
	for _, q := range e.Queries() {
		if strings.Contains(q, s) {
			out = append(out, q)
		}
	}
	return out
}

// FailDockerBuild makes the Docker build of dockerfile for platform fail as a failed RUN
// does, with stderr; so does everything built on it.
func (e *Engine) FailDockerBuild(dockerfile, platform, stderr string) {
	e.FailExec(func(n *Node) bool {
		return n.Field == "dockerBuild" && n.Str("dockerfile") == dockerfile && n.Platform() == platform
	}, stderr)
}

// Command is the arguments of a command run (withExec), nil for any other node.
func (n *Node) Command() []string {
	if n.Field != "withExec" {
		return nil
	}
	return n.Strings("args")
}

// Labels are the labels set along n's chain, the last value of each.
func (n *Node) Labels() map[string]string {
	return n.settings("withLabel", "name", "value")
}

// Env is the environment set along n's chain, the last value of each variable.
func (n *Node) Env() map[string]string {
	return n.settings("withEnvVariable", "name", "value")
}

func (n *Node) settings(field, key, value string) map[string]string {
	out := map[string]string{}
	for _, s := range n.Steps(field) {
		out[s.Str(key)] = s.Str(value)
	}
	return out
}

// BuildArgs are the build arguments of a Docker build (dockerBuild).
func (n *Node) BuildArgs() map[string]string {
	out := map[string]string{}
	list, _ := n.Args["buildArgs"].([]any)
	for _, a := range list {
		if a, ok := a.(map[string]any); ok {
			name, _ := a["name"].(string)
			out[name], _ = a["value"].(string)
		}
	}
	return out
}

// DockerBuild is the Docker build n's chain starts from, nil if none.
func (n *Node) DockerBuild() *Node {
	if builds := n.Steps("dockerBuild"); len(builds) > 0 {
		return builds[len(builds)-1]
	}
	return nil
}

// Str is the string argument name of the evaluation, "" if absent.
func (ev Eval) Str(name string) string {
	s, _ := ev.Args[name].(string)
	return s
}

func platforms(nodes []*Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.Platform())
	}
	slices.Sort(out)
	return out
}
