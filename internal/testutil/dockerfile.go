package testutil

import (
	"os"
	"strings"
	"testing"
)

// DockerfileEnv is what the ENV instructions of the Dockerfile at path set, for a test that
// runs an image's configuration with the image's environment. It reads the KEY=VALUE form and
// fails on any other; a value with quotes or a $ (which Docker would expand) is left out
// rather than misread.
func DockerfileEnv(t testing.TB, path string) map[string]string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the Dockerfile's environment: %v", err)
	}
	env := map[string]string{}
	lines := strings.Split(string(src), "\n")
	for i := 0; i < len(lines); i++ {
		line, n := lines[i], i+1
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + " " + lines[i]
		}
		words := strings.Fields(line)
		if len(words) == 0 || !strings.EqualFold(words[0], "ENV") {
			continue
		}
		for _, word := range words[1:] {
			key, value, ok := strings.Cut(word, "=")
			if !ok || key == "" {
				t.Fatalf("%s:%d: ENV %q: want KEY=VALUE", path, n, word)
			}
			if !strings.ContainsAny(value, `"'$`) {
				env[key] = value
			}
		}
	}
	return env
}
