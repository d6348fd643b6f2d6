package plan

import "gitlab.studip.de/studip/docker/versions"

// Images names every image a build starts from, each pinned to a line that receives
// security updates, and all pulled through Mirror when one is set (Docker Hub rate-limits
// anonymous pulls): with Mirror "m.example/hub", php:8.3-apache is pulled as
// m.example/hub/php:8.3-apache.
type Images struct {
	Mirror string
}

const (
	composerTag = "2.8"  // the composer release line the builds run
	mariadbTag  = "11.4" // the MariaDB LTS that the smoke test and the examples run
	syftTag     = "v1.33.0"
	// cosign's own image is on GitHub's registry only: pulled from there, never through the
	// mirror (a Docker Hub proxy).
	cosignImage = "ghcr.io/sigstore/cosign/cosign:v2.6.1"
)

func (i Images) ref(repo, tag string) string { return i.repo(repo) + ":" + tag }

func (i Images) repo(repo string) string {
	if i.Mirror == "" {
		return repo
	}
	return i.Mirror + "/" + repo
}

// Node is the image of the asset build for a Node major.
func (i Images) Node(major string) string { return i.ref("node", major+"-bookworm-slim") }

// Composer is the image of the composer stage.
func (i Images) Composer() string { return i.ref("composer", composerTag) }

// Syft is the image that writes the SBOM of every pushed image.
func (i Images) Syft() string { return i.ref("anchore/syft", syftTag) }

// Cosign is the image that signs the pushed images and attests their SBOMs.
func (i Images) Cosign() string { return cosignImage }

// MariaDB is the database of the smoke tests.
func (i Images) MariaDB() string { return i.ref("mariadb", mariadbTag) }

// runtime is the build of base b's PHP runtime; dockerfiles/<base>/Dockerfile takes the php
// image's repository as PHP_IMAGE so that it follows the mirror, and the digest of its tag
// <php>-<base> as PHP_DIGEST.
func (i Images) runtime(b versions.Base, php string) Runtime {
	return Runtime{
		Dockerfile: string(b) + "/Dockerfile",
		BuildArgs: []BuildArg{
			{"PHP_IMAGE", i.repo("php")},
			{"PHP_VERSION", php},
		},
		Bases: []BaseImage{{i.ref("php", php+"-"+string(b)), "PHP_DIGEST"}},
	}
}

// testRuntime is the test image of a PHP version: dockerfiles/tests/Dockerfile, on
// php:X.Y-cli with the Node and composer that Stud.IP's CI jobs run.
func (i Images) testRuntime(php, node string) Runtime {
	return Runtime{
		Dockerfile: "tests/Dockerfile",
		BuildArgs: []BuildArg{
			{"COMPOSER_IMAGE", i.Composer()},
			{"NODE_IMAGE", i.repo("node")},
			{"NODE_VERSION", node},
			{"PHP_IMAGE", i.repo("php")},
			{"PHP_VERSION", php},
		},
		Bases: []BaseImage{
			{i.Composer(), "COMPOSER_DIGEST"},
			{i.Node(node), "NODE_DIGEST"},
			{i.ref("php", php+"-cli"), "PHP_DIGEST"},
		},
	}
}
