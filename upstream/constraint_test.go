package upstream

import (
	"slices"
	"testing"
)

// linesAllowed is which of lines c allows.
func linesAllowed(t *testing.T, c Constraint, lines []string) []string {
	t.Helper()
	var got []string
	for _, l := range lines {
		ok, err := c.AllowsLine(l)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got = append(got, l)
		}
	}
	return got
}

func TestConstraintAllowsPHPLines(t *testing.T) {
	lines := []string{"7.1", "7.2", "7.3", "7.4", "8.0", "8.1", "8.2", "8.3", "8.4", "8.5", "9.0"}
	tests := []struct {
		name, text string
		want       []string
	}{
		{"caret (Stud.IP 6.x)", "^8.1", []string{"8.1", "8.2", "8.3", "8.4", "8.5"}},
		{"caret (Stud.IP 5.4)", "^7.2", []string{"7.2", "7.3", "7.4"}},
		{"caret with patch", "^7.2.5", []string{"7.2", "7.3", "7.4"}},
		{"at least", ">=7.2", []string{"7.2", "7.3", "7.4", "8.0", "8.1", "8.2", "8.3", "8.4", "8.5", "9.0"}},
		{"at least, spaced", ">= 8.4", []string{"8.4", "8.5", "9.0"}},
		{"range, space", ">=7.4 <8.3", []string{"7.4", "8.0", "8.1", "8.2"}},
		{"range, comma", ">=7.4,<8.3", []string{"7.4", "8.0", "8.1", "8.2"}},
		{"tilde patch or caret", "~8.2.0|^8.3", []string{"8.2", "8.3", "8.4", "8.5"}},
		{"tilde minor", "~8.2", []string{"8.2", "8.3", "8.4", "8.5"}},
		{"double bar", "^7.4 || ^8.0", []string{"7.4", "8.0", "8.1", "8.2", "8.3", "8.4", "8.5"}},
		{"wildcard", "8.1.*", []string{"8.1"}},
		{"exact", "7.2.5", []string{"7.2"}},
		{"exact partial is the .0 release", "8.1", []string{"8.1"}},
		{"at most partial is that release", "<=8.1", []string{"7.1", "7.2", "7.3", "7.4", "8.0", "8.1"}},
		{"greater excludes the version only", ">8.1", []string{"8.1", "8.2", "8.3", "8.4", "8.5", "9.0"}},
		{"greater than the last patch of a line", ">8.1.99 <8.3", []string{"8.1", "8.2"}},
		{"stability flag", "^8.1@dev", []string{"8.1", "8.2", "8.3", "8.4", "8.5"}},
		{"not equal keeps the line", ">=8.2 !=8.3.1", []string{"8.2", "8.3", "8.4", "8.5", "9.0"}},
		{"hyphen range", "7.4 - 8.1", []string{"7.4", "8.0", "8.1"}},
		{"any", "*", lines},
		{"nothing", ">=8.3 <8.2", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConstraint(tt.text, Composer)
			if err != nil {
				t.Fatal(err)
			}
			if got := linesAllowed(t, c, lines); !slices.Equal(got, tt.want) {
				t.Errorf("%q allows %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestConstraintAllowsNodeLines(t *testing.T) {
	lines := []string{"16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26"}
	tests := []struct {
		name, text string
		want       []string
	}{
		{"range (Stud.IP 6.0)", ">=18 <23", []string{"18", "19", "20", "21", "22"}},
		{"at least (Stud.IP 5.x)", ">=16", lines},
		{"at least (Stud.IP main)", ">=20", []string{"20", "21", "22", "23", "24", "25", "26"}},
		{"bare major is every release of it", "20", []string{"20"}},
		{"x-range", "22.x", []string{"22"}},
		{"alternatives", "^20 || ^22", []string{"20", "22"}},
		{"at most partial includes the major", "<=18", []string{"16", "17", "18"}},
		{"greater than a major", ">22", []string{"23", "24", "25", "26"}},
		{"tilde minor stays in the major", "~20.9", []string{"20"}},
		{"hyphen range", "18 - 20", []string{"18", "19", "20"}},
		{"spaced operator", ">= 24", []string{"24", "25", "26"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConstraint(tt.text, NPM)
			if err != nil {
				t.Fatal(err)
			}
			if got := linesAllowed(t, c, lines); !slices.Equal(got, tt.want) {
				t.Errorf("%q allows %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestConstraintRefusesGarbage(t *testing.T) {
	for _, text := range []string{"", "latest", ">=eight", "^8.1 ||", "~>8.1", "<*"} {
		if _, err := ParseConstraint(text, Composer); err == nil {
			t.Errorf("%q: accepted", text)
		}
	}
}
