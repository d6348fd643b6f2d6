package versions

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/semver"
	"gopkg.in/yaml.v3"
)

// File is a validated versions.yaml.
type File struct {
	Repository string     // where images are pushed, e.g. docker.io/studip/studip
	Source     string     // Stud.IP's git repository
	Platforms  []Platform // default platforms of every entry
	Bases      []Base     // bases in file order; the first is the default base
	Entries    []Entry    // in file order
	Tests      []Test     // the test images, in file order; none without a tests key
}

// DefaultBase is the base whose images also get the bare tags (6.0, latest, ...).
func (f *File) DefaultBase() Base { return f.Bases[0] }

// Entry is one minor line (a release or pre-release) or the nightly branch.
type Entry struct {
	Version   Version    // zero for the nightly entry
	Nightly   string     // the nightly entry's branch; "" for a release
	Ref       string     // git ref to build: as written, else Version.DefaultRef or the branch
	PHP       string     // PHP minor of the runtime image, "8.3"
	Node      string     // Node major of the asset build, "22"
	Platforms []Platform // the entry's override, else the file's platforms
	Bases     []Base     // the entry's override, else the file's bases, in file order
	// Assets is the command that builds public/assets, as the entry overrides it; nil to
	// choose it from the tree's package.json (plan.AssetCommand).
	Assets []string
	Line   int // where the entry starts in versions.yaml
}

// Test is one test image: the PHP and Node that Stud.IP's own CI jobs run in.
type Test struct {
	PHP  string // PHP minor, "8.1"
	Node string // Node major, "22"
	Line int    // where the item starts in versions.yaml
}

// IsNightly reports whether e is the nightly entry.
func (e Entry) IsNightly() bool { return e.Nightly != "" }

// Problem is one thing wrong in versions.yaml.
type Problem struct {
	Line    int
	Subject string // the key or entry concerned, "" for the whole file
	Message string
}

// Error lists every problem found in versions.yaml, in line order.
type Error struct {
	File     string // as given to Load; "" when parsed from a reader
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.In(e.File)
	}
	return strings.Join(lines, "\n")
}

// In renders p as found in file: "FILE:LINE: SUBJECT: MESSAGE", or "line LINE: ..." when
// file is ""; a problem of the whole file (line 0) is "FILE: MESSAGE".
func (p Problem) In(file string) string {
	where := "line " + strconv.Itoa(p.Line)
	switch {
	case p.Line == 0:
		where = cmp.Or(file, "versions file")
	case file != "":
		where = file + ":" + strconv.Itoa(p.Line)
	}
	if p.Subject != "" {
		where += ": " + p.Subject
	}
	return where + ": " + p.Message
}

// Load reads and validates the versions file at path; problems are reported as path:LINE.
// A file that cannot be read is a *FileError.
func Load(path string) (*File, error) {
	f, _, err := LoadData(path)
	return f, err
}

// LoadData is Load that also returns the file's bytes, for a caller that edits them.
func LoadData(path string) (*File, []byte, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := Parse(bytes.NewReader(data))
	if verr, ok := errors.AsType[*Error](err); ok {
		verr.File = path
	}
	if err != nil {
		return nil, nil, err
	}
	return f, data, nil
}

// Parse reads and validates a versions file. An invalid file yields an *Error listing every
// problem at once; a file larger than MaxFileSize, or listing more than MaxEntries, is
// refused before its entries are checked.
func Parse(r io.Reader) (*File, error) {
	data, err := readBounded(r)
	if err != nil {
		return nil, err
	}
	p := &parser{}
	f := p.file(data)
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b Problem) int { return a.Line - b.Line })
		return nil, &Error{Problems: p.problems}
	}
	return f, nil
}

type parser struct{ problems []Problem }

func (p *parser) add(n *yaml.Node, subject, format string, args ...any) {
	p.problems = append(p.problems, Problem{Line: n.Line, Subject: subject, Message: fmt.Sprintf(format, args...)})
}

var yamlErrorLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

