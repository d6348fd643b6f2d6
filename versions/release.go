package versions

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// ReleaseOptions are a release manager's choices besides the version (the flags of
// `ci release`).
type ReleaseOptions struct {
	PHP, Node string // "" keeps an entry's own; a new line infers them from the nearest lower line
	Force     bool   // allow a version lower than the line's current one
}

// Release is an edit of a versions file for a new Stud.IP release.
type Release struct {
	Data     []byte   // the edited file; the input itself when nothing changes
	File     *File    // Data, parsed
	Notes    []string // what the edit does and what it inferred, one line each
	Inferred []string // the keys of a new entry taken from the line below ("php", "node")
}

// ReleaseError is a release that the file cannot take as asked.
type ReleaseError struct {
	Problem ReleaseProblem
	Version Version // the release asked for
	Current Version // LowerVersion: the line's current version
	Line    int     // LowerVersion: the line's entry
	Value   string  // BadPHP, BadNode: the value given
}

// ReleaseProblem says what is wrong with a release.
type ReleaseProblem int

const (
	BadPHP       ReleaseProblem = iota + 1 // ReleaseOptions.PHP is no PHP minor
	BadNode                                // ReleaseOptions.Node is no Node major
	LowerVersion                           // lower than the line's current version, without Force
	NoLowerLine                            // a new line, no line below to take php and node from, and not both given
)

func (e *ReleaseError) Error() string {
	switch e.Problem {
	case BadPHP:
		return fmt.Sprintf("php %q is not a PHP minor version, e.g. 8.3", e.Value)
	case BadNode:
		return fmt.Sprintf("node %q is not a Node major version, e.g. 22", e.Value)
	case LowerVersion:
		return fmt.Sprintf("line %d: %s is lower than %s, the current version of the %s line", e.Line, e.Version, e.Current, e.Version.Minor())
	}
	return fmt.Sprintf("%s starts a new minor line and no lower line is there to take php and node from", e.Version)
}

// EditRelease sets the entry of v's minor line to v, or adds an entry for a new minor line.
// It edits the text in place, so that the file's comments, order and formatting stay as
// they are: a version, php or node value is replaced at its position, a new entry is
// inserted as lines of its own, and an entry's explicit ref is dropped so that the release
// builds Stud.IP's tag. The result is validated by Parse; on any error nothing is returned.
func EditRelease(data []byte, v Version, opts ReleaseOptions) (*Release, error) {
	if opts.PHP != "" && !phpSyntax.MatchString(opts.PHP) {
		return nil, &ReleaseError{Problem: BadPHP, Version: v, Value: opts.PHP}
	}
	if opts.Node != "" && !nodeSyntax.MatchString(opts.Node) {
		return nil, &ReleaseError{Problem: BadNode, Version: v, Value: opts.Node}
	}
	f, err := Parse(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err // Parse accepted the file, so this cannot happen
	}
	ed := &editor{src: data, root: doc.Content[0]}
	seq := valueOf(ed.root, "versions")
	if seq.Style&yaml.FlowStyle != 0 {
		return nil, fmt.Errorf("line %d: versions is a flow list ([...]); write it as a block list (- version: ...) so that it can be edited", seq.Line)
	}
	ed.items = seq.Content
	r := &Release{}
	i := slices.IndexFunc(f.Entries, func(e Entry) bool { return !e.IsNightly() && e.Version.Minor() == v.Minor() })
	if i >= 0 {
		err = ed.update(r, f.Entries[i], i, v, opts)
	} else {
		err = ed.add(r, f, v, opts)
	}
	if err != nil {
		return nil, err
	}
	if len(ed.edits) == 0 {
		r.Data, r.File = data, f
		return r, nil
	}
	r.Data = ed.apply()
	if r.File, err = Parse(bytes.NewReader(r.Data)); err != nil {
		return nil, err
	}
	return r, nil
}

func (ed *editor) update(r *Release, e Entry, i int, v Version, opts ReleaseOptions) error {
	item := ed.items[i]
	line := v.Minor()
	c := v.Compare(e.Version)
	if c < 0 && !opts.Force {
		return &ReleaseError{Problem: LowerVersion, Version: v, Current: e.Version, Line: e.Line}
	}
	if c != 0 {
		if err := ed.replace(valueOf(item, "version"), v.String()); err != nil {
			return err
		}
		note := fmt.Sprintf("%s line (line %d): %s -> %s", line, e.Line, e.Version, v)
		if c < 0 {
			note += " (back to a lower version)"
		}
		r.Notes = append(r.Notes, note)
		// A ref pinned the old version to some branch or commit; the release is Stud.IP's tag.
		if ref := valueOf(item, "ref"); ref != nil {
			if err := ed.deleteKeyLine(item, "ref"); err != nil {
				return err
			}
			r.Notes = append(r.Notes, fmt.Sprintf("%s line: dropped ref: %s (line %d), so that %s builds Stud.IP's tag %s", line, ref.Value, ref.Line, v, v.DefaultRef()))
		}
	}
	for _, kv := range []struct{ key, old, new string }{{"php", e.PHP, opts.PHP}, {"node", e.Node, opts.Node}} {
		if kv.new == "" || kv.new == kv.old {
			continue
		}
		if err := ed.replace(valueOf(item, kv.key), kv.new); err != nil {
			return err
		}
		r.Notes = append(r.Notes, fmt.Sprintf("%s line: %s %s -> %s", line, kv.key, kv.old, kv.new))
	}
	if len(ed.edits) == 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("the %s line is already at %s; nothing to change", line, v))
	}
	return nil
}

