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

// Runtimes chooses, from a tree's composer.json and package.json:
//   - php: the newest line of versions.PHPLines that require.php allows, that is not below
//     config.platform.php (composer resolved the lock for that PHP) and whose end of life
//     has not passed (the official images drop a line when it ends);
//   - node: the newest line of versions.NodeLines that engines.node allows and whose end of
//     life has not passed.
//
// When every allowed line has ended, the newest allowed one is chosen and a note says so.
func Runtimes(files map[string][]byte, opts RuntimeOptions) (Runtime, error) {
	var rt Runtime
	php, phpNote, errPHP := choosePHP(files[ComposerJSON], opts.Now)
	node, nodeNote, errNode := chooseNode(files[PackageJSON], opts.Now)
	if err := errors.Join(errPHP, errNode); err != nil {
		return rt, err
	}
	rt.PHP, rt.Node = php, node
	rt.Notes = []string{phpNote, nodeNote}
	return rt, nil
}

func choosePHP(data []byte, now time.Time) (string, string, error) {
	if data == nil {
		return "", "", fmt.Errorf("%s: the tag has none", ComposerJSON)
	}
	var composer struct {
		Require map[string]any `json:"require"`
		Config  struct {
			Platform map[string]any `json:"platform"`
		} `json:"config"`
	}
	if err := json.Unmarshal(data, &composer); err != nil {
		return "", "", fmt.Errorf("%s: %w", ComposerJSON, err)
	}
	require, _ := composer.Require["php"].(string)
	platform, _ := composer.Config.Platform["php"].(string)
	if require == "" && platform == "" {
		return "", "", fmt.Errorf("%s names no PHP version (require.php or config.platform.php)", ComposerJSON)
	}
	var conds []Constraint
	var why []string
	if require != "" {
		c, err := ParseConstraint(require, Composer)
		if err != nil {
			return "", "", fmt.Errorf("%s: require.php: %w", ComposerJSON, err)
		}
		conds = append(conds, c)
		why = append(why, fmt.Sprintf("require.php %q", require))
	}
	if platform != "" {
		c, err := ParseConstraint(">="+platform, Composer)
		if err != nil {
			return "", "", fmt.Errorf("%s: config.platform.php: %w", ComposerJSON, err)
		}
		conds = append(conds, c)
		why = append(why, fmt.Sprintf("config.platform.php %q", platform))
	}
	return choose("php", versions.PHPLines, conds, why, now)
}

func chooseNode(data []byte, now time.Time) (string, string, error) {
	if data == nil {
		return "", "", fmt.Errorf("%s: the tag has none", PackageJSON)
	}
	var pkg struct {
		Engines map[string]any `json:"engines"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return "", "", fmt.Errorf("%s: %w", PackageJSON, err)
	}
	engines, _ := pkg.Engines["node"].(string)
	if engines == "" {
		return "", "", fmt.Errorf("%s names no engines.node", PackageJSON)
	}
	c, err := ParseConstraint(engines, NPM)
	if err != nil {
		return "", "", fmt.Errorf("%s: engines.node: %w", PackageJSON, err)
	}
	return choose("node", versions.NodeLines, []Constraint{c}, []string{fmt.Sprintf("engines.node %q", engines)}, now)
}

// choose is the newest of lines that every constraint allows, preferring lines still
// supported at now; the note says what was chosen and why.
func choose(what string, lines []versions.Runtime, conds []Constraint, why []string, now time.Time) (string, string, error) {
	var allowed []versions.Runtime
	for _, l := range lines {
		ok := true
		for _, c := range conds {
			if ok, _ = c.AllowsLine(l.Name); !ok {
				break
			}
		}
		if ok {
			allowed = append(allowed, l)
		}
	}
	reason := strings.Join(why, " and ")
	if len(allowed) == 0 {
		return "", "", fmt.Errorf("no %s line this project knows (versions.PHPLines, versions.NodeLines) meets %s", what, reason)
	}
	byName := func(a, b versions.Runtime) int { return compareRuntime(a.Name, b.Name) }
	newest := slices.MaxFunc(allowed, byName)
	supported := slices.DeleteFunc(slices.Clone(allowed), func(r versions.Runtime) bool { return r.EndedBy(now) })
	if len(supported) == 0 {
		return newest.Name, fmt.Sprintf("%s %s: the newest line that %s allows; every such line has reached its end of life (%s on %s)",
			what, newest.Name, reason, newest.Name, newest.EOL.Format(time.DateOnly)), nil
	}
	pick := slices.MaxFunc(supported, byName)
	return pick.Name, fmt.Sprintf("%s %s: the newest supported line (end of life %s) that %s allows",
		what, pick.Name, pick.EOL.Format(time.DateOnly), reason), nil
}

// compareRuntime orders "8.3" and "22" numerically; the tables hold valid names only.
func compareRuntime(a, b string) int {
	sa, _ := lineSpan(a)
	sb, _ := lineSpan(b)
	return sa.lo.v.cmp(sb.lo.v)
}
