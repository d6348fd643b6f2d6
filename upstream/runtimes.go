package upstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gitlab.studip.de/studip/docker/versions"
)

// The files of a Stud.IP tree that say which PHP and Node it needs.
const (
	ComposerJSON = "composer.json"
	ComposerLock = "composer.lock"
	PackageJSON  = "package.json"
)

// RuntimeOptions are what choosing runtimes depends on besides the tree.
type RuntimeOptions struct {
	Now time.Time // lines whose end of life has passed by then are not chosen
}

// Runtime is the PHP and Node proposed for a release, and why.
type Runtime struct {
	PHP, Node string
	Notes     []string
}

// Runtimes chooses, from a tree's composer.json, composer.lock and package.json:
//   - php: the newest line of versions.PHPLines that require.php allows, that is not below
//     config.platform.php (composer resolved the lock for that PHP), that every package of
//     composer.lock installs on (Stud.IP's own require.php has been looser than its
//     dependencies), and whose end of life has not passed (the official images drop a line
//     when it ends);
//   - node: the newest line of versions.NodeLines that engines.node allows and whose end of
//     life has not passed.
//
// When every allowed line has ended, the newest allowed one is chosen and a note says so.
func Runtimes(files map[string][]byte, opts RuntimeOptions) (Runtime, error) {
	var rt Runtime
	php, phpNotes, errPHP := choosePHP(files[ComposerJSON], files[ComposerLock], opts.Now)
	node, nodeNotes, errNode := chooseNode(files[PackageJSON], opts.Now)
	if err := errors.Join(errPHP, errNode); err != nil {
		return rt, err
	}
	rt.PHP, rt.Node = php, node
	rt.Notes = slices.Concat(phpNotes, nodeNotes)
	return rt, nil
}

// requirement is one constraint on a runtime line and where it comes from.
type requirement struct {
	from string // `require.php "^8.1"`
	c    Constraint
}

func choosePHP(data, lock []byte, now time.Time) (string, []string, error) {
	if data == nil {
		return "", nil, fmt.Errorf("%s: the tag has none", ComposerJSON)
	}
	var composer struct {
		Require map[string]any `json:"require"`
		Config  struct {
			Platform map[string]any `json:"platform"`
		} `json:"config"`
	}
	if err := json.Unmarshal(data, &composer); err != nil {
		return "", nil, fmt.Errorf("%s: %w", ComposerJSON, err)
	}
	require, _ := composer.Require["php"].(string)
	platform, _ := composer.Config.Platform["php"].(string)
	if require == "" && platform == "" {
		return "", nil, fmt.Errorf("%s names no PHP version (require.php or config.platform.php)", ComposerJSON)
	}
	var reqs []requirement
	if require != "" {
		c, err := ParseConstraint(require, Composer)
		if err != nil {
			return "", nil, fmt.Errorf("%s: require.php: %w", ComposerJSON, err)
		}
		reqs = append(reqs, requirement{fmt.Sprintf("require.php %q", require), c})
	}
	if platform != "" {
		c, err := ParseConstraint(">="+platform, Composer)
		if err != nil {
			return "", nil, fmt.Errorf("%s: config.platform.php: %w", ComposerJSON, err)
		}
		reqs = append(reqs, requirement{fmt.Sprintf("config.platform.php %q", platform), c})
	}
	locked, notes, err := lockRequirements(lock)
	if err != nil {
		return "", nil, err
	}
	pick, more, err := choose("php", versions.PHPLines, reqs, locked, now)
	return pick, append(more, notes...), err
}

