package dockerfiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gitlab.studip.de/studip/docker/internal/testutil"
)

// One MariaDB server serves every test of the package; each test gets its own database and
// user (newDatabase).
var (
	server    *mariadb
	serverErr error
)

func TestMain(m *testing.M) {
	var stop func()
	server, stop, serverErr = startMariaDB()
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

type mariadb struct {
	socket string
	port   int
}

// startMariaDB starts a throw-away server on a temporary data directory, listening on a unix
// socket (for the tests' own root access) and on a free loopback port (for the entrypoint),
// with MariaDB's defaults but for speed and the given options. Without mariadbd it returns no
// server and no error: the tests that need one skip then.
func startMariaDB(options ...string) (*mariadb, func(), error) {
	mariadbd, err := lookServer("mariadbd")
	if err != nil {
		return nil, nil, nil
	}
	installDB, err := lookServer("mariadb-install-db")
	if err != nil {
		return nil, nil, nil
	}
	dir, err := os.MkdirTemp("", "studip-mariadb-")
	if err != nil {
		return nil, nil, fmt.Errorf("starting MariaDB: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	datadir, tmpdir := filepath.Join(dir, "data"), filepath.Join(dir, "tmp")
	// A temporary directory of its own: servers sharing /tmp have been seen to lose each
	// other's temporary tables while initialising in parallel.
	if err := os.Mkdir(tmpdir, 0o700); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("starting MariaDB: %w", err)
	}
	install := exec.Command(installDB, "--no-defaults", "--datadir="+datadir, "--tmpdir="+tmpdir, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("initialising a MariaDB data directory: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("finding a free port: %w", err)
	}
	srv := &mariadb{socket: filepath.Join(dir, "mysqld.sock"), port: port}
	var log bytes.Buffer
	cmd := exec.Command(mariadbd, append([]string{"--no-defaults", "--user=root", "--datadir=" + datadir,
		"--tmpdir=" + tmpdir, "--socket=" + srv.socket, "--pid-file=" + filepath.Join(dir, "mysqld.pid"),
		"--bind-address=127.0.0.1", fmt.Sprint("--port=", port), "--skip-name-resolve",
		// Durability is worth nothing here; speed is.
		"--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
		"--max-connections=500"}, options...)...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("starting mariadbd: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		cleanup()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := srv.exec("SELECT 1"); err == nil {
			return srv, stop, nil
		}
		select {
		case err := <-exited:
			cleanup()
			return nil, nil, fmt.Errorf("starting mariadbd: it exited (%v):\n%s", err, log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, nil, fmt.Errorf("starting mariadbd: no answer within 60 s:\n%s", log.String())
		}
	}
}

func lookServer(name string) (string, error) {
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	path := "/usr/sbin/" + name
	_, err := os.Stat(path)
	return path, err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// exec runs SQL as root over the socket and returns the tab-separated rows.
func (s *mariadb) exec(sql string) (string, error) {
	cmd := exec.Command("mariadb", "--no-defaults", "--user=root", "--socket="+s.socket,
		"--batch", "--skip-column-names", "--default-character-set=utf8mb4", "--execute="+sql)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("running %q: %v: %s", sql, err, stderr.String())
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// needServer returns the package's server, skipping the test (or failing it, under CI=true)
// where there is none.
func needServer(t *testing.T) *mariadb {
	t.Helper()
	testutil.LookTool(t, "mariadbd")
	testutil.LookTool(t, "mariadb")
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	if server == nil {
		t.Fatal("mariadbd is installed but no server was started")
	}
	return server
}

// startServer starts a server of the test's own, with options the package's server must not
// have (a server setting is global: parallel tests would see it), and stops it at the end.
func startServer(t *testing.T, options ...string) *mariadb {
	t.Helper()
	needServer(t)
	srv, stop, err := startMariaDB(options...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return srv
}

// database is one test's database, with a user of its own.
type database struct {
	srv                  *mariadb
	name, user, password string
}

var databases atomic.Int64

// newDatabase creates an empty database on the package's server (newDatabaseOn).
func newDatabase(t *testing.T) *database {
	t.Helper()
	return newDatabaseOn(t, needServer(t))
}

// newDatabaseOn creates an empty database and a user with all rights on it, and a password
// made to break careless quoting (shell, option file, SQL and PHP alike).
func newDatabaseOn(t *testing.T, srv *mariadb) *database {
	t.Helper()
	n := databases.Add(1)
	db := &database{
		srv:      srv,
		name:     fmt.Sprintf("studip_%d", n),
		user:     fmt.Sprintf("studip_%d", n),
		password: fmt.Sprintf(`Pw%d-s3cret $(id) "q" 'x' \ # ; end`, n),
	}
	quoted := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(db.password)
	if _, err := srv.exec(fmt.Sprintf("CREATE DATABASE %s CHARACTER SET utf8mb4; CREATE USER '%s'@'%%' IDENTIFIED BY '%s'; GRANT ALL ON %s.* TO '%s'@'%%'",
		db.name, db.user, quoted, db.name, db.user)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := srv.exec(fmt.Sprintf("DROP DATABASE %s; DROP USER '%s'@'%%'", db.name, db.user)); err != nil {
			t.Errorf("dropping the test database: %v", err)
		}
	})
	return db
}

// tables lists the database's tables and views, sorted.
func (db *database) tables(t *testing.T) []string {
	t.Helper()
	return lines(db.mustExec(t, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"))
}

// mustExec runs SQL in the test's database.
func (db *database) mustExec(t *testing.T, sql string) string {
	t.Helper()
	out, err := db.srv.exec("USE " + db.name + "; " + sql)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// env is the part of the entrypoint's environment that names the database.
func (db *database) env() []string {
	return []string{
		"MYSQL_HOST=127.0.0.1",
		fmt.Sprint("MYSQL_PORT=", db.srv.port),
		"MYSQL_USER=" + db.user,
		"MYSQL_PASSWORD=" + db.password,
		"MYSQL_DATABASE=" + db.name,
	}
}

// exitCode is a finished process's exit code, or -1 where it could not run at all.
func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// withTimeout is the context every run of a script in these tests gets.
func withTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}
