package backupjob

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
)

// releaseLock gives the instance's lock back when this backup holds it (a
// no-op for a backup that never took it, such as an upgrade's restore
// point, which runs inside the upgrade's lock).
func (r *Reconciler) releaseLock(ctx context.Context, b *odoov1alpha2.OdooBackupJob) error {
	inst := &odoov1alpha2.OdooInstance{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: b.Spec.OdooInstanceRef.Name}, inst); err != nil {
		return client.IgnoreNotFound(err)
	}
	return operation.Release(ctx, r.lockClient(), inst, odoov1alpha2.OperationBackup, b.Name)
}

// lockClient writes the instance's lock and re-reads it uncached.
func (r *Reconciler) lockClient() client.Client { return operation.Uncached(r.Client, r.APIReader) }
