package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// observeReadOnlyQuery observes the read-only role from the shared catalogs
// (roleCatalog).
func observeReadOnlyQuery(superuser bool, major int) string {
	roles, password, canUse := roleCatalog(superuser, major)
	return fmt.Sprintf(`SELECT r.oid IS NOT NULL,
  COALESCE(r.rolcanlogin, false),
  COALESCE(r.rolsuper OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls, false),
  COALESCE(r.rolcreatedb, false),
  %s,
  CASE WHEN r.oid IS NULL THEN %t ELSE %s END,
  COALESCE(r.rolconnlimit, -1),
  COALESCE(EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m WHERE m.member = r.oid), false),
  COALESCE(EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0
    AND 'default_transaction_read_only=on' = ANY (s.setconfig)), false)
FROM (VALUES (1)) AS v(x)
LEFT JOIN %s r ON r.rolname = $1`, password, superuser, canUse, roles)
}

func observeReadOnly(ctx context.Context, conn *pgx.Conn, name string) (ObservedReadOnlyRole, error) {
	superuser := conn.PgConn().ParameterStatus("is_superuser") == "on"
	major, _ := strconv.Atoi(majorOf(conn.PgConn().ParameterStatus("server_version")))
	var o ObservedReadOnlyRole
	var verifier *string
	err := conn.QueryRow(ctx, observeReadOnlyQuery(superuser, major), name).Scan(
		&o.Exists, &o.CanLogin, &o.Privileged, &o.CreateDB, &verifier, &o.AdminCanUse,
		&o.ConnectionLimit, &o.MemberOf, &o.ReadOnlyDefault)
	if err != nil {
		return o, opErr("observe read-only role", err)
	}
	o.VerifierKnown = superuser
	if verifier != nil {
		o.Verifier = *verifier
	}
	return o, nil
}

func majorOf(v string) string {
	for i, r := range v {
		if r < '0' || r > '9' {
			return v[:i]
		}
	}
	return v
}

// tenantSchemasQuery lists, as the instance's role, the schemas its grants
// cover: those whose owner's privileges it has (its own, and public, owned by
// pg_database_owner since PostgreSQL 15) and public itself.
const tenantSchemasQuery = `SELECT n.nspname FROM pg_catalog.pg_namespace n
WHERE (pg_catalog.pg_has_role(n.nspowner, 'USAGE') OR n.nspname = 'public')
  AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
ORDER BY 1`

func tenantSchemas(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, tenantSchemasQuery)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func validateReadOnly(c Cluster, owner TenantLogin, ro DesiredReadOnlyRole, db string) error {
	if err := validateTenantLogin(c, owner, db); err != nil {
		return err
	}
	if ro.Name == c.AdminUser {
		return fmt.Errorf("%w: role %q is the cluster's admin user", ErrInvalid, ro.Name)
	}
	if ro.Password == c.AdminPassword || ro.Password == owner.Password {
		return fmt.Errorf("%w: role %q: the read-only password must differ from the admin's and the instance's", ErrInvalid, ro.Name)
	}
	_, err := PlanReadOnlyRole(ro, owner.Role, ObservedReadOnlyRole{})
	return err
}

