package dbtools

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ApplicationName is the application_name of the sessions ConnectEnv opens
// when PGAPPNAME does not set one.
const ApplicationName = "odoo-operator-data"

// ConnectEnv connects the way libpq's tools do, from the PG* environment
// variables (PGHOST, PGPORT, PGUSER, PGPASSWORD or PGPASSFILE, PGSSLMODE,
// ...), to database, or to PGDATABASE when database is empty. The error
// names the database and the user, never the password.
func ConnectEnv(ctx context.Context, database string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, fmt.Errorf("reading the PG* environment: %w", err)
	}
	if database != "" {
		cfg.Database = database
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = ApplicationName
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to database %q: %w", cfg.Database, err)
	}
	return conn, nil
}
