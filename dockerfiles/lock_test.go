package dockerfiles

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lockShell is what a shell with the entrypoint's functions runs before a lock test's own
// lines: the client's option file (write_client_config) and the lock's connection.
const lockShell = `set -eu
db_port=$MYSQL_PORT
write_client_config
lock_open "$tmp"
lock_query "SELECT CONNECTION_ID()"
echo "connection $lock_answer"
`

// goAhead makes a FIFO from which a lock test's shell reads a line where it must wait for the
// test; the returned function writes that line.
func goAhead(t *testing.T) (string, func()) {
	t.Helper()
	fifo := filepath.Join(tempDir(t, 0o755), "go-ahead")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	// Opening a FIFO waits for its reader: in the background, so that a shell that died does
	// not hang the test (its wait reports it).
	return fifo, func() { go os.WriteFile(fifo, []byte("go\n"), 0o666) }
}

// TestLockExcludes: while one connection holds the setup lock (studip-lock.sh), another does
// not get it; it gets it once the first releases it.
func TestLockExcludes(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	fifo, release := goAhead(t)
	first := startSourced(t, append(db.env(), "GO_AHEAD="+fifo), []string{db.password}, lockShell+`
lock_get "$setup_lock" 0 && echo holds
read -r _ <"$GO_AHEAD"
if lock_close "$setup_lock"; then echo released; else echo lost; fi
`)
	waitFor(t, "the first shell to hold the lock", 30*time.Second, func() bool { return strings.Contains(first.output.String(), "holds\n") })
	second := startSourced(t, db.env(), []string{db.password}, lockShell+`
if lock_get "$setup_lock" 0; then echo "took it at once"; else echo busy; fi
lock_get "$setup_lock" 60 && echo holds
if lock_close "$setup_lock"; then echo released; else echo lost; fi
`)
	waitFor(t, "the second shell to find the lock taken", 30*time.Second, func() bool { return strings.Contains(second.output.String(), "busy\n") })
	if strings.Contains(second.output.String(), "holds") {
		t.Fatalf("the second shell took the lock the first one holds")
	}
	release()
	for _, r := range []*scriptRun{first, second} {
		if code := r.wait(); code != 0 {
			t.Errorf("exit code %d", code)
		}
	}
	mustContain(t, first.output.String(), "holds\nreleased\n")
	mustContain(t, second.output.String(), "busy\nholds\nreleased\n")
	if got := db.mustExec(t, "SELECT IS_FREE_LOCK(CONCAT('studip-setup.', DATABASE()))"); got != "1" {
		t.Errorf("after both released it, the lock is not free (IS_FREE_LOCK = %s)", got)
	}
}

// TestLockLost: when the lock's connection ends (here: the server kills it), the next question
// fails with the client's error, lock_close says the lock was lost, the lock is free for
// others, and lock_query stops the script saying why.
func TestLockLost(t *testing.T) {
	t.Parallel()
	db := newDatabase(t)
	fifo, goOn := goAhead(t)
	r := startSourced(t, append(db.env(), "GO_AHEAD="+fifo), []string{db.password}, lockShell+`
lock_get "$setup_lock" 0 && echo holds
read -r _ <"$GO_AHEAD"
if lock_ask "SELECT 1"; then echo "still connected"; else echo "ended: $(lock_error)"; fi
if lock_close "$setup_lock"; then echo "lock released"; else echo "lock lost"; fi
lock_query "SELECT 1"
echo "lock_query went on"
`)
	var id string
	waitFor(t, "the shell to hold the lock", 30*time.Second, func() bool {
		out := r.output.String()
		if !strings.Contains(out, "holds\n") {
			return false
		}
		_, rest, _ := strings.Cut(out, "connection ")
		id, _, _ = strings.Cut(rest, "\n")
		return true
	})
	db.mustExec(t, "KILL "+id)
	goOn()
	if code := r.wait(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	out := r.output.String()
	// Not "\nlost\n": the shell's own complaint about the dead FIFO ("printf: I/O error") goes
	// to stderr in pieces, which may fall on either side of the echo.
	mustContain(t, out, "ended: ERROR", "lock lost\n", "studip-entrypoint: error: querying database "+db.name+": the connection ended: ERROR")
	mustNotContain(t, out, "still connected", "lock released", "lock_query went on")
	if got := db.mustExec(t, "SELECT IS_FREE_LOCK(CONCAT('studip-setup.', DATABASE()))"); got != "1" {
		t.Errorf("the lock of a killed connection is not free (IS_FREE_LOCK = %s)", got)
	}
}
