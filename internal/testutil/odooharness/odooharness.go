// Package odooharness runs the real Odoo 18.0 server in tests, against a
// PostgreSQL started by pgharness.
//
// Odoo is $ODOO_HOME when set (a directory holding odoo-bin, e.g. a clone of
// github.com/odoo/odoo at 18.0); otherwise the harness runs the repository's
// `hack/odoo.sh install`, the sandbox's install script, so tests and the
// sandbox find, unpack and cache Odoo the same way (its header says where
// from: <repo>/../shared/odoo/odoo-18.0.tar.gz, also beside a git worktree's
// main checkout, else a clone from GitHub).
//
// It runs with /usr/bin/python3 (or $ODOO_PYTHON), which must have Debian's
// python3-* packages Odoo needs (see /work/shared/odoo/README.md or the
// sandbox's install script). Nothing here is skipped: a missing Odoo fails
// the test with what to install.
package odooharness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
	"github.com/odoo-operator/odoo-operator/internal/testutil/proc"
)

// Version is the Odoo series the harness runs.
const Version = "18.0"

// Odoo is an unpacked Odoo ready to run.
type Odoo struct {
	// Root holds odoo-bin, addons/ and odoo/addons/.
	Root   string
	Python string
}

// Bin is the path of odoo-bin.
func (o *Odoo) Bin() string { return filepath.Join(o.Root, "odoo-bin") }

// AddonsPath returns Odoo's --addons-path with extra directories appended.
func (o *Odoo) AddonsPath(extra ...string) string {
	dirs := append([]string{filepath.Join(o.Root, "addons"), filepath.Join(o.Root, "odoo", "addons")}, extra...)
	return strings.Join(dirs, ",")
}

// RepoRoot returns the repository's root directory (the one holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Find locates (and if needed installs) Odoo, and checks that its Python can
// import it. It fails the test when it cannot.
func Find(t testing.TB) *Odoo {
	t.Helper()
	o, err := find()
	if err != nil {
		t.Fatalf("odooharness: %v", err)
	}
	return o
}

func find() (*Odoo, error) {
	py := os.Getenv("ODOO_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	root, err := locate()
	if err != nil {
		return nil, err
	}
	o := &Odoo{Root: root, Python: py}
	// One import of what Odoo needs first, so a machine without the Python
	// packages gets one clear message instead of a traceback per test.
	check := exec.Command(py, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import odoo, psycopg2, lxml, werkzeug, babel, passlib, PIL", root) //nolint:gosec // the developer's own settings
	if out, err := check.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s cannot import Odoo from %s (%v): %s\ninstall Debian's Python packages as listed in "+
			"/work/shared/odoo/README.md (python3-psycopg2 python3-lxml python3-werkzeug ...)", py, root, err, lastLines(out, 3))
	}
	return o, nil
}

func locate() (string, error) {
	if home := os.Getenv("ODOO_HOME"); home != "" {
		if !isFile(filepath.Join(home, "odoo-bin")) {
			return "", fmt.Errorf("$ODOO_HOME=%s has no odoo-bin", home)
		}
		return home, nil
	}
	script := filepath.Join(RepoRoot(), "hack", "odoo.sh")
	out, err := exec.Command(script, "install").Output() //nolint:gosec // the repository's own script
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("hack/odoo.sh install: %w: %s", err, exit.Stderr)
		}
		return "", fmt.Errorf("hack/odoo.sh install: %w", err)
	}
	root := strings.TrimSpace(lastLines(out, 1))
	if !isFile(filepath.Join(root, "odoo-bin")) {
		return "", fmt.Errorf("hack/odoo.sh install printed %q, which has no odoo-bin", root)
	}
	return root, nil
}

func isFile(p string) bool {
	st, err := os.Stat(p) //nolint:gosec // the developer's own settings
	return err == nil && st.Mode().IsRegular()
}

// DBRole is the PostgreSQL role Odoo logs in as: Odoo refuses the superuser.
const DBRole = "odoo"

// Database is where Odoo connects: a pgharness server with the DBRole role.
type Database struct {
	PG       *pgharness.Server
	Password string
}