func (p *parser) file(data []byte) *File {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := 1, strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlErrorLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		p.problems = append(p.problems, Problem{Line: line, Message: "invalid YAML: " + msg})
		return nil
	}
	if len(doc.Content) == 0 {
		p.problems = append(p.problems, Problem{Line: 1, Message: "the file is empty; it needs repository, source, platforms, bases and versions"})
		return nil
	}
	root := doc.Content[0]
	keys := p.mapping(root, "the file", "", "repository", "source", "platforms", "bases", "versions", "tests")
	if keys == nil {
		return nil
	}
	f := &File{}
	for _, k := range []string{"repository", "source", "platforms", "bases", "versions"} {
		if keys[k] == nil {
			p.add(root, "", "%s is required (see the schema in docs/versions-and-tags.md)", k)
		}
	}
	if n := keys["repository"]; n != nil {
		f.Repository = p.repository(n)
	}
	if n := keys["source"]; n != nil {
		f.Source = p.source(n)
	}
	if n := keys["platforms"]; n != nil {
		f.Platforms = p.platforms(n, "")
	}
	if n := keys["bases"]; n != nil {
		f.Bases = p.bases(n, "", nil)
	}
	if n := keys["versions"]; n != nil && p.fewEnough(n) {
		f.Entries = p.entries(n, f)
	}
	if n := keys["tests"]; n != nil {
		f.Tests = p.tests(n)
	}
	return f
}

// mapping returns the values of n's keys, reporting unknown and repeated keys; what names
// n in the message that it is no mapping ("an entry").
func (p *parser) mapping(n *yaml.Node, what, subject string, known ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.add(n, subject, "%s must be a mapping of keys (%s)", what, strings.Join(known, ", "))
		return nil
	}
	m := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(known, k.Value):
			p.add(k, subject, "unknown key %q (known: %s)", k.Value, strings.Join(known, ", "))
		case m[k.Value] != nil:
			p.add(k, subject, "key %q appears twice", k.Value)
		default:
			m[k.Value] = v
		}
	}
	return m
}

// scalar returns the text of a string value; "" after reporting anything else.
func (p *parser) scalar(n *yaml.Node, subject, key, example string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Value == "" {
		p.add(n, subject, "%s must be a non-empty string, e.g. %s: %s", key, key, example)
		return ""
	}
	return n.Value
}

// matching returns a scalar that must match re; "" after reporting a mismatch.
func (p *parser) matching(n *yaml.Node, subject, key, example string, re *regexp.Regexp, want string) string {
	s := p.scalar(n, subject, key, example)
	if s != "" && !re.MatchString(s) {
		p.add(n, subject, "%s %q is not %s, e.g. %s: %s", key, s, want, key, example)
		return ""
	}
	return s
}

