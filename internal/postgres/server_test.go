package postgres

// Tests that need a server of their own: they change its settings or stop it.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

func enableLogConnections(t testing.TB, conn *pgx.Conn) {
	t.Helper()
	mustExec(t, conn, "ALTER SYSTEM SET log_connections = on")
	mustExec(t, conn, "SELECT pg_reload_conf()")
	// The setting applies to backends started after the reload is processed.
	time.Sleep(200 * time.Millisecond)
}

const connLine = "connection authorized: "

func TestConnectionsPerEnsure(t *testing.T) {
	s := pgharness.Start(t)
	conn := adminConn(t, s)
	enableLogConnections(t, conn)
	c := clusterFor(s, "main")
	roleName, dbName := names(t, "")
	role, db := DesiredRole{Name: roleName, Password: randomPassword()}, DesiredDatabase{Name: dbName}

	// With the in-memory record (the default 10m RecheckInterval).
	m := newTestManager(t, ManagerOptions{})
	mustEnsure(t, m, c, role, db, "CreateRole,CreateDatabase")
	before := logUntilMarker(t, s, conn)
	statsBefore := m.Stats()[c.Name]
	start := time.Now()
	for range 100 {
		mustEnsure(t, m, c, role, db, "")
	}
	cachedDur := time.Since(start)
	after := logUntilMarker(t, s, conn)
	statsAfter := m.Stats()[c.Name]
	newConns := strings.Count(after, connLine) - strings.Count(before, connLine)
	newStmts := strings.Count(after, "LOG:  statement: ") + strings.Count(after, "LOG:  execute ") -
		strings.Count(before, "LOG:  statement: ") - strings.Count(before, "LOG:  execute ")
	t.Logf("100 Ensure calls of an unchanged instance (record fresh): %d new connections (server log), "+
		"%d pool dials, %d statements besides the markers, %v per call",
		newConns, statsAfter.NewConns-statsBefore.NewConns, newStmts-1, cachedDur/100)
	if newConns != 0 || statsAfter.NewConns != statsBefore.NewConns {
		t.Fatalf("steady state opened connections: log %d, pool %d", newConns, statsAfter.NewConns-statsBefore.NewConns)
	}
	if newStmts != 1 { // the marker itself
		t.Fatalf("steady state ran %d statements", newStmts-1)
	}

	// Without the record: every call observes, on the pooled connection.
	m2 := newTestManager(t, ManagerOptions{RecheckInterval: time.Nanosecond})
	mustEnsure(t, m2, c, role, db, "")
	before = logUntilMarker(t, s, conn)
	start = time.Now()
	for range 100 {
		mustEnsure(t, m2, c, role, db, "")
	}
	recheckDur := time.Since(start)
	after = logUntilMarker(t, s, conn)
	newConns = strings.Count(after, connLine) - strings.Count(before, connLine)
	queries := strings.Count(after, "FROM (VALUES (1)) AS v(x)") - strings.Count(before, "FROM (VALUES (1)) AS v(x)")
	var sessions int
	if err := conn.QueryRow(testCtx(t), "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'odoo-operator'").Scan(&sessions); err != nil {
		t.Fatal(err)
	}
	t.Logf("100 Ensure calls of an unchanged instance (recheck every call): %d new connections, %d observe queries, "+
		"%d operator sessions open, pool %+v, %v per call", newConns, queries, sessions, m2.Stats()[c.Name], recheckDur/100)
	if newConns != 0 || queries != 100 {
		t.Fatalf("recheck: %d new connections, %d queries", newConns, queries)
	}
}

