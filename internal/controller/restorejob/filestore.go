package restorejob

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// createFilestoreJob creates the create-only filestore Job.
func (r *Reconciler) createFilestoreJob(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) error {
	inst, err := r.instance(ctx, rj)
	if err != nil {
		return err
	}
	cluster, err := r.clusterOf(ctx, inst)
	if err != nil {
		return fmt.Errorf("the instance's PostgreSQL cluster: %w", err)
	}
	major, err := r.Databases.ServerMajorVersion(ctx, cluster)
	if err != nil {
		return fmt.Errorf("PostgreSQL server version: %w", err)
	}
	st := rj.Status
	desired := resources.RestoreFilestoreJob(resources.RestoreFilestoreJobInputs{
		Restore: rj, Target: st.TargetDatabase, Kept: st.KeptDatabase, FilestoreClaim: resources.FilestoreClaimName(inst),
		Data: resources.DataJobInputs{
			Instance: inst, OperatorImage: r.Images.Operator, ClientImage: r.Images.PostgresClient(major),
			Host: cluster.Host, Port: cluster.Port, SSLMode: cluster.ClientSSLMode(), DBCA: cluster.CACert != "", Database: st.Database,
			Deadline: r.DataJobDeadline,
		},
	})
	if err := r.Apply(ctx, desired, client.FieldOwner(resources.FieldManager)); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("filestore Job: %w", err)
	}
	return nil
}
