package odooinstance

import (
	"context"
	"errors"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
)

// ClusterOf resolves the PostgreSQL cluster of inst as the instance's own
// reconcile does, for the controllers of the backup and restore kinds. A
// cluster the user must fix is returned as an error with its message.
func (r *Reconciler) ClusterOf(ctx context.Context, inst *odoov1alpha2.OdooInstance) (postgres.Cluster, error) {
	s := &scope{instance: inst}
	if err := r.resolveCluster(ctx, s); err != nil {
		return postgres.Cluster{}, err
	}
	if s.stalled != nil {
		return postgres.Cluster{}, errors.New(s.stalled.message)
	}
	return s.cluster, nil
}

// PostgresClientImage is the PostgreSQL client image of data Jobs for a
// server of that major version.
func (i JobImages) PostgresClientImage(major int) string { return i.postgresClient(major) }
