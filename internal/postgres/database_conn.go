package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// WithDatabase runs fn on a new admin connection to database db of the
// cluster, closed afterwards. It is for the rare reads inside an instance's
// database (module versions before and after an upgrade), which the pooled
// connections to the maintenance database cannot serve.
func (m *Manager) WithDatabase(ctx context.Context, c Cluster, db string, fn func(*pgx.Conn) error) error {
	if err := c.Validate(); err != nil {
		return newError(c.Name, "connect to database", fmt.Errorf("%w: %w", ErrInvalid, err), c.AdminPassword)
	}
	ctx, cancel := m.withTimeout(ctx)
	defer cancel()
	cfg, err := poolConfig(c, m.opts)
	if err != nil {
		return newError(c.Name, "connect to database", err, c.AdminPassword)
	}
	cc := cfg.ConnConfig.Copy()
	cc.Database = db
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return newError(c.Name, "connect to database", opErr("connect", err), c.AdminPassword)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	// fn's own errors keep their identity (errors.Is); they come from
	// queries, which never carry the admin password.
	if err := fn(conn); err != nil {
		return fmt.Errorf("cluster %s, database %s: %w", c.Name, db, err)
	}
	return nil
}

// WithAdmin runs fn on a pooled admin connection to the cluster's maintenance
// database (CREATE DATABASE, renames).
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
