package odooinstance

import (
	"cmp"
	"context"
	"slices"

	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// keptRestorePoints is how many upgrade restore points (the newest, by
// creation) are kept; older finished ones are pruned with their files, so
// that one dump per upgrade does not fill the storage over the years.
const keptRestorePoints = 3

// reconcileRestorePoints marks the upgrade restore points beyond the newest
// keptRestorePoints for pruning (annotation bemade.org/prune=retention): the
// backup controller deletes their files, then them. Nothing is marked while
// an upgrade runs.
func (r *Reconciler) reconcileRestorePoints(ctx context.Context, s *scope) (ctrl.Result, error) {
	st := s.instance.Status.Upgrade
	if !s.backupsObserved || upgrade.InFlight(st) {
		return ctrl.Result{}, nil
	}
	current := ""
	if st != nil {
		current = st.RestorePointBackup
	}
	for _, b := range staleRestorePoints(s.backups, current, keptRestorePoints) {
		if err := r.markForPruning(ctx, b.Namespace, b.Name, b.UID); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// staleRestorePoints are the finished upgrade restore points beyond the
// newest keep (by creation), never the last upgrade's own (current), never
// one still running, nor one already marked or being deleted.
func staleRestorePoints(backups []odoov1alpha2.OdooBackupJob, current string, keep int) []odoov1alpha2.OdooBackupJob {
	var points []odoov1alpha2.OdooBackupJob
	for _, b := range backups {
		if b.Labels[resources.LabelRestorePoint] == "true" && b.Annotations[odoov1alpha2.AnnotationPrune] == "" && b.DeletionTimestamp.IsZero() {
			points = append(points, b)
		}
	}
	slices.SortFunc(points, func(a, b odoov1alpha2.OdooBackupJob) int {
		if c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.Name, a.Name)
	})
	var stale []odoov1alpha2.OdooBackupJob
	for i, b := range points {
		finished := b.Status.Phase.Finished()
		if i >= keep && finished && b.Name != current {
			stale = append(stale, b)
		}
	}
	return stale
}
