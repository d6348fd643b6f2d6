// Package templates holds the GitLab CI/CD components that Stud.IP's own pipelines include
// (review-app.yml: review apps for merge requests). Its tests evaluate them with
// gitlab-ci-local, included from a project shaped like Stud.IP's.
package templates
