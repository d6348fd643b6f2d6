package plan_test

import (
	"errors"
	"testing"

	"gitlab.studip.de/studip/docker/plan"
)

func TestCheckMirror(t *testing.T) {
	tests := []struct {
		name   string
		mirror string
		ok     bool
	}{
		{name: "none", mirror: "", ok: true},
		{name: "host and path", mirror: "mirror.example/hub", ok: true},
		{name: "host alone", mirror: "mirror.example", ok: true},
		{name: "host with port", mirror: "registry.example:5000/dockerhub", ok: true},
		{name: "GitLab's dependency proxy", mirror: "gitlab.example.com:443/studip/dependency_proxy/containers", ok: true},
		{name: "localhost", mirror: "localhost:5000", ok: true},
		{name: "a scheme", mirror: "https://mirror.example/hub"},
		{name: "a trailing slash", mirror: "mirror.example/hub/"},
		{name: "a tag", mirror: "mirror.example/hub:latest"},
		{name: "upper case in the path", mirror: "mirror.example/Hub"},
		{name: "no registry host", mirror: "hub"},
		{name: "a space", mirror: "mirror.example/ hub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := plan.CheckMirror(tt.mirror)
			if tt.ok {
				if err != nil {
					t.Errorf("CheckMirror(%q) = %v, want it accepted", tt.mirror, err)
				}
				return
			}
			var merr *plan.MirrorError
			if !errors.As(err, &merr) || merr.Mirror != tt.mirror {
				t.Errorf("CheckMirror(%q) = %v, want a *MirrorError", tt.mirror, err)
			}
		})
	}
}
