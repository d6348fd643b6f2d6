package upstream

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Constraint is a version constraint of composer.json (`^8.1`, `>=7.2`, `~8.2.0|^8.3`) or of
// package.json's engines (`>=18 <23`, `^20 || ^22`), reduced to what choosing a PHP minor or a
// Node major needs: a union of version ranges. Stability flags and pre-release suffixes are
// dropped (a runtime line is chosen, not a release), and so is `!=` (one excluded release
// never rules out a whole line).
type Constraint struct {
	text   string
	ranges []span // any of them
}

// Dialect is whose constraint syntax a text follows; the two differ in details: npm reads a
// bare partial version (`20`) as every release of it and `<=20` as up to the last 20.x,
// composer reads both as the version itself; composer also takes `|` and `,`.
type Dialect int

const (
	Composer Dialect = iota
	NPM
)

func (d Dialect) String() string {
	if d == NPM {
		return "npm"
	}
	return "composer"
}

// triple is a release version; a partial version is padded with zeros.
type triple [3]int

func (a triple) cmp(b triple) int { return slices.Compare(a[:], b[:]) }

// bound is one end of a span; unbounded when !set.
type bound struct {
	v         triple
	inclusive bool
	set       bool
}

// span is the releases between lo and hi.
type span struct{ lo, hi bound }

func (s span) intersect(t span) span {
	if t.lo.set && (!s.lo.set || t.lo.v.cmp(s.lo.v) > 0 || t.lo.v == s.lo.v && !t.lo.inclusive) {
		s.lo = t.lo
	}
	if t.hi.set && (!s.hi.set || t.hi.v.cmp(s.hi.v) < 0 || t.hi.v == s.hi.v && !t.hi.inclusive) {
		s.hi = t.hi
	}
	return s
}

func (s span) empty() bool {
	if !s.lo.set || !s.hi.set {
		return false
	}
	c := s.lo.v.cmp(s.hi.v)
	return c > 0 || c == 0 && !(s.lo.inclusive && s.hi.inclusive)
}

var (
	orSplit      = map[Dialect]*regexp.Regexp{Composer: regexp.MustCompile(`\s*\|\|?\s*`), NPM: regexp.MustCompile(`\s*\|\|\s*`)}
	hyphenRange  = regexp.MustCompile(`^(\S+)\s+-\s+(\S+)$`)
	opSpace      = regexp.MustCompile(`(>=|<=|!=|==|[<>=^~])\s+`)
	andSplit     = map[Dialect]*regexp.Regexp{Composer: regexp.MustCompile(`\s*,\s*|\s+`), NPM: regexp.MustCompile(`\s+`)}
	comparator   = regexp.MustCompile(`^(>=|<=|!=|==|[<>=^~])?v?([0-9]+|[xX*])(?:\.([0-9]+|[xX*]))?(?:\.([0-9]+|[xX*]))?(?:\.[0-9]+)?(?:-[0-9A-Za-z.-]+)?(?:@[a-z]+)?$`)
	stabilityTag = regexp.MustCompile(`@(dev|alpha|beta|RC|rc|stable)$`)
)

// ParseConstraint reads text in dialect d.
func ParseConstraint(text string, d Dialect) (Constraint, error) {
	c := Constraint{text: text}
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return c, fmt.Errorf("%s constraint %q is empty", d, text)
	}
	for _, alt := range orSplit[d].Split(trimmed, -1) {
		s, err := parseConjunction(alt, d)
		if err != nil {
			return c, fmt.Errorf("%s constraint %q: %w", d, text, err)
		}
		c.ranges = append(c.ranges, s)
	}
	return c, nil
}

