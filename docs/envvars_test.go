package docs

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// The files the images read the environment with, as globs in dockerfiles/. Scripts and the
// config template are told apart by their first lines; the .ini and .conf files read it as
// ${NAME} (PHP, Apache and php-fpm expand that from the environment).
var envSources = []string{"common/*", "common/php/*.ini", "apache/*.conf", "apache/*.sh", "fpm-alpine/*.conf"}

// notRunInImage are files of common/ that run outside the images, so what they read is not
// the images' configuration.
var notRunInImage = map[string]string{
	"common/build-locales.sh":         "runs at build time, bind-mounted into the Dockerfiles' RUN",
	"common/build-php-extensions.sh":  "runs at build time, bind-mounted into the Dockerfiles' RUN",
	"common/debian-php-extensions.sh": "runs at build time, bind-mounted into the Dockerfiles' RUN",
}

// setElsewhere are upper-case names the files read that no one configures: the system, a
// base image or the tests alone set them.
var setElsewhere = map[string]string{
	"APACHE_LOG_DIR":                      "set by Debian's /etc/apache2/envvars, which apache2-foreground loads",
	"HOME":                                "set by the system for every process",
	"PATH":                                "set by the system for every process",
	"PWD":                                 "set by the shell",
	"STUDIP_TEST_UNPRIVILEGED_PORT_START": "set by dockerfiles' tests alone, for the kernel's first unprivileged port (docker-entrypoint.sh)",
}

// byName are the shell functions whose first argument names the variables they read, with
// the suffixes of those names: file_env NAME reads NAME and NAME_FILE.
var byName = map[string][]string{
	"studip_flag":   {""},
	"studip_number": {""},
	"studip_size":   {""},
	"file_env":      {"", "_FILE"},
}

// studip is the reader of variables only the Stud.IP tree reads (its .env.dist).
const studip = "Stud.IP"

const contractPath = "image-contract.md"

// TestEnvironmentTable checks that the table of environment variables in image-contract.md
// names exactly the variables the images read, each with the files that read it.
func TestEnvironmentTable(t *testing.T) {
	reads, errs := imageReads(os.DirFS("../dockerfiles"))
	for _, err := range errs {
		t.Error(err)
	}
	if len(reads) == 0 {
		t.Fatal("found no environment variable read in ../dockerfiles: the extraction is broken")
	}
	table := loadTable(t)
	for _, p := range tableProblems(table, reads) {
		t.Error(p)
	}
}

