package versions

import (
	"slices"
	"time"
)

// Runtime is one release line of PHP (a minor, "8.3") or Node (a major, "22") with the day
// its upstream support ends. The tables below are the one place the project keeps these
// dates: `ci check` warns from them and validation refuses a line they do not list.
type Runtime struct {
	Name string    // "8.3", "22"
	EOL  time.Time // end of life: the last day of security support
}

// PHPLines are the PHP minors that exist from the oldest the Dockerfiles build on
// (OldestPHP), with their end of life (https://www.php.net/supported-versions.php).
// A new PHP minor is added here when its official images appear.
var PHPLines = []Runtime{
	{"7.4", day(2022, 11, 28)},
	{"8.0", day(2023, 11, 26)},
	{"8.1", day(2025, 12, 31)},
	{"8.2", day(2026, 12, 31)},
	{"8.3", day(2027, 12, 31)},
	{"8.4", day(2028, 12, 31)},
	{"8.5", day(2029, 12, 31)},
}

// NodeLines are the Node majors that exist and that Stud.IP's asset builds can use (its
// oldest engines requirement is >=16), with their end of life
// (https://github.com/nodejs/Release). Odd majors are never LTS and end early.
var NodeLines = []Runtime{
	{"16", day(2023, 9, 11)},
	{"17", day(2022, 6, 1)},
	{"18", day(2025, 4, 30)},
	{"19", day(2023, 6, 1)},
	{"20", day(2026, 4, 30)},
	{"21", day(2024, 6, 1)},
	{"22", day(2027, 4, 30)},
	{"23", day(2025, 6, 1)},
	{"24", day(2028, 4, 30)},
	{"25", day(2026, 6, 1)},
	{"26", day(2029, 4, 30)},
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// FindRuntime is the line named name in lines.
func FindRuntime(lines []Runtime, name string) (Runtime, bool) {
	i := slices.IndexFunc(lines, func(r Runtime) bool { return r.Name == name })
	if i < 0 {
		return Runtime{}, false
	}
	return lines[i], true
}

// EndedBy reports whether r's support has ended by the day of now.
func (r Runtime) EndedBy(now time.Time) bool { return now.After(r.EOL.Add(24*time.Hour - 1)) }
