// Package plan decides what to build: one target per versions.yaml entry and base, plus one
// per test image the file declares, each with its platforms, build inputs, labels and tags.
// It is pure (no Dagger, no I/O) so that `ci plan` and the pipelines agree by construction.
package plan

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gitlab.studip.de/studip/docker/versions"
)

// Channel says what kind of image a target is.
type Channel string

const (
	Release    Channel = "release"
	Prerelease Channel = "prerelease"
	Nightly    Channel = "nightly"
	Tests      Channel = "tests" // the test image of a PHP version, for Stud.IP's own CI
)

// Plan is every target of a versions file, in a deterministic order: nightly first, then
// releases newest first, then the test images newest PHP first; bases in file order.
type Plan struct {
	Repository string
	Images     Images
	Targets    []Target
}

// Target is one image: everything the pipelines need to build, test and push it.
type Target struct {
	Name    string // "6.0.3", "6.1.0-beta.1", "nightly" or "tests-php8.3"
	Minor   string // "6.0"; "" for nightly and test images
	Channel Channel
	// Base is the runtime flavour of a Stud.IP image; "" for a test image, which is built
	// on php:X.Y-cli, the image Stud.IP's own CI jobs run in, and is none of the bases.
	Base      versions.Base
	PHP       string
	Node      string
	Platforms []versions.Platform
	Tags      []Tag // bare before suffixed; full version, minor, major, latest

	// Source is where the Stud.IP tree comes from; nil for a test image, which holds none.
	Source *Source
	// Runtime is the Docker build of the PHP runtime: the whole image of a test image, the
	// base of the final stage otherwise. Targets with equal Runtime share one build.
	Runtime Runtime
	// Labels are the OCI labels of the image, sorted by key. The pipeline adds
	// LabelRevision and LabelCreated (unless set here) once it has resolved Source.Ref to a
	// commit, and LabelBuildID.
	Labels []Label

	repository string
}

// Source is the Stud.IP tree of a target and the images its architecture-independent
// stages run in.
type Source struct {
	URL string `json:"url"`           // git repository
	Ref string `json:"ref,omitempty"` // branch, tag or commit
	// Commit is the commit Ref named when the plan was pinned (Options.Commits): the
	// pipeline builds it without resolving Ref again. "" lets the pipeline resolve Ref.
	Commit        string `json:"commit,omitempty"`
	NodeImage     string `json:"nodeImage"`     // runs npm ci and the asset command
	ComposerImage string `json:"composerImage"` // runs composer install
	// Assets is the asset command that versions.yaml sets for the entry; nil to choose it
	// from the tree's package.json with AssetCommand.
	Assets []string `json:"assets,omitempty"`
}

// Runtime is a Docker build of dockerfiles/ (the build context).
type Runtime struct {
	Dockerfile string     `json:"dockerfile"`       // relative to dockerfiles/, e.g. "apache/Dockerfile"
	Target     string     `json:"target,omitempty"` // the stage to build; "" for the last one
	BuildArgs  []BuildArg `json:"buildArgs"`        // sorted by name
	// Bases are the images the Dockerfile starts from. The pipeline resolves each to a digest
	// and passes it in the base's Arg, so that the build uses what the build ID names.
	Bases []BaseImage `json:"bases"`
}

// BaseImage is an image a Dockerfile starts from (FROM), as pulled through the mirror, and
// the build argument that pins it to a digest ("sha256:...", empty for the tag's current).
type BaseImage struct {
	Image string `json:"image"`
	Arg   string `json:"arg"`
}

// BuildArg is one --build-arg.
type BuildArg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Label is one OCI image label.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// OCI label keys (https://github.com/opencontainers/image-spec/blob/main/annotations.md).
const (
	LabelCreated  = "org.opencontainers.image.created"
	LabelLicenses = "org.opencontainers.image.licenses"
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelTitle    = "org.opencontainers.image.title"
	LabelVersion  = "org.opencontainers.image.version"
)

// Options are the inputs of a plan besides the versions file.
type Options struct {
	Mirror string // registry prefix that every base image is pulled through; "" for Docker Hub
	// Created is SOURCE_DATE_EPOCH, when set: every image's creation time. Zero leaves it to
	// the pipeline, which takes each Stud.IP image's from its source commit (equal inputs,
	// equal images) and gives a test image, built from no source, none.
	Created time.Time
	// Commits pins Stud.IP versions, by name (6.0.3, nightly), to commits of their refs
	// resolved beforehand: full commit IDs, lowercase hex.
	Commits map[string]string
}

// Ref is the full reference of one of t's tags.
func (t Target) Ref(tag Tag) string { return t.repository + ":" + tag.Name }

// String names the target in messages: "6.0.3 apache", "tests-php8.3".
func (t Target) String() string {
	if t.Base == "" {
		return t.Name
	}
	return t.Name + " " + string(t.Base)
}

