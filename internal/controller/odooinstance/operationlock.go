package odooinstance

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/filestoremigration"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// lockStep takes the instance's lock for one of its own operations (init,
// upgrade, filestore migration), recording step when it is not nil. The
// call works on a copy: only status.operation and the resourceVersion come
// back into the scope, and into s.before too, so the status patched at the
// end of the reconcile never carries status.operation (only package
// operation writes it) and no status this reconcile has not written yet is
// replaced by the server's.
func (r *Reconciler) lockStep(ctx context.Context, s *scope, kind odoov1alpha2.OperationKind, step *string) (operation.Decision, error) {
	cp := s.instance.DeepCopy()
	var d operation.Decision
	var err error
	if step == nil {
		d, err = operation.Acquire(ctx, r.lockClient(), cp, kind, s.instance.Name)
	} else {
		d, err = operation.SetStep(ctx, r.lockClient(), cp, kind, s.instance.Name, *step)
	}
	r.syncLock(s, cp)
	return d, err
}

// unlock releases the lock when the instance's own operation kind holds it.
func (r *Reconciler) unlock(ctx context.Context, s *scope, kind odoov1alpha2.OperationKind) error {
	if op := s.instance.Status.Operation; op == nil || op.Kind != kind || op.Name != s.instance.Name {
		return nil
	}
	cp := s.instance.DeepCopy()
	err := operation.Release(ctx, r.lockClient(), cp, kind, s.instance.Name)
	r.syncLock(s, cp)
	return err
}

// syncLock brings the lock's write into the scope. s.before takes the new
// resourceVersion too: the reconcile's later status writes carry it as their
// optimistic lock (operation.PatchStatus), and they build on this write.
func (r *Reconciler) syncLock(s *scope, cp *odoov1alpha2.OdooInstance) {
	s.instance.ResourceVersion = cp.ResourceVersion
	s.before.ResourceVersion = cp.ResourceVersion
	s.instance.Status.Operation = cp.Status.Operation.DeepCopy()
	s.before.Status.Operation = cp.Status.Operation.DeepCopy()
}

// upgradeLock keeps the lock in step with the upgrade: its step recorded
// while it is in flight, released once it ended.
func (r *Reconciler) upgradeLock(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus) error {
	if !upgrade.InFlight(st) {
		return r.unlock(ctx, s, st.OperationKind())
	}
	step := string(st.Step)
	_, err := r.lockStep(ctx, s, st.OperationKind(), &step)
	return err
}

// migrationLock keeps the lock in step with the filestore migration: the
// action of this reconcile as its step while it copies, released after.
func (r *Reconciler) migrationLock(ctx context.Context, s *scope, action filestoremigration.Action) error {
	if !migrating(s.instance) {
		return r.unlock(ctx, s, odoov1alpha2.OperationFilestoreMigration)
	}
	step := string(action)
	_, err := r.lockStep(ctx, s, odoov1alpha2.OperationFilestoreMigration, &step)
	return err
}

// lockClient writes the instance's lock and re-reads it uncached.
func (r *Reconciler) lockClient() client.Client { return operation.Uncached(r.Client, r.APIReader) }
