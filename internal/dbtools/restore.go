package dbtools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/odoo-operator/odoo-operator/internal/pgtool"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
)

// RestoreOptions configure Restore. The connection comes from the process's
// PG* environment, which pg_restore inherits; only the database differs.
type RestoreOptions struct {
	// File is a dump written by Dump, with its checksum file next to it.
	File string
	// Database is the target. It must exist and be empty.
	Database string
	// PGBinDir is the directory of pg_restore; empty: PATH.
	PGBinDir string
	// Stderr, when set, also receives pg_restore's messages.
	Stderr io.Writer
}

// ErrTargetNotEmpty is returned by Restore for a target database that
// already holds tables, views or sequences.
var ErrTargetNotEmpty = errors.New("target database is not empty")

// Restore loads a dump into an existing, empty database, in this order,
// stopping at the first failure:
//
//  1. the dump's sha256 is checked against its checksum file;
//  2. pg_restore --list reads the archive's table of contents;
//  3. the target must exist and hold no relation outside the system schemas
//     (so a live database is never written into);
//  4. pg_restore --no-owner --no-privileges --exit-on-error loads it.
//
// Steps 1 and 2 touch no database. A failure in step 4 leaves a partly
// loaded target, which a new Restore refuses: drop it and create it empty
// again.
func Restore(ctx context.Context, opts RestoreOptions) error {
	if opts.File == "" {
		return errors.New("restore: no dump file given")
	}
	if err := postgres.ValidateDatabaseName(opts.Database); err != nil {
		return fmt.Errorf("restore: target: %w", err)
	}
	bin, err := pgtool.Path(opts.PGBinDir, "pg_restore")
	if err != nil {
		return err
	}
	if _, err := VerifyDump(ctx, opts.File); err != nil {
		return err
	}
	list, tail := pgtool.Command(ctx, bin, []string{"--list", opts.File}, nil, nil)
	list.Stdout = io.Discard
	if err := list.Run(); err != nil {
		return fmt.Errorf("%w: %w", ErrDumpInvalid, pgtool.Error(ctx, "pg_restore --list", err, tail))
	}
	if err := CheckEmptyTarget(ctx, opts.Database); err != nil {
		return err
	}
	args := []string{"--no-owner", "--no-privileges", "--exit-on-error",
		"--dbname=" + pgtool.ConninfoDBName(opts.Database), opts.File}
	cmd, tail := pgtool.Command(ctx, bin, args, nil, opts.Stderr)
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err != nil {
		return pgtool.Error(ctx, "pg_restore", err, tail)
	}
	return nil
}

// CheckEmptyTarget connects to the target and refuses it unless it exists
// and holds no relation outside the system schemas.
func CheckEmptyTarget(ctx context.Context, database string) error {
	conn, err := ConnectEnv(ctx, database)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name
			return fmt.Errorf("target database %q does not exist: create it empty first", database)
		}
		return fmt.Errorf("checking the target: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	n, examples, err := userRelations(ctx, conn)
	if err != nil {
		return fmt.Errorf("checking that target database %q is empty: %w", database, err)
	}
	if n > 0 {
		return fmt.Errorf("%w: database %q holds %d relations (%s): restore only into a new, empty database",
			ErrTargetNotEmpty, database, n, strings.Join(examples, ", "))
	}
	return nil
}

// userRelations counts the tables, views, sequences and foreign tables
// outside the system schemas and names a few of them.
func userRelations(ctx context.Context, conn *pgx.Conn) (int, []string, error) {
	const q = `SELECT count(*) OVER (), n.nspname || '.' || c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_'
 ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C" LIMIT 3`
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return 0, nil, err
	}
	var n int
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&n, &name); err != nil {
			rows.Close()
			return 0, nil, err
		}
		names = append(names, name)
	}
	return n, names, rows.Err()
}