func TestUnreachableAndRecovery(t *testing.T) {
	s := pgharness.Start(t)
	c := clusterFor(s, "main")
	c.AdminPassword = s.AdminPassword
	const interval = 200 * time.Millisecond
	m := newTestManager(t, ManagerOptions{RecheckInterval: interval})
	roleName, dbName := names(t, "")
	role, db := DesiredRole{Name: roleName, Password: randomPassword()}, DesiredDatabase{Name: dbName}
	mustEnsure(t, m, c, role, db, "CreateRole,CreateDatabase")

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	// Within RecheckInterval the record is trusted, server or not.
	if res := mustEnsure(t, m, c, role, db, ""); !res.Cached {
		t.Fatal("record not used")
	}
	time.Sleep(interval + 50*time.Millisecond)

	for _, op := range []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"Ensure", func(ctx context.Context) error { _, err := m.Ensure(ctx, c, role, db); return err }},
		{"Drop", func(ctx context.Context) error { _, err := m.Drop(ctx, c, roleName, dbName); return err }},
		{"DatabaseExists", func(ctx context.Context) error { _, err := m.DatabaseExists(ctx, c, dbName); return err }},
		{"Ping", func(ctx context.Context) error { return m.Ping(ctx, c) }},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		start := time.Now()
		err := op.run(ctx)
		cancel()
		elapsed := time.Since(start)
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("%s on a stopped server: %v", op.name, err)
		}
		if elapsed > 5*time.Second+500*time.Millisecond {
			t.Fatalf("%s took %v", op.name, elapsed)
		}
		assertNoSecret(t, err.Error(), s.AdminPassword)
		assertNoSecret(t, err.Error(), role.Password)
		t.Logf("%s on a stopped server failed after %v: %v", op.name, elapsed.Round(time.Millisecond), err)
	}

	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	// Same Manager, same pool: works again, nothing to repair.
	if err := m.Ping(testCtx(t), c); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	mustEnsure(t, m, c, role, db, "")
	mustLogin(t, s, roleName, role.Password, dbName)
}

