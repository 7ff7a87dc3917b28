package postgres

import (
	"errors"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/testutil/pgattack"
)

// TestReadOnlyRoleReadsAndCannotWrite: EnsureReadOnly makes <role>_ro, which
// logs in with its password, SELECTs the tenant's tables (also one created
// after the grant, as Odoo does when a module is installed) and cannot
// write, create or read another tenant's database; a second Ensure applies
// nothing; DropReadOnly removes it.
func TestReadOnlyRoleReadsAndCannotWrite(t *testing.T) {
	s := sharedServer(t)
	m := newTestManager(t, ManagerOptions{})
	c := clusterFor(s, "readonly")
	owner, db := tenantFixture(t, m, c, "ro")
	otherOwner, otherDB := tenantFixture(t, m, c, "ro_other")
	ro := DesiredReadOnlyRole{Name: ReadOnlyRoleName(owner.Role), Password: randomPassword(), ConnectionLimit: 3}

	res, err := m.EnsureReadOnly(testCtx(t), c, owner, db, ro)
	if err != nil {
		t.Fatalf("EnsureReadOnly: %v", err)
	}
	if got := actionNames(res.Actions); got != "CreateReadOnlyRole,SetReadOnlyDefault" {
		t.Fatalf("applied [%s]", got)
	}
	// Odoo installs a module later: a new table of the tenant.
	tenant := tenantConn(t, s, owner, db)
	mustExec(t, tenant, "CREATE TABLE sale_order (id serial PRIMARY KEY, name varchar); INSERT INTO sale_order (name) VALUES ('S001')")

	roConn := tenantConn(t, s, TenantLogin{Role: ro.Name, Password: ro.Password}, db)
	var n int
	if err := roConn.QueryRow(testCtx(t), "SELECT count(*) FROM ir_module_module").Scan(&n); err != nil || n != 2 {
		t.Fatalf("SELECT as the read-only role: %d rows, %v", n, err)
	}
	if err := roConn.QueryRow(testCtx(t), "SELECT count(*) FROM sale_order").Scan(&n); err != nil || n != 1 {
		t.Fatalf("SELECT of a table created after the grant: %d rows, %v", n, err)
	}
	for _, write := range []string{
		"INSERT INTO ir_module_module (name) VALUES ('x')",
		"UPDATE ir_config_parameter SET value = 'false'",
		"DELETE FROM sale_order",
		"CREATE TABLE mine (id int)",
		// Even with the read-only default switched off by the session, the
		// privileges refuse.
		"SET default_transaction_read_only = off; INSERT INTO sale_order (name) VALUES ('S002')",
		"SET default_transaction_read_only = off; CREATE TABLE public.mine (id int)",
		"SET default_transaction_read_only = off; TRUNCATE sale_order",
	} {
		if _, err := roConn.Exec(testCtx(t), write); err == nil {
			t.Errorf("the read-only role could run %q", write)
		}
		_, _ = roConn.Exec(testCtx(t), "RESET ALL")
	}
	if err := login(testCtx(t), s, ro.Name, ro.Password, otherDB); err == nil {
		other := tenantConn(t, s, TenantLogin{Role: ro.Name, Password: ro.Password}, otherDB)
		if _, err := other.Exec(testCtx(t), "SELECT count(*) FROM ir_module_module"); err == nil {
			t.Errorf("the read-only role of %s reads %s's tables", owner.Role, otherOwner.Role)
		}
	}
	var limit int32
	if err := adminConn(t, s).QueryRow(testCtx(t), "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1", ro.Name).Scan(&limit); err != nil || limit != 3 {
		t.Fatalf("connection limit %d (%v), want 3", limit, err)
	}

	m.Forget(c.Name, ro.Name) // skip the in-memory record: observe the server
	res, err = m.EnsureReadOnly(testCtx(t), c, owner, db, ro)
	if err != nil || len(res.Actions) != 0 {
		t.Fatalf("second EnsureReadOnly applied %v (%v)", res.Actions, err)
	}

	if _, err := m.DropReadOnly(testCtx(t), c, owner, db, ro.Name); err != nil {
		t.Fatalf("DropReadOnly: %v", err)
	}
	if err := login(testCtx(t), s, ro.Name, ro.Password, db); err == nil {
		t.Fatal("the dropped read-only role still logs in")
	}
	if actions, err := m.DropReadOnly(testCtx(t), c, owner, db, ro.Name); err != nil || len(actions) != 0 {
		t.Fatalf("DropReadOnly of a dropped role: %v, %v", actions, err)
	}
}