// EnsureReadOnly makes sure the instance's read-only role exists with its
// password and connection limit (as the admin, in the maintenance database),
// and may connect to the instance's database and SELECT its tables (granted
// by the instance's own role, inside that database: WithTenantDatabase). An
// unchanged desired state is trusted for RecheckInterval, like Ensure; the
// grants are applied again after that, which covers a database a restore
// replaced.
func (m *Manager) EnsureReadOnly(ctx context.Context, c Cluster, owner TenantLogin, db string, ro DesiredReadOnlyRole) (EnsureResult, error) {
	secrets := []string{c.AdminPassword, owner.Password, ro.Password}
	if err := validateReadOnly(c, owner, ro, db); err != nil {
		return EnsureResult{}, newError(c.Name, "ensure read-only role", err, secrets...)
	}
	unlock := m.locks.lock(c.Name + "\x00" + ro.Name)
	defer unlock()

	rk := recordKey{c.Name, ro.Name, db}
	s := m.settingsHash(c)
	state := m.hash("readonly", string(s[:]), owner.Role, owner.Password, ro.Name, ro.Password, strconv.Itoa(int(ro.ConnectionLimit)), db)
	pwHash := m.hash("password", ro.Password)
	location := m.hash("location", c.Host, strconv.Itoa(int(c.Port)))
	m.mu.Lock()
	rec, hasRec := m.records[rk]
	m.mu.Unlock()
	if hasRec && rec.state == state && time.Since(rec.at) < m.opts.RecheckInterval {
		return EnsureResult{Cached: true}, nil
	}

	var res EnsureResult
	err := m.WithAdmin(ctx, c, func(conn *pgx.Conn) error {
		o, err := observeReadOnly(ctx, conn, ro.Name)
		if err != nil {
			return err
		}
		o.PasswordRecorded = hasRec && rec.password == pwHash && rec.location == location
		actions, err := PlanReadOnlyRole(ro, owner.Role, o)
		if err != nil {
			return opErr("plan", err)
		}
		for _, a := range actions {
			if err := applyOn(ctx, conn, a, ro.Password); err != nil {
				return err
			}
			res.Actions = append(res.Actions, a)
		}
		return nil
	})
	if err == nil {
		err = m.WithTenantDatabase(ctx, c, owner, db, func(conn *pgx.Conn) error {
			schemas, err := tenantSchemas(ctx, conn)
			if err != nil {
				return opErr("list schemas", err)
			}
			for _, g := range PlanReadOnlyGrants(ro.Name, db, schemas) {
				if _, err := conn.Exec(ctx, g.SQL); err != nil {
					return opErr(g.SQL, err)
				}
			}
			return nil
		})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.records[rk] = record{password: pwHash, location: location}
		return res, newError(c.Name, opOf(err, "ensure read-only role"), err, secrets...)
	}
	m.records[rk] = record{state: state, password: pwHash, location: location, at: time.Now()}
	return res, nil
}

// DropReadOnly removes the read-only role: its privileges in the instance's
// database are revoked by the instance's own role (when the database still
// exists), then the admin drops the role. Nothing happens when the role does
// not exist; a role with more than a login (not the operator's) is refused.
func (m *Manager) DropReadOnly(ctx context.Context, c Cluster, owner TenantLogin, db, roName string) ([]Action, error) {
	secrets := []string{c.AdminPassword, owner.Password}
	if err := validateTenantLogin(c, owner, db); err != nil {
		return nil, newError(c.Name, "drop read-only role", err, secrets...)
	}
	if roName != ReadOnlyRoleName(owner.Role) {
		return nil, newError(c.Name, "drop read-only role", fmt.Errorf("%w: %q is not the read-only role of %q", ErrInvalid, roName, owner.Role), secrets...)
	}
	unlock := m.locks.lock(c.Name + "\x00" + roName)
	defer unlock()
	m.Forget(c.Name, roName)

	var o ObservedReadOnlyRole
	dbExists := false
	err := m.WithAdmin(ctx, c, func(conn *pgx.Conn) error {
		var err error
		if o, err = observeReadOnly(ctx, conn, roName); err != nil {
			return err
		}
		return conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1)", db).Scan(&dbExists)
	})
	if err != nil || !o.Exists {
		return nil, err
	}
	if o.Privileged || o.CreateDB || o.MemberOf {
		return nil, newError(c.Name, "drop read-only role", fmt.Errorf("%w: role %q has more than a login; refusing to drop it", ErrConflict, roName), secrets...)
	}
	if dbExists {
		err = m.WithTenantDatabase(ctx, c, owner, db, func(conn *pgx.Conn) error {
			schemas, err := tenantSchemas(ctx, conn)
			if err != nil {
				return opErr("list schemas", err)
			}
			for _, g := range PlanReadOnlyRevokes(roName, db, schemas) {
				if _, err := conn.Exec(ctx, g.SQL); err != nil {
					return opErr(g.SQL, err)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	drop := DropRole{Role: roName}
	err = m.WithAdmin(ctx, c, func(conn *pgx.Conn) error { return applyOn(ctx, conn, drop, "") })
	if err != nil {
		return nil, err
	}
	return []Action{drop}, nil
}

// applyOn is apply on a plain connection.
func applyOn(ctx context.Context, conn *pgx.Conn, a Action, password string) error {
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