func (ed *editor) add(r *Release, f *File, v Version, opts ReleaseOptions) error {
	// The nearest lower line is the template of the new one, and the new entry goes above
	// it; without one, it goes below the lowest line.
	lower, lowest := -1, -1
	for i, e := range f.Entries {
		if e.IsNightly() {
			continue
		}
		if e.Version.Compare(v) < 0 && (lower < 0 || e.Version.Compare(f.Entries[lower].Version) > 0) {
			lower = i
		}
		if lowest < 0 || e.Version.Compare(f.Entries[lowest].Version) < 0 {
			lowest = i
		}
	}
	php, node := opts.PHP, opts.Node
	if php == "" || node == "" {
		if lower < 0 {
			return &ReleaseError{Problem: NoLowerLine, Version: v}
		}
		from := f.Entries[lower]
		var inferred []string
		if php == "" {
			php = from.PHP
			inferred = append(inferred, "php "+php)
			r.Inferred = append(r.Inferred, "php")
		}
		if node == "" {
			node = from.Node
			inferred = append(inferred, "node "+node)
			r.Inferred = append(r.Inferred, "node")
		}
		r.Notes = append(r.Notes, fmt.Sprintf("%s line: %s inferred from the %s line (line %d)",
			v.Minor(), strings.Join(inferred, " and "), from.Version.Minor(), from.Line))
	}
	at := ed.endOfItems()
	if lower >= 0 {
		at = ed.startOfItem(lower)
	} else if lowest+1 < len(ed.items) {
		at = ed.startOfItem(lowest + 1)
	}
	indent, err := ed.itemIndent()
	if err != nil {
		return err
	}
	cont := strings.Repeat(" ", utf8.RuneCountInString(indent))
	text := fmt.Sprintf("%sversion: %s\n%sphp: %q\n%snode: %q\n", indent, v, cont, php, cont, node)
	line := bytes.Count(ed.src[:at], []byte("\n")) + 1
	if at == len(ed.src) && at > 0 && ed.src[at-1] != '\n' {
		text = "\n" + text
		line++
	}
	ed.edits = append(ed.edits, edit{start: at, end: at, text: text})
	r.Notes = append(r.Notes, fmt.Sprintf("%s line: new entry %s (line %d)", v.Minor(), v, line))
	return nil
}

// editor collects replacements of byte ranges of a versions file, located by the positions
// that yaml.v3 reports.
type editor struct {
	src   []byte
	root  *yaml.Node   // the top-level mapping
	items []*yaml.Node // the entries of versions
	edits []edit
}

type edit struct {
	start, end int // byte range of src to replace
	text       string
}

// apply returns src with every edit made; edits never overlap.
func (ed *editor) apply() []byte {
	slices.SortFunc(ed.edits, func(a, b edit) int { return b.start - a.start })
	out := slices.Clone(ed.src)
	for _, e := range ed.edits {
		out = slices.Concat(out[:e.start], []byte(e.text), out[e.end:])
	}
	return out
}

