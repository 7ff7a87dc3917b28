// Package pgharness runs a throwaway PostgreSQL server for tests.
//
// Each Server gets its own data directory (initdb) and a random free TCP port on
// 127.0.0.1, with password (scram-sha-256) authentication for the superuser
// "postgres". The server runs with fsync=off and logs every statement
// (log_statement=all) to a file that tests can read with ReadLog, so they can
// assert on the SQL the code under test really sent.
//
// When the test process runs as root (as CI does), the server processes run as
// the unprivileged OS user "postgres" (or $PG_OS_USER), because initdb and postgres
// refuse to run as root.
//
// Binaries are taken from $PG_BIN, else /usr/lib/postgresql/15/bin. If they are
// missing, Start fails and tells to run `hack/postgres.sh install`.
package pgharness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/testutil/proc"
)

// DefaultBinDir is where Debian's postgresql-15 package puts the server binaries.
const DefaultBinDir = "/usr/lib/postgresql/15/bin"

// StartTimeout bounds how long Start waits for the server to accept connections.
var StartTimeout = 60 * time.Second

// Server is a running (or stopped) throwaway PostgreSQL server.
type Server struct {
	Host          string // always 127.0.0.1
	Port          int
	AdminUser     string // superuser, "postgres"
	AdminPassword string
	// PasswordFile holds AdminPassword (no newline), for code that reads it from a file.
	PasswordFile string
	BinDir       string
	Dir          string // root of all state; removed by Close
	DataDir      string

	logPath string
	cred    *syscall.Credential

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  <-chan struct{}
	closed  bool
	logFile *os.File
}

// Start starts a new server for the test and registers its cleanup. It fails
// the test (t.Fatal) if the server cannot be started.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartMain()
	if err != nil {
		t.Fatalf("pgharness: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgharness: server log kept at %s", s.LogPath())
			s.closeKeepLog()
			return
		}
		_ = s.Close()
	})
	return s
}

// StartMain starts a new server without a testing.TB, for use in TestMain.
// The caller must call Close.
func StartMain() (*Server, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Host:      "127.0.0.1",
		AdminUser: "postgres",
		BinDir:    bin,
	}
	if err := s.prepare(); err != nil {
		s.removeDir()
		return nil, err
	}
	// A free port can be taken by someone else between probing and binding; retry.
	for attempt := 0; ; attempt++ {
		s.Port, err = proc.FreePort()
		if err == nil {
			err = s.Start()
		}
		if err == nil {
			return s, nil
		}
		if attempt >= 2 || !strings.Contains(s.tailLog(4096), "could not bind") {
			s.removeDir()
			return nil, err
		}
	}
}

func findBinDir() (string, error) {
	bin := os.Getenv("PG_BIN")
	if bin == "" {
		bin = DefaultBinDir
	}
	for _, name := range []string{"initdb", "postgres", "pg_ctl"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil { //nolint:gosec // PG_BIN is the developer's own setting
			return "", fmt.Errorf("PostgreSQL server binaries not found (%s/%s: %v); "+
				"install them with `hack/postgres.sh install` (apt-get install postgresql-15) "+
				"or point $PG_BIN at a PostgreSQL bin directory", bin, name, err)
		}
	}
	return bin, nil
}

// prepare creates the state dir and runs initdb.
func (s *Server) prepare() error {
	base := ""
	if os.Geteuid() == 0 {
		// The server's OS user must be able to reach the dir; $TMPDIR or t.TempDir()
		// may be under a root-only directory, /tmp never is.
		base = "/tmp"
		name := os.Getenv("PG_OS_USER")
		if name == "" {
			name = "postgres"
		}
		u, err := user.Lookup(name)
		if err != nil {
			return fmt.Errorf("running as root needs the OS user %q to run postgres "+
				"(it comes with `hack/postgres.sh install`): %v", name, err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp(base, "pgharness-")
	if err != nil {
		return err
	}
	s.Dir = dir
	s.DataDir = filepath.Join(dir, "data")
	s.logPath = filepath.Join(dir, "postgres.log")
	s.PasswordFile = filepath.Join(dir, "password")
	s.AdminPassword = proc.RandomHex(16)

	if err := os.WriteFile(s.PasswordFile, []byte(s.AdminPassword), 0o600); err != nil {
		return err
	}
	if err := s.chown(dir, s.PasswordFile); err != nil {
		return err
	}
	out, err := s.run(filepath.Join(s.BinDir, "initdb"),
		"-D", s.DataDir, "-U", s.AdminUser, "--pwfile="+s.PasswordFile,
		"--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C", "--no-sync")
	if err != nil {
		return fmt.Errorf("initdb failed: %w\n%s", err, out)
	}
	return nil
}

func (s *Server) chown(paths ...string) error {
	if s.cred == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return err
		}
	}
	return nil
}

// run runs a PostgreSQL tool as the server's OS user and returns its output.
func (s *Server) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...) //nolint:gosec // runs the PostgreSQL binaries of this machine
	cmd.Dir = s.Dir
	cmd.Env = s.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd.CombinedOutput()
}

