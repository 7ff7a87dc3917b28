package pgharness_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

func TestServerLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	srv := pgharness.Start(t)
	if srv.Host != "127.0.0.1" || srv.Port == 0 || srv.AdminUser != "postgres" || srv.AdminPassword == "" {
		t.Fatalf("unexpected server fields: %+v", srv)
	}
	if b, err := os.ReadFile(srv.PasswordFile); err != nil || string(b) != srv.AdminPassword {
		t.Fatalf("password file %s: %q, %v", srv.PasswordFile, b, err)
	}

	conn, err := pgx.Connect(ctx, srv.ConnString())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatalf("SELECT version(): %v", err)
	}
	if !strings.HasPrefix(version, "PostgreSQL ") {
		t.Fatalf("unexpected version %q", version)
	}
	t.Logf("server: %s", version)
	if _, err := conn.Exec(ctx, "CREATE TABLE harness_probe (id int PRIMARY KEY, note text)"); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO harness_probe VALUES (1, 'survives restart')"); err != nil {
		t.Fatalf("insert: %v", err)
	}
	_ = conn.Close(ctx)

	// A wrong password must be refused: TCP auth is scram-sha-256, not trust.
	bad := strings.Replace(srv.DSN(), "password="+srv.AdminPassword, "password=wrong", 1)
	if c, err := pgx.Connect(ctx, bad); err == nil {
		_ = c.Close(ctx)
		t.Fatal("connection with a wrong password succeeded")
	}

	// Outage: immediate stop, connections fail, then restart on the same port.
	port := srv.Port
	if err := srv.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if srv.Running() {
		t.Fatal("Running() after Stop")
	}
	if c, err := pgx.Connect(ctx, srv.ConnString()); err == nil {
		_ = c.Close(ctx)
		t.Fatal("connected to a stopped server")
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if srv.Port != port {
		t.Fatalf("port changed across restart: %d -> %d", port, srv.Port)
	}

	conn, err = pgx.Connect(ctx, srv.DSN())
	if err != nil {
		t.Fatalf("connect after restart: %v", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var note string
	if err := conn.QueryRow(ctx, "SELECT note FROM harness_probe WHERE id = 1").Scan(&note); err != nil {
		t.Fatalf("read back after restart: %v", err)
	}
	if note != "survives restart" {
		t.Fatalf("read back %q", note)
	}

	// log_statement=all: the statements show up in the captured server log.
	if err := srv.WaitForLog("CREATE TABLE harness_probe", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitForLog("SELECT note FROM harness_probe", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	log, err := srv.ReadLog()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log, "SELECT version()") {
		t.Fatalf("log %s lacks the SELECT version() statement", srv.LogPath())
	}
}

func TestTwoServersAreIndependent(t *testing.T) {
	a := pgharness.Start(t)
	b := pgharness.Start(t)
	if a.Port == b.Port || a.Dir == b.Dir {
		t.Fatalf("servers share port or dir: %d/%d %s/%s", a.Port, b.Port, a.Dir, b.Dir)
	}
	dir := a.Dir
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Close left %s behind (%v)", dir, err)
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, b.ConnString())
	if err != nil {
		t.Fatalf("second server unusable after closing the first: %v", err)
	}
	_ = c.Close(ctx)
}