// TestEnvironmentTableCatches shows that the check fails when the scripts and the table
// disagree, with files changed as a new variable or a restructured script would change them.
func TestEnvironmentTableCatches(t *testing.T) {
	base := loadTree(t, "../dockerfiles")
	table := loadTable(t)
	tests := []struct {
		name  string
		edit  map[string]string // file -> text appended (a new file if it did not exist)
		rows  map[string]string // table rows added (variable -> read by), "" drops one
		wants []string          // each must occur in a problem; none: no problem
	}{
		{name: "the images as they are"},
		{
			name: "a restructured entrypoint: file_env as MariaDB's, in a loop",
			edit: map[string]string{
				"common/studip-functions.sh": "file_env() {\n    local value file\n    eval \"value=\\${$1:-} file=\\${$1_FILE:-}\"\n}\n",
				"common/docker-entrypoint.sh": "read_secrets() {\n    local name\n" +
					"    for name in STUDIP_NEW_SECRET MYSQL_PASSWORD; do\n        file_env \"$name\"\n    done\n}\n",
			},
			wants: []string{"STUDIP_NEW_SECRET_FILE is read by docker-entrypoint.sh but missing"},
		},
		{
			name:  "entrypoint reads an undocumented variable",
			edit:  map[string]string{"common/docker-entrypoint.sh": `echo "${STUDIP_UNDOCUMENTED:-x}"` + "\n"},
			wants: []string{"STUDIP_UNDOCUMENTED is read by docker-entrypoint.sh but missing"},
		},
		{
			name:  "a flag read by name",
			edit:  map[string]string{"common/docker-entrypoint.sh": "if studip_flag STUDIP_NEW_FLAG; then :; fi\n"},
			wants: []string{"STUDIP_NEW_FLAG is read by docker-entrypoint.sh but missing"},
		},
		{
			name:  "file_env reads NAME and NAME_FILE",
			edit:  map[string]string{"common/docker-entrypoint.sh": "file_env 'STUDIP_SECRET'\n"},
			wants: []string{"STUDIP_SECRET is read", "STUDIP_SECRET_FILE is read"},
		},
		{
			name: "file_env in a loop, the secrets documented",
			edit: map[string]string{"common/docker-entrypoint.sh": "read_all() {\n    local name\n" +
				"    for name in STUDIP_SECRET $(other_names); do\n        file_env \"$name\"\n    done\n}\n"},
			rows: map[string]string{"STUDIP_SECRET": "docker-entrypoint.sh", "STUDIP_SECRET_FILE": "docker-entrypoint.sh"},
		},
		{
			name:  "a by-name reader called with a name the test cannot see",
			edit:  map[string]string{"common/docker-entrypoint.sh": "studip_flag \"$some_name\"\n"},
			wants: []string{`studip_flag "$some_name": the name is not a literal`},
		},
		{
			name:  "a new function that reads the variable its argument names",
			edit:  map[string]string{"common/studip-functions.sh": "env_or() {\n    eval \"env_or_value=\\${$1:-$2}\"\n}\n"},
			wants: []string{"env_or reads the variable named by its argument"},
		},
		{
			name: "a sourced file reads for the scripts that source it",
			edit: map[string]string{
				"common/studip-lock.sh":       "# shellcheck shell=sh\nlock_wait=${STUDIP_LOCK_WAIT:-60}\n",
				"common/docker-entrypoint.sh": ". \"$(dirname -- \"$0\")/studip-lock.sh\"\n",
			},
			wants: []string{"STUDIP_LOCK_WAIT is read by docker-entrypoint.sh but missing"},
		},
		{
			name:  "the config template reads one more",
			edit:  map[string]string{"common/config_local.inc.php": "$x = getenv('STUDIP_PHP_ONLY');\n"},
			wants: []string{"STUDIP_PHP_ONLY is read by config_local.inc.php but missing"},
		},
		{
			name:  "the config template reads one through its helper",
			edit:  map[string]string{"common/config_local.inc.php": "$x = $studip_image_flag('STUDIP_PHP_FLAG');\n"},
			wants: []string{"STUDIP_PHP_FLAG is read by config_local.inc.php but missing"},
		},
		{
			name:  "the config template reads a computed name",
			edit:  map[string]string{"common/config_local.inc.php": "$x = getenv($name);\n"},
			wants: []string{"getenv($name): the name is not a literal"},
		},
		{
			name: "a computed name, its variables named in a comment",
			edit: map[string]string{"common/config_local.inc.php": "// envvars: STUDIP_OTHER_<NAME>_FILE\n" +
				"foreach (getenv() as $name => $file) {\n    $_ENV[$name] = $file;\n}\n"},
			rows: map[string]string{"STUDIP_OTHER_<NAME>_FILE": "config_local.inc.php"},
		},
		{
			name:  "the script reads the whole environment",
			edit:  map[string]string{"common/docker-entrypoint.sh": "env | sed -n 's/^STUDIP_X_\\(.*\\)=.*/\\1/p'\n"},
			wants: []string{"env | reads the whole environment"},
		},
		{
			name:  "php.ini takes a setting from the environment",
			edit:  map[string]string{"common/php/studip.ini": "realpath_cache_size = ${PHP_REALPATH_CACHE_SIZE}\n"},
			wants: []string{"PHP_REALPATH_CACHE_SIZE is read by studip.ini but missing"},
		},
		{
			name:  "Apache listens on a port from the environment",
			edit:  map[string]string{"apache/studip.conf": "Listen ${STUDIP_OTHER_PORT}\n"},
			rows:  map[string]string{"STUDIP_OTHER_PORT": "studip.conf"},
			wants: nil,
		},
		{
			name:  "a comment names a variable",
			edit:  map[string]string{"common/docker-entrypoint.sh": "# $STUDIP_IN_A_COMMENT\necho '$STUDIP_SINGLE_QUOTED'\n"},
			wants: nil,
		},
		{
			name:  "the table names a variable nothing reads",
			rows:  map[string]string{"STUDIP_GONE": "docker-entrypoint.sh"},
			wants: []string{"STUDIP_GONE: the table says it is read by docker-entrypoint.sh, but nothing reads it"},
		},
		{
			name:  "the table names the wrong reader",
			rows:  map[string]string{"STUDIP_DB_WAIT": "studip-cron"},
			wants: []string{"STUDIP_DB_WAIT is read by docker-entrypoint.sh, the table says studip-cron"},
		},
		{
			name:  "the table misses a variable",
			rows:  map[string]string{"MYSQL_PORT": ""},
			wants: []string{"MYSQL_PORT is read by config_local.inc.php, docker-entrypoint.sh but missing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := maps.Clone(base)
			for name, text := range tt.edit {
				tree[name] = tree[name] + text
			}
			tab := maps.Clone(table)
			for name, readers := range tt.rows {
				if readers == "" {
					delete(tab, name)
				} else {
					tab[name] = splitReaders(readers)
				}
			}
			reads, errs := imageReads(mapFS(tree))
			var problems []string
			for _, err := range errs {
				problems = append(problems, err.Error())
			}
			problems = append(problems, tableProblems(tab, reads)...)
			if len(tt.wants) == 0 && len(problems) > 0 {
				t.Errorf("want no problem, got:\n%s", strings.Join(problems, "\n"))
			}
			for _, want := range tt.wants {
				if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
					t.Errorf("want a problem with %q, got:\n%s", want, strings.Join(problems, "\n"))
				}
			}
		})
	}
}

