package daggertest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Node is one call in the DAG: Field called with Args on Parent (nil for a call on the query
// root, such as container or git). Objects passed as arguments appear in Args as *Node.
// Nodes never change once made.
type Node struct {
	ID     string
	Parent *Node
	Field  string
	Args   map[string]any

	engine *Engine
}

// Str is the string argument name, "" if absent.
func (n *Node) Str(name string) string {
	s, _ := n.Args[name].(string)
	return s
}

// Strings is the string list argument name.
func (n *Node) Strings(name string) []string {
	var out []string
	list, _ := n.Args[name].([]any)
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Bool is the boolean argument name.
func (n *Node) Bool(name string) bool {
	b, _ := n.Args[name].(bool)
	return b
}

// Ref is the object passed as argument name, nil if none.
func (n *Node) Ref(name string) *Node {
	r, _ := n.Args[name].(*Node)
	return r
}

// Chain is n and its ancestors, the root call first.
func (n *Node) Chain() []*Node {
	var out []*Node
	for c := n; c != nil; c = c.Parent {
		out = append(out, c)
	}
	slices.Reverse(out)
	return out
}

// Steps are the calls of n's chain named field, the root call first.
func (n *Node) Steps(field string) []*Node {
	var out []*Node
	for _, c := range n.Chain() {
		if c.Field == field {
			out = append(out, c)
		}
	}
	return out
}

// Platform is the platform n was made for: that of the nearest container or dockerBuild
// call up its chain, the engine's own if that call names none; "" if n is not made in a
// container (a git tree, a host directory).
func (n *Node) Platform() string {
	for c := n; c != nil; c = c.Parent {
		if c.Field == "dockerBuild" || (c.Field == "container" && c.Parent == nil) {
			if p := c.Str("platform"); p != "" {
				return p
			}
			return c.engine.platform
		}
	}
	return ""
}

// Reach is every node the given nodes depend on, themselves included: their chains and,
// recursively, the objects passed as arguments anywhere in them. Each node once, in a
// deterministic order.
func Reach(nodes ...*Node) []*Node {
	seen := map[*Node]bool{}
	var out []*Node
	var visit func(*Node)
	visit = func(n *Node) {
		for c := n; c != nil && !seen[c]; c = c.Parent {
			seen[c] = true
			out = append(out, c)
			for _, r := range refsIn(c.Args) {
				visit(r)
			}
		}
	}
	for _, n := range nodes {
		visit(n)
	}
	return out
}

// refsIn lists the nodes in an argument value, map keys in sorted order.
func refsIn(v any) []*Node {
	switch v := v.(type) {
	case *Node:
		return []*Node{v}
	case []any:
		var out []*Node
		for _, x := range v {
			out = append(out, refsIn(x)...)
		}
		return out
	case map[string]any:
		var out []*Node
		for _, k := range sortedKeys(v) {
			out = append(out, refsIn(v[k])...)
		}
		return out
	}
	return nil
}

// String renders n's chain, objects in arguments by the field that made them:
// container(platform:"linux/amd64").from(address:"node:22").withExec(args:["npm","ci"]).
func (n *Node) String() string {
	parts := make([]string, 0, len(n.Chain()))
	for _, c := range n.Chain() {
		parts = append(parts, c.Field+formatArgs(c.Args))
	}
	return strings.Join(parts, ".")
}

func formatArgs(args map[string]any) string {
	if len(args) == 0 {
		return ""
	}
	parts := make([]string, 0, len(args))
	for _, k := range sortedKeys(args) {
		parts = append(parts, k+":"+formatValue(args[k]))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func formatValue(v any) string {
	switch v := v.(type) {
	case *Node:
		return "<" + v.Field + ">"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = formatValue(x)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		return "{" + strings.TrimSuffix(strings.TrimPrefix(formatArgs(v), "("), ")") + "}"
	case string:
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprint(v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
