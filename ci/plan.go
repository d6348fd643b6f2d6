package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"gitlab.studip.de/studip/docker/plan"
)

func runPlan(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "plan", "[--file F] [--version V]... [--base B]... [--platform P]... [--json]",
		"Prints the targets (one per versions.yaml entry and base, plus the test images of its\ntests list) with their platforms, asset command and tags. Needs no engine.")
	pf := addPlanFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	p, err := pf.load(e, plan.Options{})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, p)
	}
	return writeTable(e.stdout, p)
}

type jsonPlan struct {
	Repository string       `json:"repository"`
	Targets    []jsonTarget `json:"targets"`
}

type jsonTarget struct {
	Version   string   `json:"version"`
	Minor     string   `json:"minor"`
	Channel   string   `json:"channel"`
	Base      string   `json:"base"`
	Ref       string   `json:"ref"`
	PHP       string   `json:"php"`
	Node      string   `json:"node"`
	Assets    string   `json:"assets"`
	Platforms []string `json:"platforms"`
	Tags      []string `json:"tags"`
	// Build are the inputs of the target's build ID that are known without an engine; the
	// pipeline adds the source commit and the digests (docs/release-managers.md).
	Build plan.BuildInputs `json:"build"`
}

func writeJSON(w io.Writer, p *plan.Plan) error {
	out := jsonPlan{Repository: p.Repository, Targets: []jsonTarget{}}
	for _, t := range p.Targets {
		out.Targets = append(out.Targets, jsonTarget{
			Version:   t.Name,
			Minor:     t.Minor,
			Channel:   string(t.Channel),
			Base:      string(t.Base),
			Ref:       ref(t),
			PHP:       t.PHP,
			Node:      t.Node,
			Assets:    assets(t),
			Platforms: strs(t.Platforms),
			Tags:      t.TagNames(),
			Build:     p.BuildInputs(t),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeTable(w io.Writer, p *plan.Plan) error {
	fmt.Fprintf(w, "repository: %s\n\n", p.Repository)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tCHANNEL\tBASE\tREF\tPHP\tNODE\tASSETS\tPLATFORMS\tTAGS")
	for _, t := range p.Targets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Channel, orDash(string(t.Base)), orDash(ref(t)), t.PHP, t.Node,
			orDash(assets(t)), strings.Join(strs(t.Platforms), ","), strings.Join(t.TagNames(), " "))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fromPackageJSON says that the pipeline chooses the asset command from the tree it builds.
const fromPackageJSON = "from package.json"

// assets is the command that builds t's assets, as far as the versions file tells: its
// override, else fromPackageJSON; "" for a test image, which builds none.
func assets(t plan.Target) string {
	switch {
	case t.Source == nil:
		return ""
	case len(t.Source.Assets) > 0:
		return strings.Join(t.Source.Assets, " ")
	}
	return fromPackageJSON
}

// ref is the git ref a target builds; a test image builds none.
func ref(t plan.Target) string {
	if t.Source == nil {
		return ""
	}
	return t.Source.Ref
}

func strs[T fmt.Stringer](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.String()
	}
	return out
}
