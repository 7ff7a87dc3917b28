package odooinstance

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// An upgrade's restore point is an OdooBackupJob named in
// status.upgrade.restorePointBackup before it is created (create-only,
// deterministic name): the OdooBackupJob controller takes it, and the
// upgrade's step follows its phase.

// restorePointBackup reads the upgrade's restore point OdooBackupJob from the
// API server (a backup created a moment ago may not be in the cache yet);
// nil when it does not exist.
func (r *Reconciler) restorePointBackup(ctx context.Context, inst *odoov1alpha2.OdooInstance, st *odoov1alpha2.UpgradeStatus) (*odoov1alpha2.OdooBackupJob, error) {
	b := &odoov1alpha2.OdooBackupJob{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: inst.Namespace, Name: st.RestorePointBackup}, b)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return b, err
}

// restorePointState maps the OdooBackupJob's phase to the step's JobState
// (Completed: succeeded, Failed: failed, else running) and explains a
// failed one.
func (r *Reconciler) restorePointState(ctx context.Context, inst *odoov1alpha2.OdooInstance, st *odoov1alpha2.UpgradeStatus) (upgrade.JobState, string, error) {
	b, err := r.restorePointBackup(ctx, inst, st)
	if err != nil || b == nil {
		return upgrade.JobAbsent, "", err
	}
	switch b.Status.Phase {
	case odoov1alpha2.JobCompleted:
		return upgrade.JobSucceeded, "", nil
	case odoov1alpha2.JobFailed:
		return upgrade.JobFailed, fmt.Sprintf("the restore point backup %s failed: %s; the database was not touched", b.Name, b.Status.Message), nil
	}
	return upgrade.JobRunning, "", nil
}

// createRestorePointBackup creates the restore point OdooBackupJob, and the
// claim <name>-restore-points first when the instance has no
// spec.backup.destination.
func (r *Reconciler) createRestorePointBackup(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus) error {
	inst := s.instance
	if inst.Spec.Backup.Destination == nil {
		claim := &corev1.PersistentVolumeClaim{}
		if err := r.getOptional(ctx, inst, resources.RestorePointClaimName(inst), claim); err != nil {
			return err
		}
		if claim.UID == "" {
			if _, err := r.Applier.Apply(ctx, "PersistentVolumeClaim", resources.RestorePointPVC(inst), nil, nil); err != nil {
				return wrap("restore point claim", err)
			}
		}
	}
	if err := r.Create(ctx, resources.RestorePointBackup(inst, st)); err != nil && !apierrors.IsAlreadyExists(err) {
		return wrap("restore point OdooBackupJob", err)
	}
	return nil
}

// deleteUnfinishedRestorePoint deletes the restore point of a cancelled
// upgrade while it is not finished (its Job goes with it): a pg_dump still
// running only reads, and its locks would hold up the next upgrade's schema
// changes. A finished one is kept.
func (r *Reconciler) deleteUnfinishedRestorePoint(ctx context.Context, inst *odoov1alpha2.OdooInstance, st *odoov1alpha2.UpgradeStatus) error {
	if st.RestorePointBackup == "" {
		return nil
	}
	b, err := r.restorePointBackup(ctx, inst, st)
	if err != nil || b == nil || b.Status.Phase.Finished() {
		return err
	}
	return client.IgnoreNotFound(r.Delete(ctx, b, client.PropagationPolicy(metav1.DeletePropagationBackground)))
}
