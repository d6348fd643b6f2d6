package dockerfiles

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// TestLocales: the locales that common/build-locales.sh makes in the Debian images (here
// compiled into a LOCPATH of the test's own, with dash, the Debian images' sh) switch PHP,
// with the images' settings, to English the way Stud.IP does, with a catalog compiled by
// msgfmt; without them Stud.IP's English UI shows the German source strings. Not again under
// busybox: the fpm-alpine image runs no part of the script (musl needs no locale files, see
// build-locales.sh), and pipelines/smoke/locales.php checks setlocale in every image and,
// in every Stud.IP image, gettext with the image's own English catalog.
func TestLocales(t *testing.T) {
	t.Parallel()
	testutil.LookTool(t, "localedef")
	testutil.LookFile(t, "/usr/share/i18n/locales/en_GB")
	msgfmt := testutil.LookTool(t, "msgfmt")

	// Stud.IP's catalogs: German is the source language; locale/en holds the English.
	tree := t.TempDir()
	po := filepath.Join(tree, "studip.po")
	testutil.WriteFile(t, po, "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\nmsgid \"Veranstaltungen\"\nmsgstr \"Courses\"\n")
	mustMkdir(t, filepath.Join(tree, "locale", "en", "LC_MESSAGES"))
	if out, err := exec.Command(msgfmt, "-o", filepath.Join(tree, "locale", "en", "LC_MESSAGES", "studip.mo"), po).CombinedOutput(); err != nil {
		t.Fatalf("msgfmt: %v\n%s", err, out)
	}

	locales := t.TempDir()
	if out, err := exec.Command(testutil.LookTool(t, "sh"), "common/build-locales.sh", locales).CombinedOutput(); err != nil {
		t.Fatalf("build-locales.sh %s: %v\n%s", locales, err, out)
	}
	tests := []struct {
		name, language, locpath string
		want                    language
	}{
		{"English", "en_GB", locales, language{"en_GB.UTF-8", "Courses"}},
		{"German", "de_DE", locales, language{"de_DE.UTF-8", "Veranstaltungen"}},
		// The bug the locales fix: setlocale fails, gettext stays in C.
		{"English without the locales", "en_GB", t.TempDir(), language{false, "Veranstaltungen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := runPHP(t, true, []string{"LOCPATH=" + tt.locpath},
				"-d", "extension=gettext", "testdata/language.php", tt.language, filepath.Join(tree, "locale"), "Veranstaltungen")
			var got language
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("php: %v\n%s", err, out)
			}
			if got != tt.want {
				t.Errorf("setlocale %v, gettext %q; want %v, %q", got.Setlocale, got.Text, tt.want.Setlocale, tt.want.Text)
			}
		})
	}
}

// language is what testdata/language.php reports: setlocale's result (a name, or false)
// and the translated text.
type language struct {
	Setlocale any    `json:"setlocale"`
	Text      string `json:"text"`
}

// TestLocalesMusl: musl, the C library of the fpm-alpine image, switches to Stud.IP's
// locales with no locale files at all (in an empty environment, no MUSL_LOCPATH), which is
// why build-locales.sh makes none there. Built with musl-gcc, statically, so that this
// machine's glibc takes no part.
func TestLocalesMusl(t *testing.T) {
	t.Parallel()
	musl := testutil.LookTool(t, "musl-gcc")
	bin := filepath.Join(t.TempDir(), "setlocale")
	if out, err := exec.Command(musl, "-static", "-o", bin, "testdata/setlocale.c").CombinedOutput(); err != nil {
		t.Fatalf("musl-gcc: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "en_GB.UTF-8", "de_DE.UTF-8", "/etc/passwd")
	cmd.Env = []string{}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	// musl takes no name with a slash, and falls back to C.UTF-8: the check can tell.
	if want := "en_GB.UTF-8\nde_DE.UTF-8\nC.UTF-8;C;C;C;C;C\n"; string(out) != want {
		t.Errorf("musl's setlocale returned %q, want %q", out, want)
	}
}