// tableProblems compares the table (variable -> read by) with what the files read (variable
// -> readers) and says what to change. Rows of patterns (STUDIP_CONFIG_<NAME>) are not
// checked: no file names such a variable.
func tableProblems(table map[string][]string, reads map[string][]string) []string {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(reads)) {
		got := strings.Join(reads[name], ", ")
		row, ok := table[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: %s is read by %s but missing from its table of environment variables: add a row | `%s` | default | what it does | %s |",
				contractPath, name, got, name, got))
			continue
		}
		if want := strings.Join(imageReaders(row), ", "); want != got {
			problems = append(problems, fmt.Sprintf("%s: %s is read by %s, the table says %s", contractPath, name, got, orNothing(want)))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(table)) {
		if _, read := reads[name]; read || strings.Contains(name, "<") {
			continue
		}
		if readers := imageReaders(table[name]); len(readers) > 0 {
			problems = append(problems, fmt.Sprintf("%s: %s: the table says it is read by %s, but nothing reads it: drop the row, or say %q if only Stud.IP reads it",
				contractPath, name, strings.Join(readers, ", "), studip))
		}
	}
	return problems
}

func imageReaders(readers []string) []string {
	return slices.DeleteFunc(slices.Clone(readers), func(r string) bool { return r == studip })
}

func orNothing(s string) string {
	if s == "" {
		return "only " + studip
	}
	return s
}

var tableRow = regexp.MustCompile("^\\|\\s*`([^`]+)`\\s*\\|.*\\|\\s*([^|]*?)\\s*\\|\\s*$")

// loadTable reads the table of the section "Environment variables" of image-contract.md:
// variable -> the files that read it (its last column).
func loadTable(t *testing.T) map[string][]string {
	t.Helper()
	table := map[string][]string{}
	for _, line := range strings.Split(tableSection(t), "\n") {
		m := tableRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if _, dup := table[m[1]]; dup {
			t.Errorf("%s: %s has two rows", contractPath, m[1])
		}
		table[m[1]] = splitReaders(m[2])
	}
	if len(table) == 0 {
		t.Fatalf("%s: the section \"Environment variables\" has no table rows", contractPath)
	}
	return table
}

