package restorejob

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
)

// lockedSteps are the steps recorded in the instance's lock
// (status.operation.step): from Load to Start. The lock is released at
// Start, before the previous database is dropped (that touches only the
// kept database, never the live one).
func lockedStep(step odoov1alpha2.RestoreStep) bool {
	switch step {
	case odoov1alpha2.RestoreStepLoad, odoov1alpha2.RestoreStepNeutralize, odoov1alpha2.RestoreStepStop,
		odoov1alpha2.RestoreStepSwap, odoov1alpha2.RestoreStepFilestore, odoov1alpha2.RestoreStepStart:
		return true
	}
	return false
}

// setLockStep records step in the instance's lock, taking it when it is
// free (a restore started by an operator version without the lock); the
// decision says what the restore waits for when another operation holds it.
func (r *Reconciler) setLockStep(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, step odoov1alpha2.RestoreStep) (operation.Decision, error) {
	inst, err := r.instance(ctx, rj)
	if err != nil {
		return operation.Decision{}, err
	}
	return operation.SetStep(ctx, r.lockClient(), inst, odoov1alpha2.OperationRestore, rj.Name, string(step))
}

// releaseLock gives the instance's lock back when this restore holds it.
func (r *Reconciler) releaseLock(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) error {
	inst, err := r.instance(ctx, rj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return operation.Release(ctx, r.lockClient(), inst, odoov1alpha2.OperationRestore, rj.Name)
}

// lockClient writes the instance's lock and re-reads it uncached.
func (r *Reconciler) lockClient() client.Client { return operation.Uncached(r.Client, r.APIReader) }

// waitingRestores are the OdooRestoreJobs of the instance that have not
// started: a change of the instance (its lock released) takes them up at
// once rather than at their next retry.
func (r *Reconciler) waitingRestores(ctx context.Context, inst client.Object) []reconcile.Request {
	list := &odoov1alpha2.OdooRestoreJobList{}
	if err := r.List(ctx, list, client.InNamespace(inst.GetNamespace())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, rj := range list.Items {
		if rj.Spec.OdooInstanceRef.Name == inst.GetName() && rj.Status.Step == "" && !rj.Status.Phase.Finished() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&rj)})
		}
	}
	return reqs
}