// PrepareRole creates DBRole (LOGIN CREATEDB, not a superuser) on pg.
func PrepareRole(t testing.TB, pg *pgharness.Server) *Database {
	t.Helper()
	pw := proc.RandomHex(16)
	Admin(t, pg, "CREATE ROLE "+DBRole+" LOGIN CREATEDB PASSWORD '"+pw+"'")
	return &Database{PG: pg, Password: pw}
}

// Admin runs statements as the superuser on the "postgres" database.
func Admin(t testing.TB, pg *pgharness.Server, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// Run is one run of odoo-bin.
type Run struct {
	// Log is what Odoo wrote on stdout and stderr, in order.
	Log []byte
	// ExitCode is the process's exit status, -1 when killed.
	ExitCode int
}

// Args returns the connection arguments for db. The password goes through
// PGPASSWORD (see Env), never the command line.
func (d *Database) Args(db string) []string {
	return []string{"-d", db, "--db_host=" + d.PG.Host, "--db_port=" + strconv.Itoa(d.PG.Port),
		"--db_user=" + DBRole, "--db-filter=^" + db + "$"}
}

// Env returns the environment of an Odoo process.
func (d *Database) Env() []string {
	return append(os.Environ(), "PGPASSWORD="+d.Password)
}

// Exec runs odoo-bin with args until it exits (at most timeout) and
// returns its log and exit code. dataDir keeps Odoo's filestore and
// sessions out of $HOME.
func (o *Odoo) Exec(t testing.TB, d *Database, timeout time.Duration, args ...string) Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := o.command(ctx, t, d, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	run := Run{Log: out.Bytes(), ExitCode: cmd.ProcessState.ExitCode()}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("odoo-bin %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("odoo-bin %s did not exit within %s; log:\n%s", strings.Join(args, " "), timeout, lastLines(run.Log, 30))
	}
	return run
}

func (o *Odoo) command(ctx context.Context, t testing.TB, d *Database, args ...string) *exec.Cmd {
	full := append([]string{o.Bin()}, args...)
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		full = append(full, "--data-dir="+t.TempDir())
	}
	cmd := exec.CommandContext(ctx, o.Python, full...) //nolint:gosec // test harness
	cmd.Env = d.Env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Kill the process group: a prefork server's workers are its children.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// Server is a running odoo-bin server.
type Server struct {
	cmd    *exec.Cmd
	exited <-chan struct{}
	out    *lockedBuffer
	Port   int
}

// Serve starts odoo-bin as a server on a free port on 127.0.0.1 and waits
// until /web/health answers. Stop it with Stop, which returns its log.
func (o *Odoo) Serve(t testing.TB, d *Database, args ...string) *Server {
	t.Helper()
	s := o.Start(t, d, args...)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if code, _, err := Get(s.URL("/web/health")); err == nil && code == 200 {
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("odoo-bin exited before serving; log:\n%s", lastLines(s.out.Bytes(), 30))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("odoo-bin did not answer /web/health within 2m; log:\n%s", lastLines(s.out.Bytes(), 30))
		}
	}
}

// Start starts odoo-bin as a server like Serve, without waiting for it to
// answer.
func (o *Odoo) Start(t testing.TB, d *Database, args ...string) *Server {
	t.Helper()
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	gevent, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	args = append(args, "--http-interface=127.0.0.1", "--http-port="+strconv.Itoa(port), "--gevent-port="+strconv.Itoa(gevent))
	cmd := o.command(context.Background(), t, d, args...)
	s := &Server{cmd: cmd, out: &lockedBuffer{}, Port: port}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if s.exited, err = proc.Start(cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// URL returns the server's address for path.
func (s *Server) URL(path string) string { return "http://127.0.0.1:" + strconv.Itoa(s.Port) + path }

// Log returns what the server logged so far.
func (s *Server) Log() []byte { return s.out.Bytes() }

// Stop stops the server the way Kubernetes does (SIGTERM to the process
// group, SIGKILL after 20 s) and returns its log.
func (s *Server) Stop() []byte {
	select {
	case <-s.exited:
	default:
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	}
	return s.out.Bytes()
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