// tableSection is the text of the section "Environment variables" of image-contract.md.
func tableSection(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(contractPath)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Environment variables\n")
	if !ok {
		t.Fatalf("%s: no section \"## Environment variables\"", contractPath)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}

func splitReaders(s string) []string {
	readers := strings.Split(s, ",")
	for i := range readers {
		readers[i] = strings.TrimSpace(readers[i])
	}
	slices.Sort(readers)
	return readers
}

// imageReads returns every environment variable the files of the dockerfiles tree read, with
// the files that read it (a shell file that others source reads for them), and what kept it
// from telling.
func imageReads(fsys fs.FS) (map[string][]string, []error) {
	var errs []error
	byFile := map[string]map[string]bool{} // file name -> variables
	sources := map[string][]string{}       // shell file name -> the shell files it sources
	var shells []string
	for _, glob := range envSources {
		files, err := fs.Glob(fsys, glob)
		if err != nil {
			errs = append(errs, err)
		}
		for _, file := range files {
			if _, skip := notRunInImage[file]; skip {
				continue
			}
			info, err := fs.Stat(fsys, file)
			if err != nil || info.IsDir() {
				continue
			}
			data, err := fs.ReadFile(fsys, file)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			text, name := string(data), path.Base(file)
			var vars map[string]bool
			var problems []string
			switch {
			case strings.HasSuffix(file, ".ini") || strings.HasSuffix(file, ".conf"):
				vars = configReads(text)
			case isPHP(file, text):
				vars, problems = phpReads(text)
			case isShell(file, text):
				vars, sources[name], problems = shellReads(text)
				shells = append(shells, name)
			default:
				problems = []string{"neither a shell script nor PHP: teach docs/envvars_test.go how it reads the environment, or list it in notRunInImage"}
			}
			for _, p := range problems {
				errs = append(errs, fmt.Errorf("dockerfiles/%s: %s", file, p))
			}
			byFile[name] = vars
		}
	}
	sourcedBy := map[string][]string{}
	for _, shell := range shells {
		for _, sourced := range sources[shell] {
			sourcedBy[sourced] = append(sourcedBy[sourced], shell)
		}
	}
	reads := map[string][]string{}
	for file, vars := range byFile {
		readers := readersOf(file, sourcedBy, map[string]bool{})
		for v := range vars {
			if _, ok := setElsewhere[v]; ok {
				continue
			}
			for _, r := range readers {
				if !slices.Contains(reads[v], r) {
					reads[v] = append(reads[v], r)
				}
			}
		}
	}
	for v := range reads {
		slices.Sort(reads[v])
	}
	return reads, errs
}

// readersOf is file itself, or, when other scripts source it, the scripts that run it.
func readersOf(file string, sourcedBy map[string][]string, seen map[string]bool) []string {
	if len(sourcedBy[file]) == 0 || seen[file] {
		return []string{file}
	}
	seen[file] = true
	var readers []string
	for _, by := range sourcedBy[file] {
		readers = append(readers, readersOf(by, sourcedBy, seen)...)
	}
	return readers
}

func firstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return line
}

func isPHP(file, text string) bool {
	return strings.HasSuffix(file, ".php") || strings.HasPrefix(text, "<?php") ||
		strings.HasPrefix(text, "#!") && strings.Contains(firstLine(text), "php")
}

func isShell(file, text string) bool {
	return strings.HasSuffix(file, ".sh") || strings.HasPrefix(text, "#!/bin/sh") ||
		strings.HasPrefix(text, "# shellcheck shell=sh")
}

