package dbtools

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/postgres"
)

// DropDatabase drops the database name, terminating its sessions first
// (WITH (FORCE)); a missing database is not an error, so a retried drop
// succeeds. The caller decides that this exact name may go: nothing here
// guesses a name.
func DropDatabase(ctx context.Context, admin *pgx.Conn, name string) error {
	if err := postgres.ValidateDatabaseName(name); err != nil {
		return fmt.Errorf("drop: %w", err)
	}
	var current string
	if err := admin.QueryRow(ctx, "SELECT current_database()").Scan(&current); err != nil {
		return fmt.Errorf("drop: %w", err)
	}
	if current == name {
		return fmt.Errorf("drop: the admin connection is to database %q; connect to the maintenance database", current)
	}
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping database %q: %w", name, err)
	}
	return nil
}