var (
	// A repository without tag or digest: an optional registry host, then lower-case path components.
	repositorySyntax = regexp.MustCompile(`^([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)
	sourceSyntax     = regexp.MustCompile(`^((https?|ssh|git|file)://[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$`)
	// A git ref as git check-ref-format allows it, and never an option ("-x").
	refSyntax  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./-]*$`)
	phpSyntax  = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
	nodeSyntax = regexp.MustCompile(`^[0-9]+$`)
)

func (p *parser) repository(n *yaml.Node) string {
	return p.matching(n, "", "repository", "docker.io/studip/studip", repositorySyntax, "an image repository without tag")
}

func (p *parser) source(n *yaml.Node) string {
	return p.matching(n, "", "source", "https://gitlab.studip.de/studip/studip.git", sourceSyntax, "a git URL")
}

func (p *parser) ref(n *yaml.Node, subject, key string) string {
	s := p.matching(n, subject, key, "v6.0.3", refSyntax, "a git branch, tag or commit")
	if strings.Contains(s, "..") || strings.HasSuffix(s, "/") || strings.HasSuffix(s, ".lock") {
		p.add(n, subject, "%s %q is not a valid git ref", key, s)
		return ""
	}
	return s
}

// list returns the items of a non-empty sequence.
func (p *parser) list(n *yaml.Node, subject, key, example string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.add(n, subject, "%s must be a list, e.g. %s: [%s]", key, key, example)
		return nil
	}
	if len(n.Content) == 0 {
		p.add(n, subject, "%s is empty; list at least one, e.g. %s: [%s]", key, key, example)
	}
	return n.Content
}

func (p *parser) platforms(n *yaml.Node, subject string) []Platform {
	return distinct(p, n, subject, "platform", "linux/amd64, linux/arm64", ParsePlatform, nil)
}

// bases parses a list of bases; an entry's list (allowed != nil) must name only the file's.
func (p *parser) bases(n *yaml.Node, subject string, allowed []Base) []Base {
	if allowed == nil {
		return distinct(p, n, subject, "base", "apache, fpm-alpine", ParseBase, nil)
	}
	out := distinct(p, n, subject, "base", "apache, fpm-alpine", ParseBase, func(b Base) string {
		if slices.Contains(allowed, b) {
			return ""
		}
		return fmt.Sprintf("base %s is not among the top-level bases (%s)", b, joinStrings(allowed))
	})
	// Keep the file's order of bases whatever the entry's order.
	slices.SortStableFunc(out, func(a, b Base) int { return slices.Index(allowed, a) - slices.Index(allowed, b) })
	return out
}

// distinct parses the list of what+"s" in n with parse, reporting every item that does not
// parse, is listed twice, or that check (if any) refuses with a message.
func distinct[T comparable](p *parser, n *yaml.Node, subject, what, example string, parse func(string) (T, error), check func(T) string) []T {
	var out []T
	first, _, _ := strings.Cut(example, ",")
	for _, item := range p.list(n, subject, what+"s", example) {
		s := p.scalar(item, subject, "a "+what, first)
		if s == "" {
			continue
		}
		v, err := parse(s)
		problem := ""
		switch {
		case err != nil:
			problem = err.Error()
		case slices.Contains(out, v):
			problem = fmt.Sprintf("%s %v is listed twice", what, v)
		case check != nil:
			problem = check(v)
		}
		if problem != "" {
			p.add(item, subject, "%s", problem)
			continue
		}
		out = append(out, v)
	}
	return out
}

func (p *parser) entries(n *yaml.Node, f *File) []Entry {
	var out []Entry
	minors := map[string]int{} // minor line -> line of its first entry
	nightly := 0               // line of the nightly entry
	for i, item := range p.list(n, "", "versions", "{version: 6.0.3, php: \"8.3\", node: \"22\"}") {
		e, ok := p.entry(item, i, f)
		if !ok {
			continue
		}
		subject := entryName(item, i)
		if e.IsNightly() {
			if nightly != 0 {
				p.add(item, subject, "a second nightly entry (the first is at line %d); keep at most one", nightly)
				continue
			}
			nightly = e.Line
		} else {
			if first, dup := minors[e.Version.Minor()]; dup {
				p.add(item, subject, "a second entry for the minor line %s (the first is at line %d); keep one entry per minor line", e.Version.Minor(), first)
				continue
			}
			minors[e.Version.Minor()] = e.Line
		}
		out = append(out, e)
	}
	return out
}

// entryName names an entry in messages by its version or nightly branch as written, so
// that even an entry with problems is easy to find.
func entryName(n *yaml.Node, i int) string {
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			k, v := n.Content[j], n.Content[j+1]
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				continue
			}
			switch k.Value {
			case "version":
				return "entry " + v.Value
			case "nightly":
				return "entry nightly " + v.Value
			}
		}
	}
	return fmt.Sprintf("entry #%d", i+1)
}

// entry parses one element of versions; ok is false when it had problems.
func (p *parser) entry(n *yaml.Node, i int, f *File) (e Entry, ok bool) {
	before := len(p.problems)
	e.Line = n.Line
	subject := entryName(n, i)
	keys := p.mapping(n, "an entry", subject, "version", "nightly", "ref", "php", "node", "platforms", "bases", "assets")
	if keys == nil {
		return e, false
	}
	switch v, b := keys["version"], keys["nightly"]; {
	case v != nil && b != nil:
		p.add(n, subject, "an entry has either version (a release) or nightly (a branch), not both")
	case v == nil && b == nil:
		p.add(n, subject, "version or nightly is required, e.g. version: 6.0.3")
	case v != nil:
		if s := p.scalar(v, subject, "version", "6.0.3"); s != "" {
			var err error
			if e.Version, err = ParseVersion(s); err != nil {
				p.add(v, subject, "%v", err)
			}
		}
	default:
		e.Nightly = p.ref(b, subject, "nightly")
	}
	if r := keys["ref"]; r != nil {
		e.Ref = p.ref(r, subject, "ref")
	} else if e.IsNightly() {
		e.Ref = e.Nightly
	} else if !e.Version.IsZero() {
		e.Ref = e.Version.DefaultRef()
	}
	e.PHP, e.Node = p.phpNode(n, keys, subject, "the runtime image", "the asset build")
	e.Platforms = f.Platforms
	if v := keys["platforms"]; v != nil {
		e.Platforms = p.platforms(v, subject)
	}
	e.Bases = f.Bases
	if v := keys["bases"]; v != nil {
		e.Bases = p.bases(v, subject, f.Bases)
	}
	if v := keys["assets"]; v != nil {
		e.Assets = p.command(v, subject)
	}
	return e, len(p.problems) == before
}

// phpNode reads the required php and node keys of an entry or test image; php is for what,
// node for nodeWhat (in the messages that say a key is missing).
func (p *parser) phpNode(n *yaml.Node, keys map[string]*yaml.Node, subject, what, nodeWhat string) (php, node string) {
	if keys["php"] == nil {
		p.add(n, subject, `php is required: the PHP minor of %s, e.g. php: "8.3"`, what)
	}
	if keys["node"] == nil {
		p.add(n, subject, `node is required: the Node major of %s, e.g. node: "22"`, nodeWhat)
	}
	if v := keys["php"]; v != nil {
		php = p.php(v, subject)
	}
	if v := keys["node"]; v != nil {
		node = p.node(v, subject)
	}
	return php, node
}

// php returns a PHP minor that PHPLines lists, written as a quoted string: unquoted, YAML
// reads 8.10 as the number 8.1, and the tag would depend on how the number is printed.
func (p *parser) php(n *yaml.Node, subject string) string {
	s := p.matching(n, subject, "php", `"8.3"`, phpSyntax, "a PHP minor version")
	switch {
	case s == "":
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0:
		number := "a number"
		if f, err := strconv.ParseFloat(s, 64); err == nil && strconv.FormatFloat(f, 'f', -1, 64) != s {
			number = "the number " + strconv.FormatFloat(f, 'f', -1, 64)
		}
		if _, ok := FindRuntime(PHPLines, s); ok {
			p.add(n, subject, `php %s must be quoted: write php: "%s" (unquoted, YAML reads %s)`, s, s, number)
		} else {
			p.add(n, subject, `php %s is not a PHP line this project knows (known: %s; versions/lifecycle.go); write the line you mean quoted, e.g. php: "8.3" (unquoted, YAML reads %s)`, s, runtimeNames(PHPLines), number)
		}
	case semver.Compare("v"+s, "v"+OldestPHP) < 0:
		p.add(n, subject, "php %q is older than %s, the oldest PHP the runtime Dockerfiles build (dockerfiles/common/build-php-extensions.sh)", s, OldestPHP)
	default:
		if _, ok := FindRuntime(PHPLines, s); ok {
			return s
		}
		p.add(n, subject, "php %q is not a PHP line this project knows (known: %s; versions/lifecycle.go)", s, runtimeNames(PHPLines))
	}
	return ""
}

// node returns a Node major that NodeLines lists; quoted or not, a whole number reads the same.
func (p *parser) node(n *yaml.Node, subject string) string {
	s := p.matching(n, subject, "node", `"22"`, nodeSyntax, "a Node major version")
	if s == "" {
		return ""
	}
	if _, ok := FindRuntime(NodeLines, s); !ok {
		p.add(n, subject, "node %q is not a Node major this project knows (known: %s; versions/lifecycle.go)", s, runtimeNames(NodeLines))
		return ""
	}
	return s
}

func runtimeNames(lines []Runtime) string {
	names := make([]string, len(lines))
	for i, r := range lines {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

var commandWord = regexp.MustCompile(`^[A-Za-z0-9_.+/@-]+$`)

// command reads an argv list such as [npm, run, build]: strings only, and a first word that
// names a program (no option, no shell line in one string).
func (p *parser) command(n *yaml.Node, subject string) []string {
	const example = "npm, run, build"
	var out []string
	for i, item := range p.list(n, subject, "assets", example) {
		s := p.scalar(item, subject, "an item of assets", "npm")
		if s == "" {
			return nil
		}
		if i == 0 && (strings.HasPrefix(s, "-") || !commandWord.MatchString(s)) {
			p.add(item, subject, "assets starts with %q, which is not a program name; write the command one word per item, e.g. assets: [%s]", s, example)
			return nil
		}
		out = append(out, s)
	}
	return out
}

// tests parses the list of test images: each a php and a node, one per PHP minor.
func (p *parser) tests(n *yaml.Node) []Test {
	var out []Test
	first := map[string]int{} // PHP -> line of its test image
	for i, item := range p.list(n, "", "tests", `{php: "8.3", node: "22"}`) {
		subject := testName(item, i)
		keys := p.mapping(item, "a test image", subject, "php", "node")
		if keys == nil {
			continue
		}
		before := len(p.problems)
		t := Test{Line: item.Line}
		t.PHP, t.Node = p.phpNode(item, keys, subject, "the test image", "the test image")
		if len(p.problems) > before {
			continue
		}
		if line, dup := first[t.PHP]; dup {
			p.add(item, subject, "a second test image for PHP %s (the first is at line %d); keep one per PHP", t.PHP, line)
			continue
		}
		first[t.PHP] = t.Line
		out = append(out, t)
	}
	return out
}

// testName names a test image in messages by its php as written.
func testName(n *yaml.Node, i int) string {
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if k, v := n.Content[j], n.Content[j+1]; k.Value == "php" && v.Kind == yaml.ScalarNode && v.Value != "" {
				return "test image php " + v.Value
			}
		}
	}
	return fmt.Sprintf("test image #%d", i+1)
}

// PastEndOfLife lists the entries and test images that use a PHP or Node line whose support
// has ended by the day of now (PHPLines, NodeLines), one Problem each, in line order. They
// are warnings: the file is valid, and an old Stud.IP line may have no newer PHP to go to.
func (f *File) PastEndOfLife(now time.Time) []Problem {
	var out []Problem
	check := func(line int, subject string, lines []Runtime, kind, name string) {
		if r, ok := FindRuntime(lines, name); ok && r.EndedBy(now) {
			out = append(out, Problem{Line: line, Subject: subject,
				Message: fmt.Sprintf("%s %s reached its end of life on %s", kind, r.Name, r.EOL.Format(time.DateOnly))})
		}
	}
	for _, e := range f.Entries {
		subject := "entry " + e.Version.String()
		if e.IsNightly() {
			subject = "entry nightly " + e.Nightly
		}
		check(e.Line, subject, PHPLines, "PHP", e.PHP)
		check(e.Line, subject, NodeLines, "Node", e.Node)
	}
	for _, t := range f.Tests {
		subject := "test image php " + t.PHP
		check(t.Line, subject, PHPLines, "PHP", t.PHP)
		check(t.Line, subject, NodeLines, "Node", t.Node)
	}
	slices.SortStableFunc(out, func(a, b Problem) int { return a.Line - b.Line })
	return out
}
