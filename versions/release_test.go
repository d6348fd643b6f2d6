package versions_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gitlab.studip.de/studip/docker/versions"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

func TestEditRelease(t *testing.T) {
	tests := []struct {
		name     string
		in       string // file under testdata/release/in/
		version  string
		opts     versions.ReleaseOptions
		notes    []string
		inferred []string                // keys of a new entry taken from the line below
		diff     [2]int                  // lines removed and added: everything else stays byte for byte
		lost     string                  // the one comment that goes, with the line it explains
		wantErr  string                  // the edit is refused with this message
		problem  versions.ReleaseProblem // ... as a ReleaseError with this problem, if not 0
	}{
		{name: "patch release", in: "input.yaml", version: "6.0.4",
			notes: []string{"6.0 line (line 12): 6.0.3 -> 6.0.4"}, diff: [2]int{1, 1}},
		{name: "release of a pre-release drops its ref", in: "input.yaml", version: "6.1.0",
			notes: []string{
				"6.1 line (line 8): 6.1.0-beta.1 -> 6.1.0",
				"6.1 line: dropped ref: 6.1 (line 9), so that 6.1.0 builds Stud.IP's tag v6.1",
			}, diff: [2]int{2, 1}, lost: "# its branch, until the release is tagged"},
		{name: "new line above the lower one and its comment", in: "input.yaml", version: "6.2.0-beta.1",
			notes: []string{
				"6.2 line: php 8.4 and node 22 inferred from the 6.1 line (line 8)",
				"6.2 line: new entry 6.2.0-beta.1 (line 7)",
			}, inferred: []string{"php", "node"}, diff: [2]int{0, 3}},
		{name: "new line with php and node given", in: "input.yaml", version: "5.6.0", opts: versions.ReleaseOptions{PHP: "8.3", Node: "22"},
			notes: []string{"5.6 line: new entry 5.6.0 (line 16)"}, diff: [2]int{0, 3}},
		{name: "new line inferring node only", in: "input.yaml", version: "7.0.0", opts: versions.ReleaseOptions{PHP: "8.5"},
			notes: []string{
				"7.0 line: node 22 inferred from the 6.1 line (line 8)",
				"7.0 line: new entry 7.0.0 (line 7)",
			}, inferred: []string{"node"}, diff: [2]int{0, 3}},
		{name: "new lowest line goes below the others", in: "input.yaml", version: "5.3.12", opts: versions.ReleaseOptions{PHP: "7.4", Node: "18"},
			notes: []string{"5.3 line: new entry 5.3.12 (line 24)"}, diff: [2]int{0, 3}},
		{name: "new lowest line at the end of a file without final newline", in: "last-no-newline.yaml", version: "5.4.11",
			opts: versions.ReleaseOptions{PHP: "7.4", Node: "20"}, notes: []string{"5.4 line: new entry 5.4.11 (line 12)"}, diff: [2]int{0, 3}},
		{name: "php and node of a line in their own quoting", in: "input.yaml", version: "5.5.8", opts: versions.ReleaseOptions{PHP: "8.1", Node: "18"},
			notes: []string{"5.5 line: php 8.2 -> 8.1", "5.5 line: node 20 -> 18"}, diff: [2]int{2, 2}},
		{name: "single-quoted php", in: "input.yaml", version: "5.4.12", opts: versions.ReleaseOptions{PHP: "8.0"},
			notes: []string{"5.4 line (line 21): 5.4.11 -> 5.4.12", "5.4 line: php 7.4 -> 8.0"}, diff: [2]int{2, 2}},
		{name: "forced downgrade", in: "input.yaml", version: "6.0.2", opts: versions.ReleaseOptions{Force: true},
			notes: []string{"6.0 line (line 12): 6.0.3 -> 6.0.2 (back to a lower version)"}, diff: [2]int{1, 1}},
		{name: "same version", in: "input.yaml", version: "6.0.3",
			notes: []string{"the 6.0 line is already at 6.0.3; nothing to change"}},
		{name: "flow entry edited in place", in: "flow-entry.yaml", version: "6.0.3", opts: versions.ReleaseOptions{Node: "20"},
			notes: []string{"6.0 line: node 22 -> 20"}, diff: [2]int{1, 1}},

		{name: "php the Dockerfiles cannot build", in: "input.yaml", version: "5.4.12", opts: versions.ReleaseOptions{PHP: "7.3"},
			wantErr: `line 22: entry 5.4.12: php "7.3" is older than 7.4`},
		{name: "downgrade", in: "input.yaml", version: "6.0.2",
			wantErr: "line 12: 6.0.2 is lower than 6.0.3, the current version of the 6.0 line", problem: versions.LowerVersion},
		{name: "pre-release after the release", in: "input.yaml", version: "6.0.3-rc.1",
			wantErr: "6.0.3-rc.1 is lower than 6.0.3", problem: versions.LowerVersion},
		{name: "new lowest line without php and node", in: "input.yaml", version: "5.3.12",
			wantErr: "5.3.12 starts a new minor line and no lower line is there to take php and node from", problem: versions.NoLowerLine},
		{name: "bad php", in: "input.yaml", version: "6.0.4", opts: versions.ReleaseOptions{PHP: "8"},
			wantErr: `php "8" is not a PHP minor version, e.g. 8.3`, problem: versions.BadPHP},
		{name: "bad node", in: "input.yaml", version: "6.0.4", opts: versions.ReleaseOptions{Node: "v22"},
			wantErr: `node "v22" is not a Node major version, e.g. 22`, problem: versions.BadNode},
		{name: "flow list", in: "flow.yaml", version: "6.0.4",
			wantErr: "line 5: versions is a flow list ([...]); write it as a block list (- version: ...) so that it can be edited"},
		{name: "ref inside a flow entry", in: "flow-entry.yaml", version: "6.0.4",
			wantErr: "line 6: ref: 0123abcd is not on a line of its own; remove it by hand (the release builds its tag) and rerun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata/release/in", tt.in))
			if err != nil {
				t.Fatal(err)
			}
			r, err := versions.EditRelease(in, versions.MustParseVersion(tt.version), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if rerr, ok := errors.AsType[*versions.ReleaseError](err); ok != (tt.problem != 0) || ok && rerr.Problem != tt.problem {
					t.Errorf("error %#v, want a ReleaseError with problem %d", err, tt.problem)
				}
				if strings.Contains(err.Error(), "--") {
					t.Errorf("the library's error names a flag: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Inferred, tt.inferred) {
				t.Errorf("inferred %q, want %q", r.Inferred, tt.inferred)
			}
			if !slices.Equal(r.Notes, tt.notes) {
				t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(r.Notes, "\n"), strings.Join(tt.notes, "\n"))
			}
			if removed, added := lineDiff(in, r.Data); [2]int{removed, added} != tt.diff {
				t.Errorf("%d lines removed and %d added, want %v:\n%s", removed, added, tt.diff, r.Data)
			}
			checkComments(t, in, r.Data, tt.lost)
			if tt.diff == [2]int{} {
				return
			}
			releaseGolden(t, strings.ReplaceAll(tt.name, " ", "-")+".yaml", r.Data)
			if !slices.ContainsFunc(r.File.Entries, func(e versions.Entry) bool { return e.Version.String() == tt.version }) {
				t.Errorf("the edited file has no entry %s", tt.version)
			}
		})
	}
}

// lineDiff counts the lines that a shortest edit from a to b removes and adds.
func lineDiff(a, b []byte) (removed, added int) {
	x, y := lines(a), lines(b)
	// lcs[i][j] is the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	return len(x) - lcs[0][0], len(y) - lcs[0][0]
}

// lines splits data into lines that keep their newline; a final newline ends the last line
// rather than starting an empty one.
func lines(data []byte) []string {
	return strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
}

var comment = regexp.MustCompile(`#.*`)

// checkComments checks that every comment of in but lost is still in out.
func checkComments(t *testing.T, in, out []byte, lost string) {
	t.Helper()
	for _, c := range comment.FindAll(in, -1) {
		if string(c) != lost && !bytes.Contains(out, c) {
			t.Errorf("the comment %q is gone", c)
		}
	}
}

func releaseGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata/release/want", name), got)
}