func (s *Server) env() []string {
	// A minimal, predictable environment (no PG* variables leaking in from the user).
	return []string{"PATH=" + s.BinDir + ":/usr/bin:/bin", "LC_ALL=C", "TZ=UTC", "HOME=" + s.Dir}
}

// Start (re)starts a stopped server on the same port and data directory.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server is closed")
	}
	if s.cmd != nil {
		return errors.New("server is already running")
	}
	// Appending keeps the log of earlier runs, so a test can read across a restart.
	lf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(s.BinDir, "postgres"), //nolint:gosec // the PostgreSQL server binary of this machine
		"-D", s.DataDir,
		"-p", strconv.Itoa(s.Port),
		"-c", "listen_addresses="+s.Host,
		"-c", "unix_socket_directories="+s.Dir,
		"-c", "fsync=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
		"-c", "log_statement=all",
		"-c", "logging_collector=off",
		"-c", "log_destination=stderr",
		"-c", "log_line_prefix=%m [%p] %q%u@%d ",
	)
	cmd.Dir = s.Dir
	cmd.Env = s.env()
	cmd.Stdout = lf
	cmd.Stderr = lf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: s.cred,
		// If the test binary dies (panic, timeout kill) the server must not linger.
		Pdeathsig: syscall.SIGKILL,
		Setpgid:   true,
	}
	exited, err := proc.Start(cmd)
	if err != nil {
		_ = lf.Close()
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.cmd, s.exited, s.logFile = cmd, exited, lf

	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, s.ConnString())
		if err == nil {
			_ = c.Close(ctx)
			return nil
		}
		select {
		case <-exited:
			s.cmd = nil
			_ = lf.Close()
			return fmt.Errorf("postgres exited during startup; log tail:\n%s", s.tailLog(2048))
		case <-ctx.Done():
			s.mu.Unlock()
			_ = s.Stop()
			s.mu.Lock()
			return fmt.Errorf("postgres not ready after %v (last error: %w); log tail:\n%s",
				StartTimeout, err, s.tailLog(2048))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop stops the server abruptly (pg_ctl -m immediate, like a crash or an
// outage); Start brings it back on the same port with the same data.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	if _, err := s.run(filepath.Join(s.BinDir, "pg_ctl"), "stop", "-D", s.DataDir,
		"-m", "immediate", "-w", "-t", "30"); err != nil {
		// pg_ctl failed (e.g. pid file gone); SIGQUIT is what -m immediate sends.
		_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	}
	proc.WaitOrKill(s.cmd, s.exited, 30*time.Second)
	s.cmd = nil
	_ = s.logFile.Close()
	return nil
}

// Running reports whether the server process is running.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Close stops the server and removes all its state. It is idempotent.
func (s *Server) Close() error {
	err := s.Stop()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.removeDir()
	return err
}

// closeKeepLog stops the server and removes the data but keeps the log file.
func (s *Server) closeKeepLog() {
	_ = s.Stop()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	_ = os.RemoveAll(s.DataDir)
}

func (s *Server) removeDir() {
	if s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
}

// ConnString returns a postgres:// URL for the "postgres" database as AdminUser.
func (s *Server) ConnString() string { return s.ConnStringFor("postgres") }

// ConnStringFor returns a postgres:// URL for database db as AdminUser.
func (s *Server) ConnStringFor(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(s.AdminUser, s.AdminPassword),
		Host:     net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable&connect_timeout=5",
	}
	return u.String()
}

// QueryOne runs a query of one value in db as the superuser.
func (s *Server) QueryOne(ctx context.Context, db, sql string) (string, error) {
	conn, err := pgx.Connect(ctx, s.ConnStringFor(db))
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close(ctx) }()
	var out string
	err = conn.QueryRow(ctx, sql).Scan(&out)
	return out, err
}

// DSN returns a keyword/value connection string for the "postgres" database.
func (s *Server) DSN() string {
	return fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=postgres sslmode=disable connect_timeout=5",
		s.Host, s.Port, s.AdminUser, s.AdminPassword)
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// LogPath is the server log file (all statements are logged, across restarts).
func (s *Server) LogPath() string { return s.logPath }

// ReadLog returns the whole server log so far.
func (s *Server) ReadLog() (string, error) {
	b, err := os.ReadFile(s.logPath)
	return string(b), err
}

// WaitForLog waits until the server log contains substr (the server writes its
// log asynchronously to the client seeing a result).
func (s *Server) WaitForLog(substr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		l, err := s.ReadLog()
		if err == nil && strings.Contains(l, substr) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server log %s does not contain %q after %v", s.logPath, substr, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) tailLog(n int) string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}
