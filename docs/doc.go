// Package docs holds the project's documentation, one Markdown page per audience, and the
// tests that keep it true: the one table of environment variables (image-contract.md) against
// what the images' scripts, config template and server settings read, the end-of-life table
// (versions-and-tags.md) against versions/lifecycle.go, and the relative links of the README
// and these pages.
//
// The package has no Go code of its own; its tests are part of go test ./...
package docs
