package dbtools

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/odoo-operator/odoo-operator/internal/postgres"
)

// These run in the operator, on an admin connection to the maintenance
// database ("postgres"), never on a connection to the databases they act on.

// swapAttempts bounds the retries of a swap that finds the databases in use
// (a client reconnected between the termination and the rename).
const swapAttempts = 5

// SwapDatabases puts a restored database in place of the live one, keeping
// the old one under the name keepAs. In one transaction it terminates the
// sessions of both databases, renames live to keepAs and restored to live:
// PostgreSQL runs ALTER DATABASE ... RENAME inside a transaction block, so
// the two renames commit together or not at all, and clients connecting
// meanwhile wait for the commit and are then refused (the name moved) or
// reach the new database. Nothing is dropped.
//
// It is safe to call again after a crash or a failure, deciding from which
// of the three names exist:
//
//   - live and restored, not keepAs: swap;
//   - live and keepAs, not restored: already swapped, nothing to do;
//   - keepAs and restored, not live (left by a manual or interrupted
//     two-step swap): rename restored to live;
//   - anything else is refused with an error naming the databases found.
//
// keepAs must be unique to the restore (derived from its name, say), so
// that these states cannot be left over from an earlier one.
//
// The admin role needs to own both databases (or be a member of their
// owner) and have CREATEDB to rename them, and to be allowed to terminate
// their sessions (superuser, pg_signal_backend, or member of their role).
func SwapDatabases(ctx context.Context, admin *pgx.Conn, live, restored, keepAs string) error {
	for _, n := range []string{live, restored, keepAs} {
		if err := postgres.ValidateDatabaseName(n); err != nil {
			return fmt.Errorf("swap: %w", err)
		}
	}
	if live == restored || live == keepAs || restored == keepAs {
		return fmt.Errorf("swap: the live (%q), restored (%q) and kept (%q) names must differ", live, restored, keepAs)
	}
	var current string
	if err := admin.QueryRow(ctx, "SELECT current_database()").Scan(&current); err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	if slices.Contains([]string{live, restored, keepAs}, current) {
		return fmt.Errorf("swap: the admin connection is to database %q; connect to the maintenance database", current)
	}
	exist, err := existingDatabases(ctx, admin, live, restored, keepAs)
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	hasLive, hasRestored, hasKeep := exist[live], exist[restored], exist[keepAs]
	switch {
	case hasLive && hasRestored && !hasKeep, !hasLive && hasRestored && hasKeep:
	case hasLive && !hasRestored && hasKeep:
		return nil // already swapped
	default:
		return fmt.Errorf("swap: cannot swap from this state: live %q %s, restored %q %s, keep-as %q %s",
			live, existence(hasLive), restored, existence(hasRestored), keepAs, existence(hasKeep))
	}
	for attempt := 1; ; attempt++ {
		err := swapOnce(ctx, admin, live, restored, keepAs, hasLive)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" || attempt == swapAttempts { // object_in_use
			if err != nil {
				return fmt.Errorf("swap %q → %q (keeping %q): %w", restored, live, keepAs, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
}

func swapOnce(ctx context.Context, admin *pgx.Conn, live, restored, keepAs string, hasLive bool) error {
	tx, err := admin.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// The renames wait up to 5 s for the terminated sessions to exit.
	if _, err := tx.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
 WHERE datname = ANY($1) AND pid <> pg_backend_pid()`, []string{live, restored}); err != nil {
		return fmt.Errorf("terminating sessions: %w", err)
	}
	if hasLive {
		if _, err := tx.Exec(ctx, "ALTER DATABASE "+ident(live)+" RENAME TO "+ident(keepAs)); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, "ALTER DATABASE "+ident(restored)+" RENAME TO "+ident(live)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func existence(ok bool) string {
	if ok {
		return "exists"
	}
	return "missing"
}

func existingDatabases(ctx context.Context, admin *pgx.Conn, names ...string) (map[string]bool, error) {
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE datname = ANY($1)", names)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(found))
	for _, n := range found {
		out[n] = true
	}
	return out, nil
}

// DatabaseExists reports whether the database exists.
func DatabaseExists(ctx context.Context, admin *pgx.Conn, name string) (bool, error) {
	exist, err := existingDatabases(ctx, admin, name)
	if err != nil {
		return false, fmt.Errorf("looking up database %q: %w", name, err)
	}
	return exist[name], nil
}

// CreateEmptyDatabase creates an empty database owned by owner, the way the
// operator creates live databases (and Odoo its own): TEMPLATE template0,
// ENCODING 'UTF8', LC_COLLATE 'C'. It fails if the database exists.
func CreateEmptyDatabase(ctx context.Context, admin *pgx.Conn, name, owner string) error {
	if err := postgres.ValidateDatabaseName(name); err != nil {
		return err
	}
	if owner == "" || len(owner) > postgres.MaxIdentifierLen {
		return fmt.Errorf("%w: owner role name %q must be 1 to %d bytes", postgres.ErrInvalid, owner, postgres.MaxIdentifierLen)
	}
	sql := "CREATE DATABASE " + ident(name) + " WITH OWNER " + ident(owner) +
		" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C'"
	if _, err := admin.Exec(ctx, sql); err != nil {
		return fmt.Errorf("creating database %q owned by %q: %w", name, owner, err)
	}
	return nil
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// DatabaseOwner returns the role owning the database, "" when it does not
// exist.
func DatabaseOwner(ctx context.Context, admin *pgx.Conn, name string) (string, error) {
	var owner string
	err := admin.QueryRow(ctx, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", name).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("looking up the owner of database %q: %w", name, err)
	}
	return owner, nil
}
