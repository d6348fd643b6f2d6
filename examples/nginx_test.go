package examples

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// directive is one nginx directive: its name, arguments and, for a block, the directives
// inside it.
type directive struct {
	name  string
	args  []string
	block []directive
}

// parseNginx parses an nginx configuration: directives end in ";" or a "{...}" block;
// "#" starts a comment; quotes group an argument.
func parseNginx(src string) ([]directive, error) {
	tokens, err := nginxTokens(src)
	if err != nil {
		return nil, err
	}
	directives, rest, err := parseBlock(tokens)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("unexpected %q at top level", rest[0])
	}
	return directives, nil
}

// nginxTokens splits src into words, quoted strings (unquoted) and the punctuation ; { }.
func nginxTokens(src string) ([]string, error) {
	var tokens []string
	for i := 0; i < len(src); {
		switch c := src[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == ';' || c == '{' || c == '}':
			tokens = append(tokens, string(c))
			i++
		case c == '"' || c == '\'':
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote at offset %d", i)
			}
			tokens = append(tokens, src[i+1:i+1+end])
			i += end + 2
		default:
			start := i
			for i < len(src) && !strings.ContainsRune(" \t\r\n;{}#\"'", rune(src[i])) {
				i++
			}
			tokens = append(tokens, src[start:i])
		}
	}
	return tokens, nil
}

// parseBlock parses directives up to a closing "}" (left in rest) or the end of tokens.
func parseBlock(tokens []string) (directives []directive, rest []string, err error) {
	for len(tokens) > 0 && tokens[0] != "}" {
		d := directive{name: tokens[0]}
		tokens = tokens[1:]
		for len(tokens) > 0 && tokens[0] != ";" && tokens[0] != "{" && tokens[0] != "}" {
			d.args = append(d.args, tokens[0])
			tokens = tokens[1:]
		}
		switch {
		case len(tokens) == 0 || tokens[0] == "}":
			return nil, nil, fmt.Errorf("directive %s %v: missing ; or {", d.name, d.args)
		case tokens[0] == "{":
			if d.block, tokens, err = parseBlock(tokens[1:]); err != nil {
				return nil, nil, err
			}
			if len(tokens) == 0 {
				return nil, nil, fmt.Errorf("block %s %v: missing }", d.name, d.args)
			}
		}
		directives = append(directives, d)
		tokens = tokens[1:]
	}
	return directives, tokens, nil
}

// find is the first directive called name in ds.
func find(ds []directive, name string) (directive, bool) {
	for _, d := range ds {
		if d.name == name {
			return d, true
		}
	}
	return directive{}, false
}

// location is a location block of a server: its modifier ("", "=", "^~", "~", "~*"),
// its pattern and, for the regular expression ones, the pattern compiled.
type location struct {
	modifier, pattern string
	re                *regexp.Regexp
	body              []directive
}

// rewrite is a server-level rewrite directive.
type rewrite struct {
	re          *regexp.Regexp
	replacement string
}

// server is what the routing model needs of a server block.
type server struct {
	rewrites  []rewrite
	locations []location
}

// nginxGroupRef is a reference to a regular expression group in nginx's syntax ($1).
var nginxGroupRef = regexp.MustCompile(`\$([0-9])`)

func newServer(block []directive) (server, error) {
	var s server
	for _, d := range block {
		var err error
		switch d.name {
		case "rewrite":
			r := rewrite{replacement: nginxGroupRef.ReplaceAllString(d.args[1], "$${$1}")}
			r.re, err = regexp.Compile(d.args[0])
			s.rewrites = append(s.rewrites, r)
		case "location":
			l := location{pattern: d.args[len(d.args)-1], body: d.block}
			if len(d.args) == 2 {
				l.modifier = d.args[0]
			}
			switch l.modifier {
			case "~":
				l.re, err = regexp.Compile(l.pattern)
			case "~*":
				l.re, err = regexp.Compile("(?i)" + l.pattern)
			}
			s.locations = append(s.locations, l)
		}
		if err != nil {
			return server{}, fmt.Errorf("%s %v: %w", d.name, d.args, err)
		}
	}
	return s, nil
}

// selectLocation picks the location nginx uses for uri: an exact match; else the longest
// prefix if it has ^~; else the first matching regular expression; else the longest prefix.
func (s server) selectLocation(uri string) (location, bool) {
	var prefix location
	for _, l := range s.locations {
		switch {
		case l.modifier == "=" && l.pattern == uri:
			return l, true
		case (l.modifier == "" || l.modifier == "^~") && strings.HasPrefix(uri, l.pattern) &&
			len(l.pattern) > len(prefix.pattern):
			prefix = l
		}
	}
	if prefix.modifier == "^~" {
		return prefix, true
	}
	for _, l := range s.locations {
		if l.re != nil && l.re.MatchString(uri) {
			return l, true
		}
	}
	return prefix, prefix.pattern != ""
}

