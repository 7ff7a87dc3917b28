package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

// One server is shared by the tests that neither stop it nor change its
// settings; they use distinct role and database names.
var shared struct {
	once sync.Once
	srv  *pgharness.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		_ = shared.srv.Close()
	}
	os.Exit(code)
}

func sharedServer(t testing.TB) *pgharness.Server {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = pgharness.StartMain() })
	if shared.err != nil {
		t.Fatalf("pgharness: %v", shared.err)
	}
	return shared.srv
}

func clusterFor(s *pgharness.Server, name string) Cluster {
	return Cluster{
		Name: name, Host: s.Host, Port: int32(s.Port),
		AdminUser: s.AdminUser, AdminPassword: s.AdminPassword, SSLMode: SSLModeDisable,
	}
}

func newTestManager(t testing.TB, opts ManagerOptions) *Manager {
	t.Helper()
	m := NewManager(opts)
	t.Cleanup(m.Close)
	return m
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// adminConn is a superuser connection for checks and markers.
func adminConn(t testing.TB, s *pgharness.Server) *pgx.Conn {
	t.Helper()
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, s.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func mustExec(t testing.TB, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(testCtx(t), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// login connects as user with password to db over TCP (SCRAM) and runs a
// query.
func login(ctx context.Context, s *pgharness.Server, user, password, db string) error {
	cfg, err := pgx.ParseConfig(s.ConnStringFor(db))
	if err != nil {
		return err
	}
	cfg.User, cfg.Password = user, password
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	var who string
	if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&who); err != nil {
		return err
	}
	if who != user {
		return fmt.Errorf("logged in as %q, want %q", who, user)
	}
	return nil
}

func mustLogin(t testing.TB, s *pgharness.Server, user, password, db string) {
	t.Helper()
	if err := login(testCtx(t), s, user, password, db); err != nil {
		t.Fatalf("login as %q to %q: %v", user, db, err)
	}
}

func mustNotLogin(t testing.TB, s *pgharness.Server, user, password, db string) {
	t.Helper()
	err := login(testCtx(t), s, user, password, db)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "28P01" {
		t.Fatalf("login as %q with a wrong password: want SQLSTATE 28P01, got %v", user, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomPassword is hard to quote: spaces, quotes, backslash, '@', '=', ';'.
func randomPassword() string {
	return `p@ss w'o"rd\=;` + randomHex(12) + ` $$ --`
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// names returns a role and database name unique to the test.
func names(t testing.TB, suffix string) (role, db string) {
	base := unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "_") + suffix
	if len(base) > 40 {
		base = base[len(base)-40:]
	}
	base = strings.Trim(base, "_") + "_" + randomHex(3)
	return "odoo.t." + base, "t_" + base
}

// logUntilMarker makes the server log a unique marker statement, waits for it
// and returns the log up to it: everything the server did before.
func logUntilMarker(t testing.TB, s *pgharness.Server, conn *pgx.Conn) string {
	t.Helper()
	marker := "marker_" + randomHex(8)
	mustExec(t, conn, "SELECT '"+marker+"'")
	if err := s.WaitForLog(marker, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	l, err := s.ReadLog()
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(l, marker)
	if i < 0 {
		t.Fatalf("marker %s vanished from the log", marker)
	}
	return l[:i]
}

func actionNames(actions []Action) string {
	out := make([]string, len(actions))
	for i, a := range actions {
		out[i] = fmt.Sprintf("%T", a)
	}
	return strings.ReplaceAll(strings.Join(out, ","), "postgres.", "")
}

func mustEnsure(t testing.TB, m *Manager, c Cluster, role DesiredRole, db DesiredDatabase, want string) EnsureResult {
	t.Helper()
	res, err := m.Ensure(testCtx(t), c, role, db)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if got := actionNames(res.Actions); got != want {
		t.Fatalf("Ensure applied [%s], want [%s] (%v)", got, want, res.Actions)
	}
	return res
}

// createAdmin creates a login role with the given attributes and password
// (sent as a verifier) and returns a cluster using it.
func createAdmin(t testing.TB, s *pgharness.Server, conn *pgx.Conn, name, attrs, password string) Cluster {
	t.Helper()
	v, err := NewScramVerifier(password)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, conn, "CREATE ROLE "+ident(name)+" WITH LOGIN "+attrs+" PASSWORD "+quoteLiteral(v))
	c := clusterFor(s, "as-"+unsafeName.ReplaceAllString(name, "-"))
	c.AdminUser, c.AdminPassword = name, password
	return c
}
