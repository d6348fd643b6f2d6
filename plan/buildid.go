package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gitlab.studip.de/studip/docker/versions"
)

// RecipeVersion names the way the pipelines assemble an image from its inputs: the stages,
// their commands and the tree's layout, everything the plan does not hold. Bump it with every
// change there, so that the next publish rebuilds every image instead of keeping ones made
// the old way.
const RecipeVersion = 1

// LabelBuildID is the label that carries an image's build ID.
const LabelBuildID = "org.studip.image.build-id"

// BuildInputs are what the plan knows of a target's build ID: everything that decides the
// image's bytes except what only a registry or git can answer (Resolved). Image references
// are without the mirror, which changes where an image is pulled from, not what it is.
type BuildInputs struct {
	Recipe int `json:"recipe"`
	// Source is the target's Source without Ref and Commit: Resolved.Source stands for them. nil
	// for a test image.
	Source  *Source  `json:"source,omitempty"`
	Runtime Runtime  `json:"runtime"`
	Labels  []Label  `json:"labels"`
	Images  []string `json:"images"` // every image the build pulls, each resolved to a digest

	mirror string
}

// Resolved are the inputs of a build ID that the pipeline finds out: the same for every
// platform but Images, which are resolved for the platform being built.
type Resolved struct {
	// Source is the commit the tree is built from, or for a local tree the digest of its
	// content; "" for a test image.
	Source string `json:"source,omitempty"`
	// Context is the digest of the runtime Dockerfiles' build context.
	Context string `json:"context"`
	// Images maps each image the build pulls, as the target names it (through the mirror),
	// to the digest the build uses.
	Images map[string]string `json:"images"`
}

// BuildInputs are the planned inputs of t's build ID.
func (p *Plan) BuildInputs(t Target) BuildInputs {
	in := BuildInputs{Recipe: RecipeVersion, Labels: t.Labels, mirror: p.Images.Mirror}
	in.Runtime = Runtime{Dockerfile: t.Runtime.Dockerfile, Target: t.Runtime.Target}
	for _, a := range t.Runtime.BuildArgs {
		in.Runtime.BuildArgs = append(in.Runtime.BuildArgs, BuildArg{a.Name, in.canonical(a.Value)})
	}
	for _, b := range t.Runtime.Bases {
		in.Runtime.Bases = append(in.Runtime.Bases, BaseImage{Image: in.canonical(b.Image), Arg: b.Arg})
	}
	for _, img := range t.Images() {
		in.Images = append(in.Images, in.canonical(img))
	}
	slices.Sort(in.Images)
	if t.Source != nil {
		s := *t.Source
		s.Ref, s.Commit = "", "" // r.Source names the commit, pinned or resolved
		s.NodeImage, s.ComposerImage = in.canonical(s.NodeImage), in.canonical(s.ComposerImage)
		in.Source = &s
	}
	return in
}

// Images are the images t's build pulls: its runtime's bases and its source's stages.
func (t Target) Images() []string {
	var out []string
	for _, b := range t.Runtime.Bases {
		out = append(out, b.Image)
	}
	if t.Source != nil {
		out = append(out, t.Source.NodeImage, t.Source.ComposerImage)
	}
	return out
}

// canonical is ref as pulled without the mirror: "m.example/hub/php" is "php".
func (in BuildInputs) canonical(ref string) string {
	if in.mirror == "" {
		return ref
	}
	return strings.TrimPrefix(ref, in.mirror+"/")
}

// BuildIDError reports resolved inputs that leave a build ID undetermined.
type BuildIDError struct{ Problems []string }

func (e *BuildIDError) Error() string {
	return "computing the build ID: " + strings.Join(e.Problems, "; ")
}

// BuildID is the build ID of the image that in and r make for platform pl: "sha256:" and
// the hex SHA-256 of their canonical JSON. Equal inputs give equal IDs on every machine; a
// change of any input gives another.
func (in BuildInputs) BuildID(pl versions.Platform, r Resolved) (string, error) {
	var problems []string
	if in.Source != nil && r.Source == "" {
		problems = append(problems, "the source is not resolved to a commit or digest")
	}
	if r.Context == "" {
		problems = append(problems, "the build context has no digest")
	}
	images := map[string]string{}
	for ref, d := range r.Images {
		images[in.canonical(ref)] = d
	}
	for _, img := range in.Images {
		d, ok := images[img]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("image %s is not resolved", img))
		case !validDigest(d):
			problems = append(problems, fmt.Sprintf("image %s resolved to %q, not a sha256 digest", img, d))
		}
	}
	for img := range images {
		if !slices.Contains(in.Images, img) {
			problems = append(problems, fmt.Sprintf("image %s is not among the target's images", img))
		}
	}
	if problems != nil {
		slices.Sort(problems)
		return "", &BuildIDError{Problems: problems}
	}
	r.Images = images
	doc, err := json.Marshal(struct {
		Inputs   BuildInputs `json:"inputs"`
		Platform string      `json:"platform"`
		Resolved Resolved    `json:"resolved"`
	}{in, pl.String(), r})
	if err != nil {
		return "", fmt.Errorf("computing the build ID: %w", err)
	}
	sum := sha256.Sum256(doc)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// validDigest accepts "sha256:" and 64 lower-case hex digits.
func validDigest(d string) bool {
	hexPart, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hexPart) != 64 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil && strings.ToLower(hexPart) == hexPart
}