// TestReadOnlyGrantsRunWithTheTenantsRights: the tenant sets traps in its own
// database (pgattack's views, rule and operator, a schema whose name tries to
// end the statement, and its role's search_path pointing at its own schema
// first) before the read-only role is made; nothing on the server changes
// but the read-only role, which has no attribute and no membership.
func TestReadOnlyGrantsRunWithTheTenantsRights(t *testing.T) {
	s := sharedServer(t)
	admin := adminConn(t, s)
	m := newTestManager(t, ManagerOptions{})
	c := clusterFor(s, "readonly-attack")
	owner, db := tenantFixture(t, m, c, "ro_attack")
	tenant := tenantConn(t, s, owner, db)
	// One variant (each renames the tables it hides; a second would find
	// them gone).
	if _, err := pgattack.Install(testCtx(t), tenant, owner.Role, pgattack.Variants[0]); err != nil {
		t.Fatalf("installing %s: %v", pgattack.Variants[0].Name, err)
	}
	mustExec(t, tenant, `CREATE SCHEMA "x"" TO PUBLIC; ALTER ROLE CURRENT_USER SUPERUSER; --"`)
	mustExec(t, tenant, `CREATE TABLE "x"" TO PUBLIC; ALTER ROLE CURRENT_USER SUPERUSER; --".t (id int)`)
	mustExec(t, tenant, "ALTER ROLE "+ident(owner.Role)+` SET search_path = "x"" TO PUBLIC; ALTER ROLE CURRENT_USER SUPERUSER; --", public`)
	before, err := pgattack.Snapshot(testCtx(t), admin)
	if err != nil {
		t.Fatal(err)
	}
	ro := DesiredReadOnlyRole{Name: ReadOnlyRoleName(owner.Role), Password: randomPassword(), ConnectionLimit: 5}
	if _, err := m.EnsureReadOnly(testCtx(t), c, owner, db, ro); err != nil {
		t.Fatalf("EnsureReadOnly: %v", err)
	}
	after, err := pgattack.Snapshot(testCtx(t), admin)
	if err != nil {
		t.Fatal(err)
	}
	roRole, ok := after.Roles[ro.Name]
	if !ok {
		t.Fatalf("no read-only role %q", ro.Name)
	}
	if roRole.Super {
		t.Fatalf("the read-only role is a superuser: %+v", roRole)
	}
	delete(after.Roles, ro.Name)
	if d := pgattack.Diff(before, after); d != "" {
		t.Fatalf("the tenant's traps changed the server: %s", d)
	}
	var memberships int
	if err := admin.QueryRow(testCtx(t), "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1", ro.Name).Scan(&memberships); err != nil || memberships != 0 {
		t.Fatalf("the read-only role is a member of %d roles (%v)", memberships, err)
	}
	roConn := tenantConn(t, s, TenantLogin{Role: ro.Name, Password: ro.Password}, db)
	var n int
	if err := roConn.QueryRow(testCtx(t), `SELECT count(*) FROM "x"" TO PUBLIC; ALTER ROLE CURRENT_USER SUPERUSER; --".t`).Scan(&n); err != nil {
		t.Fatalf("the read-only role cannot read the tenant's odd schema: %v", err)
	}
}

// TestReadOnlyRefusesAForeignRole: a role of the read-only role's name that
// an administrator made with more than a login (here a superuser and a
// member of another role) is refused, and its password is left alone, so
// the tenant's Secret never holds the password of a privileged role.
func TestReadOnlyRefusesAForeignRole(t *testing.T) {
	s := sharedServer(t)
	admin := adminConn(t, s)
	m := newTestManager(t, ManagerOptions{})
	c := clusterFor(s, "readonly-foreign")
	owner, db := tenantFixture(t, m, c, "ro_foreign")
	name := ReadOnlyRoleName(owner.Role)
	for _, attrs := range []string{"SUPERUSER", "IN ROLE pg_write_all_data", "CREATEDB"} {
		t.Run(attrs, func(t *testing.T) {
			keep := randomPassword()
			v, _ := NewScramVerifier(keep)
			mustExec(t, admin, "CREATE ROLE "+ident(name)+" LOGIN "+attrs+" PASSWORD "+quoteLiteral(v))
			t.Cleanup(func() { mustExec(t, admin, "DROP ROLE IF EXISTS "+ident(name)) })
			ro := DesiredReadOnlyRole{Name: name, Password: randomPassword(), ConnectionLimit: 5}
			_, err := m.EnsureReadOnly(testCtx(t), c, owner, db, ro)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("EnsureReadOnly of a foreign role: %v, want ErrConflict", err)
			}
			if strings.Contains(err.Error(), ro.Password) {
				t.Fatal("the error carries the password")
			}
			mustLogin(t, s, name, keep, "postgres")
			mustNotLogin(t, s, name, ro.Password, "postgres")
			if _, err := m.DropReadOnly(testCtx(t), c, owner, db, name); !errors.Is(err, ErrConflict) {
				t.Fatalf("DropReadOnly of a foreign role: %v, want ErrConflict", err)
			}
		})
	}
}
