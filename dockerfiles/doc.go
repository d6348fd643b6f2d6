// Package dockerfiles holds what runs inside every Stud.IP image: the runtime Dockerfiles of
// each base (apache/, fpm-alpine/), the entrypoint, cron runner and configuration template
// they share (common/), and the tests that run them against a real MariaDB and PHP.
//
// The package has no Go code of its own; its tests are part of go test ./...
package dockerfiles
