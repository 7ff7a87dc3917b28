package postgres

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/testutil/pgattack"
)

// tenantFixture is an instance's role and database with Odoo's module table,
// owned by the role, as Odoo creates it.
func tenantFixture(t *testing.T, m *Manager, c Cluster, suffix string) (TenantLogin, string) {
	t.Helper()
	s := sharedServer(t)
	roleName, dbName := names(t, suffix)
	login := TenantLogin{Role: roleName, Password: randomPassword()}
	mustEnsure(t, m, c, DesiredRole{Name: roleName, Password: login.Password}, DesiredDatabase{Name: dbName}, "CreateRole,CreateDatabase")
	tenant := tenantConn(t, s, login, dbName)
	mustExec(t, tenant, `CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL, state varchar, latest_version varchar);
INSERT INTO ir_module_module (name, state, latest_version) VALUES ('base', 'installed', '18.0.1.3'), ('crm', 'uninstalled', NULL);
CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar, value text);
INSERT INTO ir_config_parameter (key, value) VALUES ('database.is_neutralized', 'true')`)
	return login, dbName
}

// tenantConn logs in as the tenant would, with its own password.
func tenantConn(t *testing.T, s interface{ ConnStringFor(string) string }, login TenantLogin, db string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(s.ConnStringFor(db))
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Password = login.Role, login.Password
	conn, err := pgx.ConnectConfig(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(testCtx(t)) })
	return conn
}

// TestTenantDatabaseReadsRunWithTheTenantsRights: a tenant hides a function
// that makes its role a superuser behind each table the operator reads (a
// view, a view column, an ON SELECT rule, an overloaded operator); the reads
// through WithTenantDatabase see the rows and no role gains anything.
func TestTenantDatabaseReadsRunWithTheTenantsRights(t *testing.T) {
	s := sharedServer(t)
	admin := adminConn(t, s)
	m := newTestManager(t, ManagerOptions{})
	c := clusterFor(s, "tenant")
	for _, v := range pgattack.Variants {
		t.Run(v.Name, func(t *testing.T) {
			login, db := tenantFixture(t, m, c, strings.ReplaceAll(v.Name, "-", "_"))
			trapped, err := pgattack.Install(testCtx(t), tenantConn(t, s, login, db), login.Role, v)
			if err != nil || len(trapped) != 2 {
				t.Fatalf("installing the traps: %v (trapped %v)", err, trapped)
			}
			before, err := pgattack.Snapshot(testCtx(t), admin)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			var flag string
			err = m.WithTenantDatabase(testCtx(t), c, login, db, func(conn *pgx.Conn) error {
				var who string
				if err := conn.QueryRow(testCtx(t), "SELECT session_user").Scan(&who); err != nil || who != login.Role {
					t.Errorf("session_user = %q (%v), want the tenant's role %q", who, err, login.Role)
				}
				if err := conn.QueryRow(testCtx(t), `SELECT count(*) FROM ir_module_module WHERE state <> 'uninstallable'`).Scan(&n); err != nil {
					return err
				}
				return conn.QueryRow(testCtx(t), `SELECT coalesce(value, '') FROM ir_config_parameter WHERE key = 'database.is_neutralized'`).Scan(&flag)
			})
			if err != nil {
				t.Fatalf("WithTenantDatabase: %v", err)
			}
			if n != 2 || flag != "true" {
				t.Errorf("read %d modules and flag %q through the traps, want 2 and true", n, flag)
			}
			after, err := pgattack.Snapshot(testCtx(t), admin)
			if err != nil {
				t.Fatal(err)
			}
			if d := pgattack.Diff(before, after); d != "" {
				t.Fatalf("the tenant's trap changed the server: %s", d)
			}
			// The same read as the admin (what the operator did before) does
			// spring the trap: the fixture is a real attack.
			adminInDB, err := pgx.Connect(testCtx(t), s.ConnStringFor(db))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = adminInDB.Close(testCtx(t)) }()
			if _, err := pgattack.Sprung(testCtx(t), adminInDB); err != nil {
				t.Fatal(err)
			}
			sprung, err := pgattack.Snapshot(testCtx(t), admin)
			if err != nil {
				t.Fatal(err)
			}
			if !sprung.Roles[login.Role].Super {
				t.Fatalf("control: the trap read as the admin did not make %q a superuser", login.Role)
			}
			mustExec(t, admin, "ALTER ROLE "+ident(login.Role)+" NOSUPERUSER NOCREATEROLE NOCREATEDB; DROP ROLE IF EXISTS tenant_trap_sprung")
		})
	}
}

// TestTenantDatabaseRefusals: the admin's login, a superuser role, an empty
// password and a system database are refused; the admin password is never
// used for a tenant connection.
func TestTenantDatabaseRefusals(t *testing.T) {
	s := sharedServer(t)
	admin := adminConn(t, s)
	m := newTestManager(t, ManagerOptions{})
	c := clusterFor(s, "tenant-refusals")
	login, db := tenantFixture(t, m, c, "refusals")

	called := false
	fn := func(*pgx.Conn) error { called = true; return nil }
	for _, bad := range []struct {
		name  string
		login TenantLogin
		db    string
		want  error
	}{
		{"admin login", TenantLogin{Role: c.AdminUser, Password: c.AdminPassword}, db, ErrInvalid},
		{"admin password", TenantLogin{Role: login.Role, Password: c.AdminPassword}, db, ErrInvalid},
		{"empty password", TenantLogin{Role: login.Role}, db, ErrInvalid},
		{"system database", login, "postgres", ErrInvalid},
		{"reserved role", TenantLogin{Role: "pg_read_all_data", Password: "x"}, db, ErrInvalid},
	} {
		err := m.WithTenantDatabase(testCtx(t), c, bad.login, bad.db, fn)
		if !errors.Is(err, bad.want) {
			t.Errorf("%s: error = %v, want %v", bad.name, err, bad.want)
		}
		if err != nil && c.AdminPassword != "" && strings.Contains(err.Error(), c.AdminPassword) {
			t.Errorf("%s: error contains the admin password", bad.name)
		}
	}
	// A role that is (or became) a superuser: refused before fn runs.
	mustExec(t, admin, "ALTER ROLE "+ident(login.Role)+" SUPERUSER")
	err := m.WithTenantDatabase(testCtx(t), c, login, db, fn)
	mustExec(t, admin, "ALTER ROLE "+ident(login.Role)+" NOSUPERUSER")
	if !errors.Is(err, ErrConflict) {
		t.Errorf("superuser role: error = %v, want ErrConflict", err)
	}
	if called {
		t.Error("fn ran on a refused connection")
	}
	// A wrong password is an authentication error naming no password.
	err = m.WithTenantDatabase(testCtx(t), c, TenantLogin{Role: login.Role, Password: "wrong-" + login.Password}, db, fn)
	if !errors.Is(err, ErrAuthentication) || strings.Contains(err.Error(), login.Password) {
		t.Errorf("wrong password: error = %v, want ErrAuthentication without the password", err)
	}
}