func parseConjunction(alt string, d Dialect) (span, error) {
	alt = strings.TrimSpace(alt)
	if alt == "" {
		return span{}, fmt.Errorf("an alternative is empty")
	}
	if m := hyphenRange.FindStringSubmatch(alt); m != nil {
		lo, err := parseComparator(">="+m[1], d)
		if err != nil {
			return span{}, err
		}
		// Both dialects read the upper end of a hyphen range as a partial version.
		hi, err := parseComparator("<="+m[2], NPM)
		if err != nil {
			return span{}, err
		}
		return lo.intersect(hi), nil
	}
	all := span{}
	for _, part := range andSplit[d].Split(opSpace.ReplaceAllString(alt, "$1"), -1) {
		s, err := parseComparator(part, d)
		if err != nil {
			return span{}, err
		}
		all = all.intersect(s)
	}
	return all, nil
}

// parseComparator reads one term: an operator and a possibly partial version.
func parseComparator(term string, d Dialect) (span, error) {
	term = stabilityTag.ReplaceAllString(term, "")
	m := comparator.FindStringSubmatch(term)
	if m == nil {
		return span{}, fmt.Errorf("%q is not a version constraint", term)
	}
	op := m[1]
	var v triple
	parts := 0 // how many leading components are given
	for i, s := range m[2:5] {
		if s == "" || s == "x" || s == "X" || s == "*" {
			break
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return span{}, fmt.Errorf("%q: %w", term, err)
		}
		v[i] = n
		parts++
	}
	wildcard := parts < 3 && (m[2+parts] != "" || d == NPM)
	at := func(inclusive bool) bound { return bound{v: v, inclusive: inclusive, set: true} }
	// next is the first release past every one that v, as a partial version, stands for.
	next := func() bound {
		n := v
		n[parts-1]++
		for i := parts; i < 3; i++ {
			n[i] = 0
		}
		return bound{v: n, set: true}
	}
	switch {
	case parts == 0: // *, x
		if op != "" && op != "=" && op != "==" && op != ">=" {
			return span{}, fmt.Errorf("%q: a wildcard takes no operator %s", term, op)
		}
		return span{}, nil
	case op == "" || op == "=" || op == "==":
		if wildcard {
			return span{at(true), next()}, nil
		}
		return span{at(true), at(true)}, nil
	case op == ">=":
		return span{lo: at(true)}, nil
	case op == ">":
		if wildcard {
			n := next()
			n.inclusive = true
			return span{lo: n}, nil
		}
		return span{lo: at(false)}, nil
	case op == "<":
		return span{hi: at(false)}, nil
	case op == "<=":
		if d == NPM && parts < 3 {
			return span{hi: next()}, nil
		}
		return span{hi: at(true)}, nil
	case op == "!=":
		return span{}, nil
	case op == "^":
		// Up to the next change of the first non-zero component given.
		i := 0
		for i < parts-1 && v[i] == 0 {
			i++
		}
		return span{at(true), upTo(v, i)}, nil
	case op == "~":
		if parts == 1 {
			return span{at(true), upTo(v, 0)}, nil
		}
		if d == NPM {
			return span{at(true), upTo(v, 1)}, nil
		}
		return span{at(true), upTo(v, parts-2)}, nil
	}
	return span{}, fmt.Errorf("%q: unknown operator %s", term, op)
}

// upTo is the exclusive bound where component i of v goes up by one.
func upTo(v triple, i int) bound {
	var n triple
	copy(n[:i], v[:i])
	n[i] = v[i] + 1
	return bound{v: n, set: true}
}

// AllowsLine reports whether some release of a runtime line is allowed: a PHP minor ("8.3")
// or a Node major ("22").
func (c Constraint) AllowsLine(line string) (bool, error) {
	ln, err := lineSpan(line)
	if err != nil {
		return false, err
	}
	for _, r := range c.ranges {
		if !r.intersect(ln).empty() {
			return true, nil
		}
	}
	return false, nil
}

// lineSpan is the releases of a line "8.3" or "22".
func lineSpan(line string) (span, error) {
	fields := strings.Split(line, ".")
	if len(fields) > 2 {
		return span{}, fmt.Errorf("%q is not a major or minor line", line)
	}
	var v triple
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil {
			return span{}, fmt.Errorf("%q is not a major or minor line", line)
		}
		v[i] = n
	}
	return span{bound{v: v, inclusive: true, set: true}, upTo(v, len(fields)-1)}, nil
}
