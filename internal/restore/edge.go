package restore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
)

// CreateTarget creates the empty database a backup is loaded into, owned by
// owner, unless it exists (a repeated step). When live is set, the live
// database must exist and be owned by owner too: nothing is restored for a
// database the instance's role does not own. Both restores (an
// OdooRestoreJob, a failed upgrade's) create their target with it.
func CreateTarget(ctx context.Context, conn *pgx.Conn, target, owner, live string) error {
	exists, err := dbtools.DatabaseExists(ctx, conn, target)
	if err != nil || exists {
		return err
	}
	if live != "" {
		liveOwner, err := dbtools.DatabaseOwner(ctx, conn, live)
		if err != nil {
			return err
		}
		if liveOwner == "" {
			return fmt.Errorf("the live database %q does not exist", live)
		}
		if liveOwner != owner {
			return fmt.Errorf("the live database %q is owned by %q, not by the instance's role %q: nothing is restored into it", live, liveOwner, owner)
		}
	}
	return dbtools.CreateEmptyDatabase(ctx, conn, target, owner)
}

// SwapIn renames the live database to kept and the restored one to the
// live name, in one transaction (safe to repeat: a done swap is left as it
// is), and returns the live database's owner. The live database is never
// dropped: it stays as kept.
func SwapIn(ctx context.Context, conn *pgx.Conn, live, restored, kept string) (string, error) {
	if err := dbtools.SwapDatabases(ctx, conn, live, restored, kept); err != nil {
		return "", err
	}
	return dbtools.DatabaseOwner(ctx, conn, live)
}