// New plans every target of f.
func New(f *versions.File, opts Options) (*Plan, error) {
	if err := checkPins(f, opts.Commits); err != nil {
		return nil, err
	}
	images := Images{Mirror: opts.Mirror}
	p := &Plan{Repository: f.Repository, Images: images}
	entries := slices.Clone(f.Entries)
	slices.SortStableFunc(entries, newestFirst)
	aliases := aliasesByBase(f)
	for _, e := range entries {
		for _, b := range e.Bases {
			p.Targets = append(p.Targets, p.studipTarget(f, e, b, aliases[b][entryName(e)], opts))
		}
	}
	p.Targets = append(p.Targets, p.testTargets(f, opts)...)
	if err := checkTags(p.Targets); err != nil {
		return nil, err
	}
	return p, nil
}

// newestFirst orders the nightly entry first, then versions by descending precedence.
func newestFirst(a, b versions.Entry) int {
	if a.IsNightly() || b.IsNightly() {
		return boolOrder(b.IsNightly(), a.IsNightly())
	}
	return b.Version.Compare(a.Version)
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func entryName(e versions.Entry) string {
	if e.IsNightly() {
		return "nightly"
	}
	return e.Version.String()
}

func (p *Plan) studipTarget(f *versions.File, e versions.Entry, b versions.Base, as []alias, opts Options) Target {
	t := Target{
		Name:      entryName(e),
		Base:      b,
		PHP:       e.PHP,
		Node:      e.Node,
		Platforms: e.Platforms,
		Tags:      renderTags(as, b, f.DefaultBase()),
		Source: &Source{
			URL:           f.Source,
			Ref:           e.Ref,
			Commit:        opts.Commits[entryName(e)],
			NodeImage:     p.Images.Node(e.Node),
			ComposerImage: p.Images.Composer(),
			Assets:        e.Assets,
		},
		Runtime:    p.Images.runtime(b, e.PHP),
		repository: f.Repository,
	}
	switch {
	case e.IsNightly():
		t.Channel = Nightly
	case e.Version.Prerelease() != "":
		t.Channel, t.Minor = Prerelease, e.Version.Minor()
	default:
		t.Channel, t.Minor = Release, e.Version.Minor()
	}
	t.Labels = labels(t.Name, "Stud.IP ("+string(b)+")", f.Source, opts.Created)
	return t
}

// testTargets plans the test images the file declares, newest PHP first, on the file's
// platforms.
func (p *Plan) testTargets(f *versions.File, opts Options) []Target {
	tests := slices.Clone(f.Tests)
	slices.SortStableFunc(tests, func(a, b versions.Test) int { return compareMinor(b.PHP, a.PHP) })
	var out []Target
	for _, test := range tests {
		name := "tests-php" + test.PHP
		out = append(out, Target{
			Name:       name,
			Channel:    Tests,
			PHP:        test.PHP,
			Node:       test.Node,
			Platforms:  f.Platforms,
			Tags:       []Tag{{Name: name, Floating: true}},
			Runtime:    p.Images.testRuntime(test.PHP, test.Node),
			Labels:     labels(name, "Stud.IP test image (PHP "+test.PHP+")", f.Source, opts.Created),
			repository: f.Repository,
		})
	}
	return out
}

// compareMinor orders "M.m" strings numerically, so that 8.10 comes after 8.9.
func compareMinor(a, b string) int {
	var am, an, bm, bn int
	fmt.Sscanf(a, "%d.%d", &am, &an)
	fmt.Sscanf(b, "%d.%d", &bm, &bn)
	return cmp.Or(cmp.Compare(am, bm), cmp.Compare(an, bn))
}

func labels(version, title, source string, created time.Time) []Label {
	var out []Label
	if !created.IsZero() {
		out = append(out, Label{LabelCreated, created.UTC().Format(time.RFC3339)})
	}
	return append(out,
		Label{LabelLicenses, "GPL-2.0-or-later"},
		Label{LabelSource, source},
		Label{LabelTitle, title},
		Label{LabelVersion, version},
	)
}

// TagError reports tags that are invalid or claimed by two targets.
type TagError struct{ Problems []string }

func (e *TagError) Error() string { return "planning tags: " + strings.Join(e.Problems, "; ") }

var tagSyntax = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func checkTags(targets []Target) error {
	owner := map[string]Target{}
	var problems []string
	for _, t := range targets {
		for _, tag := range t.Tags {
			if !tagSyntax.MatchString(tag.Name) {
				problems = append(problems, fmt.Sprintf("tag %q of %s is not a valid registry tag", tag.Name, t))
			}
			if o, dup := owner[tag.Name]; dup {
				problems = append(problems, fmt.Sprintf("tag %q is claimed by both %s and %s", tag.Name, o, t))
				continue
			}
			owner[tag.Name] = t
		}
	}
	if problems != nil {
		return &TagError{Problems: problems}
	}
	return nil
}
