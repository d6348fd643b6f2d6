package testutil

import (
	"os"
	"strings"
	"testing"
)

// DockerfileEnv is what the ENV instructions of the Dockerfile at path set, for a test that
// runs an image's configuration with the image's environment. It reads the KEY=VALUE form with
// plain values (no quotes, no $) and fails on anything else, so that no test runs with a
// value it misread.
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
			if !ok || key == "" || strings.ContainsAny(value, `"'$`) {
				t.Fatalf("%s:%d: ENV %q: want KEY=VALUE with a plain value", path, n, word)
			}
			env[key] = value
		}
	}
	return env
}
