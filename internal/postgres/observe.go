package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// roleCatalog is where the admin reads a role (pg_authid for a superuser,
// which shows the stored verifier, else pg_roles with the password masked)
// and the expression saying whether the admin can act as it. Names are
// schema-qualified so no search_path can stand in for them.
func roleCatalog(superuser bool, major int) (roles, password, canUse string) {
	if superuser {
		return "pg_catalog.pg_authid", "r.rolpassword", "true"
	}
	canUse = "pg_catalog.pg_has_role(r.oid, 'USAGE')"
	if major >= 16 {
		canUse += " AND pg_catalog.pg_has_role(r.oid, 'SET')"
	}
	return "pg_catalog.pg_roles", "NULL::text", canUse
}

// observeQuery returns the one query that observes the role and the database.
// A superuser reads the stored verifier from pg_authid; any other admin reads
// pg_roles (whose rolpassword is always masked) and whether it can act as the
// role (PostgreSQL 16 separates inheriting a role's privileges, USAGE, from
// SET ROLE; CREATE DATABASE ... OWNER needs SET, DROP DATABASE needs USAGE).
func observeQuery(superuser bool, major int) string {
	roles, password, canUse := roleCatalog(superuser, major)
	return fmt.Sprintf(`SELECT r.oid IS NOT NULL,
  COALESCE(r.rolcanlogin, false),
  COALESCE(r.rolsuper OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls, false),
  %s,
  CASE WHEN r.oid IS NULL THEN %t ELSE %s END,
  d.oid IS NOT NULL,
  COALESCE(o.rolname, ''),
  COALESCE(d.datistemplate, false)
FROM (VALUES (1)) AS v(x)
LEFT JOIN %s r ON r.rolname = $1
LEFT JOIN pg_database d ON d.datname = $2
LEFT JOIN pg_roles o ON o.oid = d.datdba`, password, superuser, canUse, roles)
}

func observe(ctx context.Context, conn *pgxpool.Conn, roleName, dbName string) (ObservedRole, ObservedDatabase, error) {
	superuser := conn.Conn().PgConn().ParameterStatus("is_superuser") == "on"
	var (
		or       ObservedRole
		od       ObservedDatabase
		verifier *string
	)
	err := conn.QueryRow(ctx, observeQuery(superuser, serverMajor(conn)), roleName, dbName).Scan(
		&or.Exists, &or.CanLogin, &or.Privileged, &verifier, &or.AdminCanUse,
		&od.Exists, &od.Owner, &od.IsTemplate)
	if err != nil {
		return or, od, opErr("observe", err)
	}
	or.VerifierKnown = superuser
	if verifier != nil {
		or.Verifier = *verifier
	}
	return or, od, nil
}

// serverMajor parses the server_version the server reports at startup
// ("15.8 (Debian ...)" gives 15), or returns 0.
func serverMajor(conn *pgxpool.Conn) int {
	v := conn.Conn().PgConn().ParameterStatus("server_version")
	end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if end >= 0 {
		v = v[:end]
	}
	n, _ := strconv.Atoi(v)
	return n
}

// apply runs one action. Utility statements take no bind parameters, so the
// statement is text; the only secret-derived part is the SCRAM verifier,
// computed here, never the password.
func apply(ctx context.Context, conn *pgxpool.Conn, a Action, password string) error {
	verifier := ""
	if a.needsVerifier() {
		v, err := NewScramVerifier(password)
		if err != nil {
			return opErr(a.String(), err)
		}
		verifier = v
	}
	if _, err := conn.Exec(ctx, a.sql(verifier)); err != nil {
		return opErr(a.String(), err)
	}
	return nil
}
