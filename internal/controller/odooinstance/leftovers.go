package odooinstance

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// dropLeftovers carries deletionPolicy Delete over to the databases the
// operator derived from the instance's database (a failed restore's target
// it could not drop, the databases restores and failed upgrades kept aside):
// those owned by the instance's role are dropped. Other databases the role
// owns are not the operator's: they are kept and keep the role (it cannot
// be dropped while it owns them). It returns the kept ones.
func (r *Reconciler) dropLeftovers(ctx context.Context, s *scope, role, dbName string) ([]string, error) {
	inst := s.instance
	var kept []string
	err := r.Databases.WithAdmin(ctx, s.cluster, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `SELECT d.datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba
			WHERE r.rolname = $1 AND d.datname <> $2 ORDER BY d.datname`, role, dbName)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, name := range names {
			if !resources.DerivedDatabaseOf(dbName, name) {
				kept = append(kept, name)
				continue
			}
			if err := dbtools.DropDatabase(ctx, conn, name); err != nil {
				return err
			}
			r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseDropped, "Delete",
				"deletionPolicy Delete: dropped database %q, which the operator had kept aside from %q, on cluster %q", name, dbName, s.cluster.Name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("the databases of role %q: %w", role, err)
	}
	return kept, nil
}

// dropOwnDatabase drops dbName when role owns it and reports whether it did
// (a missing database is already dropped).
func (r *Reconciler) dropOwnDatabase(ctx context.Context, s *scope, role, dbName string) (bool, error) {
	dropped := false
	err := r.Databases.WithAdmin(ctx, s.cluster, func(conn *pgx.Conn) error {
		owner, err := dbtools.DatabaseOwner(ctx, conn, dbName)
		switch {
		case err != nil:
			return err
		case owner == "":
			return nil
		case owner != role:
			return fmt.Errorf("database %q is owned by %q, not by the instance's role %q; refusing to drop it", dbName, owner, role)
		}
		dropped = true
		return dbtools.DropDatabase(ctx, conn, dbName)
	})
	return dropped, err
}