var (
	annotation     = regexp.MustCompile(`(?:#|//|\*)\s*envvars:\s*(.*)$`)
	annotationName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*(?:<[A-Z]+>[A-Z0-9_]*)?$`)
)

// annotations are the comments "envvars: NAME..." by which a file names the variables it
// reads in a way the test cannot follow (a name computed from a pattern): the names, and the
// lines (from 0) that they cover, their own and the next three.
func annotations(text string) (map[string]bool, map[int]bool) {
	names, lines := map[string]bool{}, map[int]bool{}
	for i, line := range strings.Split(text, "\n") {
		m := annotation.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, f := range strings.Fields(m[1]) {
			if f = strings.Trim(f, ".,;"); annotationName.MatchString(f) {
				names[f] = true
			}
		}
		for l := i; l <= i+3; l++ {
			lines[l] = true
		}
	}
	return names, lines
}

// computedName is the problem of a read whose name the test cannot see, unless an
// annotation covers its line.
func computedName(what string, code string, pos int, covered map[int]bool) []string {
	if covered[strings.Count(code[:pos], "\n")] {
		return nil
	}
	if !strings.HasSuffix(what, ", so") {
		what += ": the name is not a literal, so"
	}
	return []string{what + " the table of environment variables cannot be checked: name the variables it reads in a comment \"envvars: NAME...\" on the lines above"}
}

var (
	confComment = regexp.MustCompile(`(?m)^\s*[;#].*$`)
	confVar     = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}`)
)

// configReads: PHP's ini files, Apache's and php-fpm's configurations expand ${NAME} from the
// environment (PHP also ${NAME:-default}).
func configReads(text string) map[string]bool {
	vars := map[string]bool{}
	for _, m := range confVar.FindAllStringSubmatch(confComment.ReplaceAllString(text, ""), -1) {
		vars[m[1]] = true
	}
	return vars
}

var (
	phpBlockComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	phpLineComment  = regexp.MustCompile(`(?m)^[ \t]*(//|#).*$`)
	phpClosure      = regexp.MustCompile(`\$(\w+)\s*=\s*(?:static\s+)?function\s*\(`)
	phpAssignment   = regexp.MustCompile(`^[^=;\n]*?\]\s*=[^=]`)
	phpWholeEnv     = regexp.MustCompile(`\bgetenv\s*\(\s*\)`)
)

// phpReads finds getenv('NAME'), $_ENV['NAME'] and calls of closures that wrap them
// ($studip_image_env('NAME')) in PHP code. A name that is not a literal is a problem: the
// table could not be checked.
func phpReads(text string) (map[string]bool, []string) {
	keepLines := func(c string) string { return strings.Repeat("\n", strings.Count(c, "\n")) }
	code := phpLineComment.ReplaceAllString(phpBlockComment.ReplaceAllStringFunc(text, keepLines), "")
	vars, covered := annotations(text)
	// The closures' bodies: the wrappers read by a parameter, which their callers name.
	bodies := map[string][2]int{}
	for _, m := range phpClosure.FindAllStringSubmatchIndex(code, -1) {
		open := strings.Index(code[m[1]:], "{")
		if open < 0 {
			continue
		}
		start := m[1] + open
		depth, end := 0, start
		for end = start; end < len(code); end++ {
			if code[end] == '{' {
				depth++
			} else if code[end] == '}' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		bodies[code[m[2]:m[3]]] = [2]int{start, end}
	}
	readers := []string{`getenv`, `\$_ENV\[`}
	wrappers := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for name, b := range bodies {
			body := code[b[0]:b[1]]
			if !wrappers[name] && regexp.MustCompile(`(`+strings.Join(readers, "|")+`)\s*\(?`).MatchString(body) {
				wrappers[name] = true
				readers = append(readers, regexp.QuoteMeta("$"+name)+`\(`)
				changed = true
			}
		}
	}
	outside := []byte(code)
	for name := range wrappers {
		b := bodies[name]
		for i := b[0]; i < b[1]; i++ {
			outside[i] = ' '
		}
	}
	var problems []string
	call := regexp.MustCompile(`(getenv\s*\(|\$_ENV\[|\$(?:` + strings.Join(slices.Sorted(maps.Keys(wrappers)), "|") + `)\s*\()\s*([^,)\]]*)`)
	if len(wrappers) == 0 {
		call = regexp.MustCompile(`(getenv\s*\(|\$_ENV\[)\s*([^,)\]]*)`)
	}
	literal := regexp.MustCompile(`^(['"])([A-Za-z_][A-Za-z0-9_]*)['"]$`)
	for _, m := range call.FindAllStringSubmatchIndex(string(outside), -1) {
		opener, arg := code[m[2]:m[3]], strings.TrimSpace(code[m[4]:m[5]])
		if strings.HasPrefix(opener, "$_ENV") && phpAssignment.MatchString(code[m[5]:]) {
			continue // a write
		}
		if l := literal.FindStringSubmatch(arg); l != nil {
			vars[l[2]] = true
		} else if arg != "" {
			closer := map[bool]string{true: "]", false: ")"}[strings.HasSuffix(opener, "[")]
			problems = append(problems, computedName(opener+arg+closer, code, m[0], covered)...)
		}
	}
	for _, m := range phpWholeEnv.FindAllStringIndex(code, -1) {
		problems = append(problems, computedName("getenv() reads the whole environment, so", code, m[0], covered)...)
	}
	return vars, problems
}

var (
	shellExpansion = regexp.MustCompile(`(?:^|[^\\])\$\{?#?([A-Z][A-Z0-9_]*)`)
	shellSource    = regexp.MustCompile(`(?m)^\s*(?:\.|source)\s+.*?([\w.-]+)"?\s*$`)
	shellFunction  = regexp.MustCompile(`(?m)^(\w+)\s*\(\)\s*\{`)
	shellFor       = regexp.MustCompile(`\bfor\s+(\w+)\s+in\s+([^;\n]*)`)
	shellWholeEnv  = regexp.MustCompile(`(?m)(?:^|[\s;&|(])(?:env|printenv|export -p|set)\s*(?:\||$|\))`)
	shellIndirect  = regexp.MustCompile(`\\\$\{\$\{?(\w+)|\$\{!(\w+)|printenv\s+"?\$\{?(\w+)`)
	upperName      = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
)

// shellReads finds what a POSIX shell script reads from the environment: every expansion of
// an UPPER_CASE name (the scripts' own variables are lower case), every name given to a
// function of byName, and names read indirectly in a loop (for name in A B; do eval ...).
// It also returns the files the script sources, and what it cannot tell: a by-name call with
// a computed name, or a function that reads the variable its argument names and is not in
// byName.
func shellReads(text string) (map[string]bool, []string, []string) {
	code, expandable := shellCode(text)
	vars, covered := annotations(text)
	var problems []string
	for _, m := range shellExpansion.FindAllStringSubmatch(expandable, -1) {
		vars[m[1]] = true
	}
	var sourced []string
	for _, m := range shellSource.FindAllStringSubmatch(code, -1) {
		sourced = append(sourced, m[1])
	}
	loops := shellLoops(code)
	// loopWords are the literal names a loop variable takes where pos is.
	loopWords := func(v string, pos int) ([]string, bool) {
		for _, l := range loops {
			if l.variable == v && l.start <= pos && pos < l.end {
				return l.words, true
			}
		}
		return nil, false
	}
	funcs := shellFunction.FindAllStringSubmatchIndex(code, -1)
	enclosing := func(pos int) string {
		name := ""
		for _, f := range funcs {
			if f[0] < pos {
				name = code[f[2]:f[3]]
			}
		}
		return name
	}
	for _, fn := range slices.Sorted(maps.Keys(byName)) {
		call := regexp.MustCompile(`(?m)(?:^|[\s;&|(!{])` + fn + `\s+([^\s;&|)]+)`)
		for _, m := range call.FindAllStringSubmatchIndex(code, -1) {
			arg := strings.Trim(code[m[2]:m[3]], `'"`)
			names := []string{arg}
			if !upperName.MatchString(arg) {
				v := strings.Trim(arg, "${}")
				words, ok := loopWords(v, m[0])
				if !ok {
					problems = append(problems, computedName(fn+" "+code[m[2]:m[3]], code, m[0], covered)...)
					continue
				}
				names = words
			}
			for _, name := range names {
				for _, suffix := range byName[fn] {
					vars[name+suffix] = true
				}
			}
		}
	}
	for _, m := range shellWholeEnv.FindAllStringIndex(code, -1) {
		problems = append(problems, computedName(strings.TrimSpace(code[m[0]:m[1]])+" reads the whole environment, so", code, m[0], covered)...)
	}
	for _, m := range shellIndirect.FindAllStringSubmatchIndex(code, -1) {
		v := ""
		for i := 2; i < len(m); i += 2 {
			if m[i] >= 0 {
				v = code[m[i]:m[i+1]]
			}
		}
		if words, ok := loopWords(v, m[0]); ok {
			for _, w := range words {
				vars[w] = true
			}
			continue
		}
		if fn := enclosing(m[0]); byName[fn] == nil {
			problems = append(problems, fmt.Sprintf("%s reads the variable named by its argument: add it to byName in docs/envvars_test.go", orTopLevel(fn)))
		}
	}
	return vars, sourced, problems
}

func orTopLevel(fn string) string {
	if fn == "" {
		return "the script"
	}
	return fn
}

type shellLoop struct {
	variable   string
	words      []string
	start, end int
}

var shellDoDone = regexp.MustCompile(`\b(do|done)\b`)

// shellLoops finds every for loop of code: its variable, the literal UPPER_CASE names in its
// list, and where its body is.
func shellLoops(code string) []shellLoop {
	var loops []shellLoop
	for _, m := range shellFor.FindAllStringSubmatchIndex(code, -1) {
		l := shellLoop{variable: code[m[2]:m[3]], start: m[1], end: len(code)}
		for _, w := range strings.Fields(code[m[4]:m[5]]) {
			if upperName.MatchString(w) {
				l.words = append(l.words, w)
			}
		}
		depth := 0
		for _, d := range shellDoDone.FindAllStringIndex(code[m[1]:], -1) {
			if code[m[1]+d[0]:m[1]+d[1]] == "do" {
				depth++
			} else if depth--; depth == 0 {
				l.end = m[1] + d[1]
				break
			}
		}
		loops = append(loops, l)
	}
	return loops
}

// shellCode returns the script without comments, and a copy of that in which the contents of
// single-quoted strings, which the shell does not expand, are blanked. Backslash escapes stay
// as written, so that an escaped \$ is seen as one.
func shellCode(text string) (code, expandable string) {
	var c, e strings.Builder
	const (
		plain = iota
		single
		double
	)
	state := plain
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch {
		case state == plain && ch == '#' && (i == 0 || strings.ContainsRune(" \t\n;&|(", rune(text[i-1]))):
			for i < len(text) && text[i] != '\n' {
				i++
			}
			if i < len(text) {
				c.WriteByte('\n')
				e.WriteByte('\n')
			}
			continue
		case state != single && ch == '\\' && i+1 < len(text):
			c.WriteString(text[i : i+2])
			e.WriteString(text[i : i+2])
			i++
			continue
		case state == plain && ch == '\'':
			state = single
		case state == single && ch == '\'':
			state = plain
		case state == plain && ch == '"':
			state = double
		case state == double && ch == '"':
			state = plain
		}
		c.WriteByte(ch)
		if state == single && ch != '\'' && ch != '\n' {
			e.WriteByte(' ')
		} else {
			e.WriteByte(ch)
		}
	}
	return c.String(), e.String()
}

// loadTree reads every file under dir, by its path relative to dir.
func loadTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	tree := map[string]string{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return fs.SkipDir
			}
			return nil
		}
		data, err := fs.ReadFile(os.DirFS(dir), p)
		tree[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func mapFS(tree map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, text := range tree {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return fsys
}
