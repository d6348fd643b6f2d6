package versions_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/versions"
)

// Every kind of problem `ci check` reports has a fixture under testdata/check and its exact
// message here; TestCheckFixturesAllTested keeps the two in step.
var checkCases = map[string]string{
	"bad-node":               `testdata/check/bad-node.yaml:8: entry 6.0.3: node "v22" is not a Node major version, e.g. node: "22"`,
	"bad-php":                `testdata/check/bad-php.yaml:7: entry 6.0.3: php "8" is not a PHP minor version, e.g. php: "8.3"`,
	"old-php":                `testdata/check/old-php.yaml:7: entry 5.4.11: php "7.3" is older than 7.4, the oldest PHP the runtime Dockerfiles build (dockerfiles/common/build-php-extensions.sh)`,
	"bad-ref":                `testdata/check/bad-ref.yaml:7: entry 6.0.3: ref "--upload-pack=evil" is not a git branch, tag or commit, e.g. ref: v6.0.3`,
	"bad-repository":         `testdata/check/bad-repository.yaml:1: repository "docker.io/studip/studip:latest" is not an image repository without tag, e.g. repository: docker.io/studip/studip`,
	"bad-source":             `testdata/check/bad-source.yaml:2: source "gitlab.studip.de/studip/studip" is not a git URL, e.g. source: https://gitlab.studip.de/studip/studip.git`,
	"duplicate-base":         `testdata/check/duplicate-base.yaml:4: base apache is listed twice`,
	"duplicate-key":          `testdata/check/duplicate-key.yaml:8: entry 6.0.3: key "php" appears twice`,
	"duplicate-minor":        `testdata/check/duplicate-minor.yaml:9: entry 6.0.2: a second entry for the minor line 6.0 (the first is at line 6); keep one entry per minor line`,
	"duplicate-platform":     `testdata/check/duplicate-platform.yaml:3: platform linux/amd64 is listed twice`,
	"empty-file":             `testdata/check/empty-file.yaml:1: the file is empty; it needs repository, source, platforms, bases and versions`,
	"empty-list":             `testdata/check/empty-list.yaml:3: platforms is empty; list at least one, e.g. platforms: [linux/amd64, linux/arm64]`,
	"empty-versions":         `testdata/check/empty-versions.yaml:5: versions is empty; list at least one, e.g. versions: [{version: 6.0.3, php: "8.3", node: "22"}]`,
	"entry-base-not-top":     `testdata/check/entry-base-not-top.yaml:9: entry 6.0.3: base fpm-alpine is not among the top-level bases (apache)`,
	"entry-not-mapping":      `testdata/check/entry-not-mapping.yaml:6: entry #1: an entry must be a mapping of keys (version, nightly, ref, php, node, platforms, bases, assets)`,
	"invalid-yaml":           `testdata/check/invalid-yaml.yaml:5: invalid YAML: did not find expected key`,
	"malformed-platform":     `testdata/check/malformed-platform.yaml:9: entry 6.0.3: platform "linux" is not os/arch[/variant], e.g. linux/amd64`,
	"missing-php-node":       "testdata/check/missing-php-node.yaml:6: entry 6.0.3: php is required: the PHP minor of the runtime image, e.g. php: \"8.3\"\ntestdata/check/missing-php-node.yaml:6: entry 6.0.3: node is required: the Node major of the asset build, e.g. node: \"22\"",
	"missing-top-keys":       "testdata/check/missing-top-keys.yaml:1: repository is required (see the schema in docs/versions-and-tags.md)\ntestdata/check/missing-top-keys.yaml:1: source is required (see the schema in docs/versions-and-tags.md)",
	"no-version":             `testdata/check/no-version.yaml:6: entry #1: version or nightly is required, e.g. version: 6.0.3`,
	"not-a-list":             `testdata/check/not-a-list.yaml:4: bases must be a list, e.g. bases: [apache, fpm-alpine]`,
	"not-a-mapping":          `testdata/check/not-a-mapping.yaml:1: the file must be a mapping of keys (repository, source, platforms, bases, versions, tests)`,
	"second-nightly":         `testdata/check/second-nightly.yaml:9: entry nightly develop: a second nightly entry (the first is at line 6); keep at most one`,
	"unknown-base":           `testdata/check/unknown-base.yaml:9: entry 6.0.3: unknown base "nginx" (known: apache, fpm-alpine)`,
	"unknown-key-entry":      "testdata/check/unknown-key-entry.yaml:6: entry 6.0.3: node is required: the Node major of the asset build, e.g. node: \"22\"\ntestdata/check/unknown-key-entry.yaml:8: entry 6.0.3: unknown key \"nodejs\" (known: version, nightly, ref, php, node, platforms, bases, assets)",
	"unknown-key-top":        `testdata/check/unknown-key-top.yaml:5: unknown key "registry" (known: repository, source, platforms, bases, versions, tests)`,
	"unknown-platform":       `testdata/check/unknown-platform.yaml:9: entry 6.0.3: platform "linux/riscv64" is not supported (supported: linux/amd64, linux/arm64, linux/arm/v7, linux/ppc64le, linux/s390x)`,
	"version-and-nightly":    `testdata/check/version-and-nightly.yaml:6: entry 6.0.3: an entry has either version (a release) or nightly (a branch), not both`,
	"version-build-metadata": `testdata/check/version-build-metadata.yaml:6: entry 6.0.3+build.1: version "6.0.3+build.1" has build metadata, which an image tag cannot carry`,
	"version-leading-v":      `testdata/check/version-leading-v.yaml:6: entry v6.0.3: version "v6.0.3" must not start with v (write 6.0.3)`,
	"version-not-semver":     `testdata/check/version-not-semver.yaml:6: entry 6.0: version "6.0" is not semver X.Y.Z or X.Y.Z-PRE`,
	"php-unquoted":           `testdata/check/php-unquoted.yaml:7: entry 6.0.3: php 8.20 is not a PHP line this project knows (known: 7.4, 8.0, 8.1, 8.2, 8.3, 8.4, 8.5; versions/lifecycle.go); write the line you mean quoted, e.g. php: "8.3" (unquoted, YAML reads the number 8.2)`,
	"php-unknown":            `testdata/check/php-unknown.yaml:7: entry 6.0.3: php "9.9" is not a PHP line this project knows (known: 7.4, 8.0, 8.1, 8.2, 8.3, 8.4, 8.5; versions/lifecycle.go)`,
	"node-unknown":           `testdata/check/node-unknown.yaml:8: entry 6.0.3: node "99" is not a Node major this project knows (known: 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26; versions/lifecycle.go)`,
	"assets-not-a-list":      `testdata/check/assets-not-a-list.yaml:9: entry 6.0.3: assets must be a list, e.g. assets: [npm, run, build]`,
	"assets-one-string":      `testdata/check/assets-one-string.yaml:9: entry 6.0.3: assets starts with "npm run build", which is not a program name; write the command one word per item, e.g. assets: [npm, run, build]`,
	"tests-not-a-list":       `testdata/check/tests-not-a-list.yaml:10: tests must be a list, e.g. tests: [{php: "8.3", node: "22"}]`,
	"tests-item-not-mapping": `testdata/check/tests-item-not-mapping.yaml:10: test image #1: a test image must be a mapping of keys (php, node)`,
	"tests-duplicate-php":    `testdata/check/tests-duplicate-php.yaml:12: test image php 8.1: a second test image for PHP 8.1 (the first is at line 10); keep one per PHP`,
	"tests-missing-node":     `testdata/check/tests-missing-node.yaml:10: test image php 8.1: node is required: the Node major of the test image, e.g. node: "22"`,
	"tests-unknown-key":      `testdata/check/tests-unknown-key.yaml:10: test image php 8.1: unknown key "base" (known: php, node)`,
	"tests-bad-php-node": "testdata/check/tests-bad-php-node.yaml:10: test image php 8.1: php 8.1 must be quoted: write php: \"8.1\" (unquoted, YAML reads a number)\n" +
		`testdata/check/tests-bad-php-node.yaml:11: test image php 8.4: node "23.1" is not a Node major version, e.g. node: "22"`,
	// Every problem of a file is reported at once, in line order.
	"many-problems": strings.Join([]string{
		`testdata/check/many-problems.yaml:3: platform "linux" is not os/arch[/variant], e.g. linux/amd64`,
		`testdata/check/many-problems.yaml:4: unknown base "nginx" (known: apache, fpm-alpine)`,
		`testdata/check/many-problems.yaml:6: entry 6.0: version "6.0" is not semver X.Y.Z or X.Y.Z-PRE`,
		`testdata/check/many-problems.yaml:9: entry 5.5.8: node is required: the Node major of the asset build, e.g. node: "22"`,
		`testdata/check/many-problems.yaml:14: entry 5.5.7: unknown key "color" (known: version, nightly, ref, php, node, platforms, bases, assets)`,
	}, "\n"),
}

func TestCheckMessages(t *testing.T) {
	for name, want := range checkCases {
		t.Run(name, func(t *testing.T) {
			f, err := versions.Load(filepath.Join("testdata", "check", name+".yaml"))
			if f != nil {
				t.Errorf("Load returned a file for an invalid fixture")
			}
			var verr *versions.Error
			if !errors.As(err, &verr) {
				t.Fatalf("Load error = %v (%T), want *versions.Error", err, err)
			}
			if got := err.Error(); got != want {
				t.Errorf("message:\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestCheckFixturesAllTested(t *testing.T) {
	files, err := filepath.Glob("testdata/check/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := checkCases[strings.TrimSuffix(filepath.Base(f), ".yaml")]; !ok {
			t.Errorf("%s has no expected message in checkCases", f)
		}
	}
	if len(files) != len(checkCases) {
		t.Errorf("%d fixtures, %d cases: every case needs its fixture", len(files), len(checkCases))
	}
}

func TestParseReportsLinesWithoutFileName(t *testing.T) {
	_, err := versions.Parse(strings.NewReader("repository: x\nsource: y\n"))
	want := "line 1: platforms is required (see the schema in docs/versions-and-tags.md)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to contain %q", err, want)
	}
}