// valueOf returns the value of key in mapping m, nil when absent.
func valueOf(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// offset is the byte offset of a yaml.v3 position (1-based line, 1-based column in runes).
func (ed *editor) offset(line, column int) int {
	off := ed.lineStart(line - 1)
	for range column - 1 {
		_, size := utf8.DecodeRune(ed.src[off:])
		off += size
	}
	return off
}

// lineStart is the byte offset of the 0-based line i; len(src) past the last line.
func (ed *editor) lineStart(i int) int {
	off := 0
	for ; i > 0; i-- {
		next := bytes.IndexByte(ed.src[off:], '\n')
		if next < 0 {
			return len(ed.src)
		}
		off += next + 1
	}
	return off
}

// line is the 0-based line i without its newline.
func (ed *editor) line(i int) string {
	start := ed.lineStart(i)
	end := bytes.IndexByte(ed.src[start:], '\n')
	if end < 0 {
		return string(ed.src[start:])
	}
	return string(ed.src[start : start+end])
}

// replace swaps scalar n's text for value, written in n's style.
func (ed *editor) replace(n *yaml.Node, value string) error {
	raw, ok := scalarText(n.Style, n.Value)
	if !ok {
		return fmt.Errorf("line %d: cannot edit the value %q in place (a %s); change it by hand", n.Line, n.Value, styleName(n.Style))
	}
	start := ed.offset(n.Line, n.Column)
	if !bytes.HasPrefix(ed.src[start:], []byte(raw)) {
		return fmt.Errorf("line %d: cannot find the value %q where YAML put it; change it by hand", n.Line, n.Value)
	}
	text, _ := scalarText(n.Style, value)
	end := start + len(raw)
	// Keep a trailing comment in its column: pad a shorter value, eat into the gap for a
	// longer one (down to one space).
	gap := len(ed.src[end:]) - len(bytes.TrimLeft(ed.src[end:], " "))
	if end+gap < len(ed.src) && ed.src[end+gap] == '#' {
		if d := len(text) - len(raw); d < 0 {
			text += strings.Repeat(" ", -d)
		} else {
			end += min(d, gap-1)
		}
	}
	ed.edits = append(ed.edits, edit{start: start, end: end, text: text})
	return nil
}

// scalarText is how a one-line scalar in the given style is written; false for styles
// whose text is not the value itself (block scalars, escapes).
func scalarText(style yaml.Style, value string) (string, bool) {
	switch style {
	case 0:
		return value, true
	case yaml.DoubleQuotedStyle:
		if strings.ContainsAny(value, "\"\\\n") {
			return "", false
		}
		return `"` + value + `"`, true
	case yaml.SingleQuotedStyle:
		if strings.Contains(value, "\n") {
			return "", false
		}
		return "'" + strings.ReplaceAll(value, "'", "''") + "'", true
	}
	return "", false
}

func styleName(s yaml.Style) string {
	switch s {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		return "block scalar"
	}
	return "quoted value with escapes"
}

// deleteKeyLine removes the line of key in the block mapping item, which must hold that key
// and its value alone (and perhaps a comment).
func (ed *editor) deleteKeyLine(item *yaml.Node, key string) error {
	k := item.Content[slices.IndexFunc(item.Content, func(n *yaml.Node) bool { return n.Value == key })]
	v := valueOf(item, key)
	raw, ok := scalarText(v.Style, v.Value)
	text := ed.line(k.Line - 1)
	prefix := text[:ed.offset(k.Line, k.Column)-ed.lineStart(k.Line-1)]
	rest, hasKey := strings.CutPrefix(text[len(prefix):], key+":")
	rest, hasValue := strings.CutPrefix(strings.TrimLeft(rest, " \t"), raw)
	rest = strings.TrimSpace(rest)
	if item.Content[0] == k || !ok || !hasKey || !hasValue || strings.TrimSpace(prefix) != "" || rest != "" && !strings.HasPrefix(rest, "#") {
		return fmt.Errorf("line %d: %s: %s is not on a line of its own; remove it by hand (the release builds its tag) and rerun", k.Line, key, v.Value)
	}
	ed.edits = append(ed.edits, edit{start: ed.lineStart(k.Line - 1), end: ed.lineStart(k.Line), text: ""})
	return nil
}

// startOfItem is the offset where entry i begins, with the comment lines right above it.
func (ed *editor) startOfItem(i int) int {
	line := ed.items[i].Line - 1
	for line > 0 && strings.HasPrefix(strings.TrimSpace(ed.line(line-1)), "#") {
		line--
	}
	return ed.lineStart(line)
}

// endOfItems is the offset right after the last entry's last line: before the blank and
// comment lines that precede the next top-level key, or the end of the file.
func (ed *editor) endOfItems() int {
	end := strings.Count(string(ed.src), "\n") + 1 // one past the last line
	for i := 0; i+1 < len(ed.root.Content); i += 2 {
		if ed.root.Content[i].Value == "versions" && i+2 < len(ed.root.Content) {
			end = ed.root.Content[i+2].Line - 1
		}
	}
	for end > 0 {
		if s := strings.TrimSpace(ed.line(end - 1)); s != "" && !strings.HasPrefix(s, "#") {
			break
		}
		end--
	}
	return ed.lineStart(end)
}

// itemIndent is the text before the first key of an entry, "  - " in the usual layout,
// that a new entry copies.
func (ed *editor) itemIndent() (string, error) {
	first := ed.items[0]
	prefix := ed.line(first.Line - 1)[:ed.offset(first.Line, first.Column)-ed.lineStart(first.Line-1)]
	if first.Kind != yaml.MappingNode || first.Style&yaml.FlowStyle != 0 || strings.TrimSpace(prefix) != "-" {
		return "", fmt.Errorf("line %d: the first entry is not a block mapping (- version: ...); write it as one so that entries can be added", first.Line)
	}
	return prefix, nil
}
