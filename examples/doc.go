// Package examples holds the deployment examples for the Stud.IP images (Docker Compose
// with Apache, Docker Compose with nginx and php-fpm, Kubernetes). Its tests load every
// example the way Compose and Kubernetes would and check that the wiring matches what the
// images expect (docs/image-contract.md).
package examples