// route says what nginx does with a request for uri when no file of that name exists:
// "denied", "php" (passed to FastCGI) or "static" (a file or 404), after the server's first
// matching rewrite and following a try_files fallback to another URI.
func (s server) route(uri string) string {
	for _, r := range s.rewrites {
		if r.re.MatchString(uri) {
			uri, _, _ = strings.Cut(r.re.ReplaceAllString(uri, r.replacement), "?")
			break
		}
	}
	l, ok := s.selectLocation(uri)
	if !ok {
		return "no location"
	}
	if _, ok := find(l.body, "deny"); ok {
		return "denied"
	}
	if _, ok := find(l.body, "fastcgi_pass"); ok {
		return "php"
	}
	if try, ok := find(l.body, "try_files"); ok {
		fallback := try.args[len(try.args)-1]
		if strings.HasPrefix(fallback, "/") {
			return s.route(strings.NewReplacer("$uri", uri, "$is_args", "", "$args", "").Replace(fallback))
		}
	}
	return "static"
}

// checkNginxConfig checks the nginx configuration at path: the document root is the
// image's public/, PHP goes to web:9000 with SCRIPT_FILENAME under it, and the routes of
// typical Stud.IP requests.
func checkNginxConfig(t *testing.T, path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the nginx config: %v", err)
	}
	top, err := parseNginx(string(src))
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	block, ok := find(top, "server")
	if !ok {
		t.Fatalf("reading %s: no server block", path)
	}
	if root, _ := find(block.block, "root"); len(root.args) != 1 || root.args[0] != publicDir {
		t.Errorf("nginx root %v, want %s", root.args, publicDir)
	}
	srv, err := newServer(block.block)
	if err != nil {
		t.Fatalf("reading the server block of %s: %v", path, err)
	}
	for _, l := range srv.locations {
		pass, ok := find(l.body, "fastcgi_pass")
		if !ok {
			continue
		}
		if len(pass.args) != 1 || pass.args[0] != "web:9000" {
			t.Errorf("location %s: fastcgi_pass %v, want web:9000", l.pattern, pass.args)
		}
		if !strings.Contains(l.pattern, `\.php`) {
			t.Errorf("location %s passes to PHP but is not limited to .php scripts", l.pattern)
		}
		script := ""
		for _, d := range l.body {
			if d.name == "fastcgi_param" && len(d.args) == 2 && d.args[0] == "SCRIPT_FILENAME" {
				script = d.args[1]
			}
		}
		if script != "$document_root$fastcgi_script_name" {
			t.Errorf("location %s: SCRIPT_FILENAME %q, want $document_root$fastcgi_script_name (under %s)",
				l.pattern, script, publicDir)
		}
	}

	routes := []struct{ uri, want string }{
		{"/index.php", "php"},
		{"/dispatch.php/course/overview", "php"},
		{"/jsonapi.php/v1/users/me", "php"},
		{"/my_courses", "php"},
		{"/download/normal/0/4f3a2b/report.pdf", "php"},
		{"/download/zip/5/4f3a2b/9c8d7e/all.zip", "php"},
		{"/assets/stylesheets/studip.css", "static"},
		{"/assets/javascripts/studip.js", "static"},
		{"/pictures/user/nobody_normal.png", "static"},
		{"/plugins_packages/core/Foo/assets/foo.css", "static"},
		{"/index.php.png", "static"},
		{"/pictures/user/upload.php", "denied"},
		{"/plugins_packages/core/Foo/foo.php/x", "denied"},
		{"/.htaccess", "denied"},
		{"/assets/.git/config", "denied"},
	}
	for _, r := range routes {
		if got := srv.route(r.uri); got != r.want {
			t.Errorf("nginx routes %s to %s, want %s", r.uri, got, r.want)
		}
	}
}

func TestParseNginx(t *testing.T) {
	cases := []struct {
		name, src string
		want      string
	}{
		{"directives and blocks", "a 1 '2 3';\nb { c; # d;\n}", "[{a [1 2 3] []} {b [] [{c [] []}]}]"},
		{"missing semicolon", "a 1", "error: directive a [1]: missing ; or {"},
		{"missing brace", "b { c;", "error: block b []: missing }"},
		{"stray brace", "}", `error: unexpected "}" at top level`},
		{"open quote", `a "b;`, "error: unterminated quote at offset 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, err := parseNginx(c.src)
			got := fmt.Sprint(ds)
			if err != nil {
				got = "error: " + err.Error()
			}
			if got != c.want {
				t.Errorf("parseNginx(%q) = %s, want %s", c.src, got, c.want)
			}
		})
	}
}
