package restorejob

import (
	"context"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
)

// clusterOf finds the PostgreSQL cluster of inst as the instance's own
// reconcile does; a cluster the user must fix is an error with its message.
func (r *Reconciler) clusterOf(ctx context.Context, inst *odoov1alpha2.OdooInstance) (postgres.Cluster, error) {
	c, _, err := postgres.FindCluster(ctx, r.Client, r.Clusters, inst)
	return c, err
}