// lockRequirements are the PHP constraints of the packages composer.lock installs (not its
// packages-dev: the images install with --no-dev). A constraint this matcher cannot read is
// left out, with a note; no lock, no requirements.
func lockRequirements(lock []byte) ([]requirement, []string, error) {
	if lock == nil {
		return nil, nil, nil
	}
	var l struct {
		Packages []struct {
			Name    string         `json:"name"`
			Require map[string]any `json:"require"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(lock, &l); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", ComposerLock, err)
	}
	var reqs []requirement
	var notes []string
	for _, p := range l.Packages {
		php, _ := p.Require["php"].(string)
		if php == "" {
			continue
		}
		c, err := ParseConstraint(php, Composer)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %s's PHP requirement left out: %v", ComposerLock, p.Name, err))
			continue
		}
		reqs = append(reqs, requirement{fmt.Sprintf("%s requires php %q (%s)", p.Name, php, ComposerLock), c})
	}
	return reqs, notes, nil
}

func chooseNode(data []byte, now time.Time) (string, []string, error) {
	if data == nil {
		return "", nil, fmt.Errorf("%s: the tag has none", PackageJSON)
	}
	var pkg struct {
		Engines map[string]any `json:"engines"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return "", nil, fmt.Errorf("%s: %w", PackageJSON, err)
	}
	engines, _ := pkg.Engines["node"].(string)
	if engines == "" {
		return "", nil, fmt.Errorf("%s names no engines.node", PackageJSON)
	}
	c, err := ParseConstraint(engines, NPM)
	if err != nil {
		return "", nil, fmt.Errorf("%s: engines.node: %w", PackageJSON, err)
	}
	return choose("node", versions.NodeLines, []requirement{{fmt.Sprintf("engines.node %q", engines), c}}, nil, now)
}

// choose is the newest of lines that every requirement (reqs, the tree's own, and deps, its
// dependencies') allows, preferring lines still supported at now. The notes say what was
// chosen and why, and which dependency rules out a newer supported line.
func choose(what string, lines []versions.Runtime, reqs, deps []requirement, now time.Time) (string, []string, error) {
	refusal := func(l versions.Runtime, rs []requirement) *requirement {
		for i, r := range rs {
			if ok, _ := r.c.AllowsLine(l.Name); !ok {
				return &rs[i]
			}
		}
		return nil
	}
	var allowed, byDeps []versions.Runtime // allowed by reqs and deps; by reqs but not deps
	for _, l := range lines {
		switch {
		case refusal(l, reqs) != nil:
		case refusal(l, deps) != nil:
			byDeps = append(byDeps, l)
		default:
			allowed = append(allowed, l)
		}
	}
	why := make([]string, len(reqs))
	for i, r := range reqs {
		why[i] = r.from
	}
	reason := strings.Join(why, " and ")
	if len(deps) > 0 {
		reason += fmt.Sprintf(" and the %d PHP requirements of %s", len(deps), ComposerLock)
	}
	if len(allowed) == 0 {
		return "", nil, fmt.Errorf("no %s line this project knows (versions.PHPLines, versions.NodeLines) meets %s", what, reason)
	}
	byName := func(a, b versions.Runtime) int { return compareRuntime(a.Name, b.Name) }
	supported := slices.DeleteFunc(slices.Clone(allowed), func(r versions.Runtime) bool { return r.EndedBy(now) })
	var pick versions.Runtime
	var notes []string
	if len(supported) == 0 {
		pick = slices.MaxFunc(allowed, byName)
		notes = append(notes, fmt.Sprintf("%s %s: the newest line that %s allows; every such line has reached its end of life (%s on %s)",
			what, pick.Name, reason, pick.Name, pick.EOL.Format(time.DateOnly)))
	} else {
		pick = slices.MaxFunc(supported, byName)
		notes = append(notes, fmt.Sprintf("%s %s: the newest supported line (end of life %s) that %s allows",
			what, pick.Name, pick.EOL.Format(time.DateOnly), reason))
	}
	for _, l := range byDeps {
		if byName(l, pick) > 0 && !l.EndedBy(now) {
			notes = append(notes, fmt.Sprintf("%s %s: not yet, %s", what, l.Name, refusal(l, deps).from))
		}
	}
	return pick.Name, notes, nil
}

// compareRuntime orders "8.3" and "22" numerically; the tables hold valid names only.
func compareRuntime(a, b string) int {
	sa, _ := lineSpan(a)
	sb, _ := lineSpan(b)
	return sa.lo.v.cmp(sb.lo.v)
}
