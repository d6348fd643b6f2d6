package versions_test

import (
	"fmt"
	"testing"

	"gitlab.studip.de/studip/docker/versions"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		name, in                              string
		wantErr                               string
		major, minor, pre, defaultRef, string string
	}{
		{name: "patch release", in: "6.0.3", major: "6", minor: "6.0", defaultRef: "v6.0.3", string: "6.0.3"},
		{name: "X.Y.0 is tagged vX.Y", in: "6.0.0", major: "6", minor: "6.0", defaultRef: "v6.0", string: "6.0.0"},
		{name: "two-digit parts", in: "5.10.12", major: "5", minor: "5.10", defaultRef: "v5.10.12", string: "5.10.12"},
		{name: "pre-release keeps its tag", in: "6.1.0-beta.1", major: "6", minor: "6.1", pre: "beta.1", defaultRef: "v6.1.0-beta.1", string: "6.1.0-beta.1"},
		{name: "leading v", in: "v6.0.3", wantErr: `version "v6.0.3" must not start with v (write 6.0.3)`},
		{name: "minor only", in: "6.0", wantErr: `version "6.0" is not semver X.Y.Z or X.Y.Z-PRE`},
		{name: "leading zero", in: "6.00.3", wantErr: `version "6.00.3" is not semver X.Y.Z or X.Y.Z-PRE`},
		{name: "build metadata", in: "6.0.3+42", wantErr: `version "6.0.3+42" has build metadata, which an image tag cannot carry`},
		{name: "empty", in: "", wantErr: `version "" is not semver X.Y.Z or X.Y.Z-PRE`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := versions.ParseVersion(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []string{v.Major(), v.Minor(), v.Prerelease(), v.DefaultRef(), v.String()}
			want := []string{tt.major, tt.minor, tt.pre, tt.defaultRef, tt.string}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("major, minor, pre, ref, string = %q, want %q", got, want)
			}
		})
	}
}

func TestVersionCompareIsSemver(t *testing.T) {
	ordered := []string{"5.4.11", "5.10.0", "6.0.0-alpha", "6.0.0-beta.2", "6.0.0-beta.10", "6.0.0", "6.0.3"}
	for i := range ordered {
		for j := range ordered {
			a, b := versions.MustParseVersion(ordered[i]), versions.MustParseVersion(ordered[j])
			if got, want := a.Compare(b), cmpInt(i, j); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestParsePlatformAndBase(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "linux/amd64", want: "linux/amd64"},
		{in: "linux/arm/v7", want: "linux/arm/v7"},
		{in: "linux", wantErr: `platform "linux" is not os/arch[/variant], e.g. linux/amd64`},
		{in: "linux/amd64/v2/x", wantErr: `platform "linux/amd64/v2/x" is not os/arch[/variant], e.g. linux/amd64`},
		{in: "windows/amd64", wantErr: `platform "windows/amd64" is not supported (supported: linux/amd64, linux/arm64, linux/arm/v7, linux/ppc64le, linux/s390x)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := versions.ParsePlatform(tt.in)
			if fmt.Sprint(err) != fmt.Sprint(errOrNil(tt.wantErr)) || err == nil && p.String() != tt.want {
				t.Errorf("ParsePlatform(%q) = %v, %v; want %q, %q", tt.in, p, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := versions.ParseBase("nginx"); err == nil || err.Error() != `unknown base "nginx" (known: apache, fpm-alpine)` {
		t.Errorf("ParseBase(nginx) err = %v", err)
	}
	if b, err := versions.ParseBase("fpm-alpine"); err != nil || b != versions.FPMAlpine {
		t.Errorf("ParseBase(fpm-alpine) = %v, %v", b, err)
	}
}

func errOrNil(s string) error {
	if s == "" {
		return nil
	}
	return fmt.Errorf("%s", s)
}