// TestTLS runs the server with a certificate from a test CA.
func TestTLS(t *testing.T) {
	s := pgharness.Start(t)
	conn := adminConn(t, s)
	ca := newTestCA(t)
	// The certificate names "localhost" only, not 127.0.0.1.
	certPEM, keyPEM := ca.issue(t, []string{"localhost"}, nil)
	writeServerFile(t, s, "server.crt", certPEM)
	writeServerFile(t, s, "server.key", keyPEM)
	mustExec(t, conn, "ALTER SYSTEM SET ssl_cert_file = 'server.crt'")
	mustExec(t, conn, "ALTER SYSTEM SET ssl_key_file = 'server.key'")
	mustExec(t, conn, "ALTER SYSTEM SET ssl = on")
	mustExec(t, conn, "SELECT pg_reload_conf()")
	waitForSSL(t, s)

	otherCA := newTestCA(t)
	m := newTestManager(t, ManagerOptions{})
	roleName, dbName := names(t, "")
	role, db := DesiredRole{Name: roleName, Password: randomPassword()}, DesiredDatabase{Name: dbName}
	tests := []struct {
		name, host, mode, ca string
		wantErr              error
	}{
		{"verify-full by name", "localhost", SSLModeVerifyFull, ca.pem, nil},
		{"verify-full, CA implied", "localhost", "", ca.pem, nil},
		{"verify-full, name mismatch", "127.0.0.1", SSLModeVerifyFull, ca.pem, ErrTLS},
		{"verify-full, wrong CA", "localhost", SSLModeVerifyFull, otherCA.pem, ErrTLS},
		{"verify-full, system roots", "localhost", SSLModeVerifyFull, "", ErrTLS},
		{"verify-ca ignores the name", "127.0.0.1", SSLModeVerifyCA, ca.pem, nil},
		{"verify-ca, wrong CA", "127.0.0.1", SSLModeVerifyCA, otherCA.pem, ErrTLS},
		{"require with a CA verifies the chain", "127.0.0.1", SSLModeRequire, otherCA.pem, ErrTLS},
		{"require", "127.0.0.1", SSLModeRequire, "", nil},
		{"prefer", "127.0.0.1", SSLModePrefer, "", nil},
		{"disable", "127.0.0.1", SSLModeDisable, "", nil},
	}
	for _, tt := range tests {
		c := clusterFor(s, "tls-"+tt.name)
		c.Host, c.SSLMode, c.CACert = tt.host, tt.mode, tt.ca
		m.Invalidate(c.Name, role.Name, db.Name)
		_, err := m.Ensure(testCtx(t), c, role, db)
		if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.wantErr)
			continue
		}
		if err != nil {
			t.Logf("%s: %v", tt.name, err)
			continue
		}
		var ssl bool
		err = conn.QueryRow(testCtx(t), `SELECT bool_or(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
			WHERE a.application_name = 'odoo-operator' AND a.client_port IS NOT NULL`).Scan(&ssl)
		if err != nil {
			t.Fatal(err)
		}
		if want := tt.mode != SSLModeDisable; ssl != want {
			t.Errorf("%s: TLS in use = %v", tt.name, ssl)
		}
		m.ClosePool(c.Name)
		// ClosePool closes in the background; the next case reads
		// pg_stat_ssl of the operator's sessions, so wait for these to end.
		deadline := time.Now().Add(10 * time.Second)
		for {
			var n int
			if err := conn.QueryRow(testCtx(t), `SELECT count(*) FROM pg_stat_activity
				WHERE application_name = 'odoo-operator' AND client_port IS NOT NULL`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func writeServerFile(t testing.TB, s *pgharness.Server, name string, data []byte) {
	t.Helper()
	p := filepath.Join(s.DataDir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if err := os.Chown(p, int(st.Uid), int(st.Gid)); err != nil {
		t.Fatal(err)
	}
}

func waitForSSL(t testing.TB, s *pgharness.Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cfg, _ := pgx.ParseConfig(strings.Replace(s.ConnString(), "sslmode=disable", "sslmode=require", 1))
		c, err := pgx.ConnectConfig(testCtx(t), cfg)
		if err == nil {
			_ = c.Close(context.Background())
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not enable TLS: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var benchSink EnsureResult

// BenchmarkEnsureSteadyState is the cost of reconciling an unchanged
// instance: the in-memory record answers, no query, no connection.
func BenchmarkEnsureSteadyState(b *testing.B) {
	s := sharedServer(b)
	m := newTestManager(b, ManagerOptions{})
	c := clusterFor(s, "bench")
	roleName, dbName := names(b, "")
	role, db := DesiredRole{Name: roleName, Password: randomPassword()}, DesiredDatabase{Name: dbName}
	ctx := context.Background()
	if _, err := m.Ensure(ctx, c, role, db); err != nil {
		b.Fatal(err)
	}
	dials := m.Stats()[c.Name].NewConns
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := m.Ensure(ctx, c, role, db)
		if err != nil || !res.Cached {
			b.Fatalf("%v %v", res, err)
		}
		benchSink = res
	}
	b.StopTimer()
	b.ReportMetric(float64(m.Stats()[c.Name].NewConns-dials), "dials")
}

// BenchmarkEnsureRecheck is the cost when the record has expired: one
// observe query on a pooled connection.
func BenchmarkEnsureRecheck(b *testing.B) {
	s := sharedServer(b)
	m := newTestManager(b, ManagerOptions{RecheckInterval: time.Nanosecond})
	c := clusterFor(s, "bench-recheck")
	roleName, dbName := names(b, "")
	role, db := DesiredRole{Name: roleName, Password: randomPassword()}, DesiredDatabase{Name: dbName}
	ctx := context.Background()
	if _, err := m.Ensure(ctx, c, role, db); err != nil {
		b.Fatal(err)
	}
	dials := m.Stats()[c.Name].NewConns
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := m.Ensure(ctx, c, role, db)
		if err != nil || res.Cached || res.Changed() {
			b.Fatalf("%v %v", res, err)
		}
		benchSink = res
	}
	b.StopTimer()
	b.ReportMetric(float64(m.Stats()[c.Name].NewConns-dials), "dials")
}
