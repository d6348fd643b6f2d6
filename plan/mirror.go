package plan

import (
	"fmt"
	"regexp"
)

// mirrorSyntax is a registry host (a dotted name, localhost, or any name with a port) and an
// optional path of lower-case components, as image references allow them; no scheme, tag,
// digest or trailing slash, since a repository is appended to it.
var mirrorSyntax = regexp.MustCompile(`^(localhost|[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9-]+:[0-9]+)(:[0-9]+)?(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)

// MirrorError is an Options.Mirror that is no registry prefix.
type MirrorError struct{ Mirror string }

func (e *MirrorError) Error() string {
	return fmt.Sprintf("%q is not a registry prefix host[:port][/path], e.g. mirror.example/hub or registry.example:5000/dockerhub", e.Mirror)
}

// CheckMirror returns a *MirrorError unless mirror can be Options.Mirror: "" (no mirror) or
// a registry prefix that every base image's repository is appended to.
func CheckMirror(mirror string) error {
	if mirror != "" && !mirrorSyntax.MatchString(mirror) {
		return &MirrorError{mirror}
	}
	return nil
}
