package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TenantLogin is an instance's own PostgreSQL login: its role and the
// password of its `<name>-odoo-user` Secret. String omits the password.
type TenantLogin struct {
	Role     string
	Password string
}

// String omits the password.
func (l TenantLogin) String() string { return fmt.Sprintf("login %q", l.Role) }

// GoString omits the password.
func (l TenantLogin) GoString() string { return l.String() }

// TenantApplicationSuffix ends the application_name of the sessions
// WithTenantDatabase opens ("odoo-operator-tenant" by default), so the
// server's log tells them from the admin's.
const TenantApplicationSuffix = "-tenant"

// WithTenantDatabase runs fn on a new connection to database db of the
// cluster, logged in as the instance's own role (login), never as the admin,
// and closes it afterwards. It is the only way the operator reads inside an
// instance's database (module versions before and after an upgrade, the
// restore verification, the neutralize check): the tenant owns every table,
// view, rule, trigger, function and operator there, so whatever such a read
// runs must run with the tenant's privileges and nothing more. Pinning
// search_path or SET ROLE would not do (a tenant function can RESET ROLE).
//
// The connection takes the cluster's host, port and TLS settings. A login
// that turns out to be a superuser is refused before fn runs.
func (m *Manager) WithTenantDatabase(ctx context.Context, c Cluster, login TenantLogin, db string, fn func(*pgx.Conn) error) error {
	secrets := []string{c.AdminPassword, login.Password}
	if err := validateTenantLogin(c, login, db); err != nil {
		return newError(c.Name, "connect as the instance's role", err, secrets...)
	}
	ctx, cancel := m.withTimeout(ctx)
	defer cancel()
	cc, err := tenantConnConfig(c, m.opts, login, db)
	if err != nil {
		return newError(c.Name, "connect as the instance's role", err, secrets...)
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return newError(c.Name, "connect as the instance's role", opErr("connect", err), secrets...)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if conn.PgConn().ParameterStatus("is_superuser") != "off" {
		return newError(c.Name, "connect as the instance's role", fmt.Errorf(
			"%w: role %q is a superuser (or the server did not say): refusing to run the operator's reads of database %q with its rights",
			ErrConflict, login.Role, db), secrets...)
	}
	// fn's own errors keep their identity (errors.Is); they come from
	// queries, which never carry a password.
	if err := fn(conn); err != nil {
		return fmt.Errorf("cluster %s, database %s as %s: %w", c.Name, db, login.Role, err)
	}
	return nil
}

func validateTenantLogin(c Cluster, login TenantLogin, db string) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := ValidateRoleName(login.Role); err != nil {
		return err
	}
	if login.Role == c.AdminUser {
		return fmt.Errorf("%w: role %q is the cluster's admin user, not an instance's role", ErrInvalid, login.Role)
	}
	if login.Password == "" {
		return fmt.Errorf("%w: role %q: empty password", ErrInvalid, login.Role)
	}
	if login.Password == c.AdminPassword {
		return fmt.Errorf("%w: role %q: the instance's password must differ from the admin's", ErrInvalid, login.Role)
	}
	return ValidateDatabaseName(db)
}

// tenantConnConfig is the cluster's connection (host, port, TLS and its
// fallbacks) with the instance's role instead of the admin: no field of the
// admin's login is kept.
func tenantConnConfig(c Cluster, o ManagerOptions, login TenantLogin, db string) (*pgx.ConnConfig, error) {
	cfg, err := poolConfig(c, o)
	if err != nil {
		return nil, err
	}
	cc := cfg.ConnConfig.Copy()
	cc.User = login.Role
	cc.Password = login.Password
	cc.Database = db
	cc.RuntimeParams = map[string]string{"application_name": o.ApplicationName + TenantApplicationSuffix}
	return cc, nil
}

// WithAdmin runs fn on a pooled admin connection to the cluster's
// maintenance database only (CREATE DATABASE, renames, drops, catalog
// lookups by name). There is deliberately no admin connection into an
// instance's database: every object there belongs to the tenant, so reading
// it as the admin would run tenant code as a superuser; use
// WithTenantDatabase. fn must only run statements that touch no object a
// tenant can create (pg_catalog lookups, database-level DDL); the session's
// search_path is pg_catalog alone.
func (m *Manager) WithAdmin(ctx context.Context, c Cluster, fn func(*pgx.Conn) error) error {
	if err := c.Validate(); err != nil {
		return newError(c.Name, "admin", fmt.Errorf("%w: %w", ErrInvalid, err), c.AdminPassword)
	}
	ctx, cancel := m.withTimeout(ctx)
	defer cancel()
	var fnErr error
	err := m.withConn(ctx, c, func(conn *pgxpool.Conn) error {
		fnErr = fn(conn.Conn())
		return nil
	})
	if err != nil {
		return newError(c.Name, opOf(err, "admin"), err, c.AdminPassword)
	}
	if fnErr != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, fnErr)
	}
	return nil
}
