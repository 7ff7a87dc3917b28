package odooinstance

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
)

// suspendedMessage is the Suspended condition's message: what is paused and
// how to resume.
const suspendedMessage = "reconciliation is paused by the annotation " + odoov1alpha2.AnnotationSuspend +
	"=true: no child object but the NetworkPolicies changes and no upgrade, init or scheduled backup starts;" +
	" running Jobs go on and the next step waits; remove the annotation (kubectl odoo resume) to continue"

// suspended reports whether the instance's reconciliation is paused.
func suspended(inst *odoov1alpha2.OdooInstance) bool {
	return inst.Annotations[odoov1alpha2.AnnotationSuspend] == "true"
}

// suspendedStatus is the status of a suspended instance: the recorded one,
// untouched (nothing was observed), plus Suspended=True.
func suspendedStatus(inst *odoov1alpha2.OdooInstance) odoov1alpha2.OdooInstanceStatus {
	status := *inst.Status.DeepCopy()
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type: odoov1alpha2.ConditionSuspended, Status: metav1.ConditionTrue,
		Reason: odoov1alpha2.ReasonSuspended, Message: suspendedMessage,
		ObservedGeneration: inst.Generation,
	})
	return status
}

// reconcileSuspended records the Suspended condition: the reconcile of a
// suspended instance stops here, before any phase, so no workload, database
// or Job is touched. The condition's observedGeneration tells that the
// operator saw the latest spec and left it alone.
//
// One thing is never suspended: the NetworkPolicies the administrator's
// OdooTenantPolicy and --network-policies impose. The tenant can suspend its
// own instance; suspension must not let it keep a policy the operator would
// revert, nor escape a tightened OdooTenantPolicy.
func (r *Reconciler) reconcileSuspended(ctx context.Context, inst *odoov1alpha2.OdooInstance) error {
	before := inst.DeepCopy()
	s := &scope{instance: inst, before: before}
	if err := r.resolveCluster(ctx, s); err != nil {
		return err
	}
	if s.stalled == nil {
		if _, err := r.reconcilePolicy(ctx, s); err != nil {
			return err
		}
	}
	inst.Status = suspendedStatus(inst)
	if equality.Semantic.DeepEqual(before.Status, inst.Status) {
		return nil
	}
	if err := operation.PatchStatus(ctx, r.Client, inst, before); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}
