package odooinstance

import (
	"context"
	"fmt"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// Legacy OdooUpgradeJobs run through the instance's guarded upgrade: a due
// request becomes upgrade.Observed.Request, the state machine starts an
// upgrade with trigger OdooUpgradeJob/<name>, and the request's status
// mirrors status.upgrade. The legacy webhook notifications of the job kinds
// (spec.webhook) are not sent: the instance's events and status report the
// upgrade instead.

// upgradeJobInstanceIndex indexes OdooUpgradeJobs by the instance they target.
const upgradeJobInstanceIndex = "spec.odooInstanceRef.name"

func instanceOfUpgradeJob(_ context.Context, o client.Object) []reconcile.Request {
	job := o.(*odoov1alpha2.OdooUpgradeJob)
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: job.Namespace, Name: job.Spec.OdooInstanceRef.Name}}}
}

// upgradeRequests lists the OdooUpgradeJobs of the instance's namespace that
// target it, oldest first.
func (r *Reconciler) upgradeRequests(ctx context.Context, inst *odoov1alpha2.OdooInstance) []odoov1alpha2.OdooUpgradeJob {
	list := &odoov1alpha2.OdooUpgradeJobList{}
	if err := r.List(ctx, list, client.InNamespace(inst.Namespace), client.MatchingFields{upgradeJobInstanceIndex: inst.Name}); err != nil {
		return nil
	}
	sort.SliceStable(list.Items, func(i, j int) bool {
		a, b := &list.Items[i], &list.Items[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	return list.Items
}

// findUpgradeRequest puts the OdooUpgradeJob the upgrade phase acts on in
// scope: while an upgrade started by a request is in flight, that request;
// otherwise, on an initialised database, the oldest open request whose
// scheduled time has come. A request already answered by the last upgrade
// (its trigger) is not picked again: its status mirrors the outcome instead.
// A request scheduled later requeues the instance for its time.
func (r *Reconciler) findUpgradeRequest(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	st := inst.Status.Upgrade
	if upgrade.InFlight(st) {
		for _, req := range r.upgradeRequests(ctx, inst) {
			if upgrade.TriggerRequestPrefix+req.Name == st.Trigger {
				s.upgradeRequest = upgradeRequestOf(&req)
				break
			}
		}
		return ctrl.Result{}, nil
	}
	if s.dbProblem || (!s.initialized && !initialized(inst)) {
		return ctrl.Result{}, nil
	}
	now := time.Now()
	var result ctrl.Result
	for _, req := range r.upgradeRequests(ctx, inst) {
		if !pickable(&req, st) {
			continue
		}
		if t := req.Spec.ScheduledTime; t != nil && t.After(now) {
			result = lowestNonZero(result, ctrl.Result{RequeueAfter: t.Sub(now)})
			continue
		}
		s.upgradeRequest = upgradeRequestOf(&req)
		break
	}
	return result, nil
}

// pickable is true for a request that may start an upgrade: open, in its own
// namespace, not answered by the last upgrade, and not started before (a
// Running request whose upgrade is no longer status.upgrade's was answered,
// see updateUpgradeRequests).
func pickable(req *odoov1alpha2.OdooUpgradeJob, st *odoov1alpha2.UpgradeStatus) bool {
	if req.Status.Phase.Finished() || req.Status.Phase == odoov1alpha2.JobRunning || !sameNamespaceRef(req.Namespace, req.Spec.OdooInstanceRef) {
		return false
	}
	return st == nil || st.Trigger != upgrade.TriggerRequestPrefix+req.Name
}

func upgradeRequestOf(req *odoov1alpha2.OdooUpgradeJob) *upgrade.Request {
	return &upgrade.Request{
		Name:           req.Name,
		Modules:        append([]string(nil), req.Spec.Modules...),
		ModulesInstall: append([]string(nil), req.Spec.ModulesInstall...),
	}
}

func sameNamespaceRef(ns string, ref odoov1alpha2.OdooInstanceRef) bool {
	return ref.Namespace == "" || ref.Namespace == ns
}

// updateUpgradeRequests mirrors status.upgrade into the OdooUpgradeJobs of the
// instance: the request whose trigger it carries is Running while the upgrade
// is in flight, then Completed or Failed with the upgrade's message; the
// others are Pending with what they wait for, or Failed when they cannot run.
func (r *Reconciler) updateUpgradeRequests(ctx context.Context, s *scope) {
	inst := s.instance
	reqs := r.upgradeRequests(ctx, inst)
	if len(reqs) == 0 {
		return
	}
	in := requestInputs{
		upgrade:     inst.Status.Upgrade,
		initialized: s.initialized || initialized(inst),
		now:         metav1.Now(),
	}
	for _, req := range reqs {
		if req.Status.Phase.Finished() {
			continue
		}
		before := req.DeepCopy()
		req.Status = upgradeRequestStatus(&req, in)
		if equality.Semantic.DeepEqual(before.Status, req.Status) {
			continue
		}
		// A conflict is left for the watch event of the newer object.
		if err := operation.PatchStatus(ctx, r.Client, &req, before); err != nil {
			log.FromContext(ctx).Error(err, "updating OdooUpgradeJob status", "odooUpgradeJob", req.Name)
		}
	}
}

// requestInputs is what the status of an OdooUpgradeJob is computed from.
type requestInputs struct {
	upgrade     *odoov1alpha2.UpgradeStatus
	initialized bool
	now         metav1.Time
}

// upgradeRequestStatus is the status of an open request.
func upgradeRequestStatus(req *odoov1alpha2.OdooUpgradeJob, in requestInputs) odoov1alpha2.OdooUpgradeJobStatus {
	out := *req.Status.DeepCopy()
	st := in.upgrade
	ref := req.Spec.OdooInstanceRef
	pending := func(msg string) odoov1alpha2.OdooUpgradeJobStatus {
		out.Phase, out.Message = odoov1alpha2.JobPending, msg
		return out
	}
	fail := func(msg string) odoov1alpha2.OdooUpgradeJobStatus {
		out.Phase, out.Message = odoov1alpha2.JobFailed, msg
		if out.CompletionTime == nil {
			out.CompletionTime = &in.now
		}
		return out
	}
	switch {
	case !sameNamespaceRef(req.Namespace, ref):
		return fail(fmt.Sprintf("spec.odooInstanceRef.namespace %q is not the OdooUpgradeJob's own namespace %q: only instances of its own namespace can be upgraded; nothing was run",
			ref.Namespace, req.Namespace))
	case st != nil && st.Trigger == upgrade.TriggerRequestPrefix+req.Name && answers(st, req):
		return mirrorUpgrade(out, st, in.now)
	case req.Status.Phase == odoov1alpha2.JobRunning && replaced(st, req):
		return fail(fmt.Sprintf("the outcome of its upgrade was not recorded before a later upgrade (trigger %s) replaced the OdooInstance's status.upgrade; see the OdooInstance's events", st.Trigger))
	case req.Status.Phase == odoov1alpha2.JobRunning:
		// The instance's status read is older than the request's: the next
		// reconcile sees the upgrade.
		return out
	case st != nil && st.Trigger == upgrade.TriggerRequestPrefix+req.Name:
		return fail(fmt.Sprintf("an upgrade with trigger %s already ran at %s, before this OdooUpgradeJob was created; create it under a new name to upgrade again",
			st.Trigger, st.StartTime.UTC().Format(time.RFC3339)))
	case !in.initialized:
		return pending(fmt.Sprintf("waiting for the database of OdooInstance %s to be initialised", ref.Name))
	case req.Spec.ScheduledTime != nil && req.Spec.ScheduledTime.After(in.now.Time):
		return pending("scheduled for " + req.Spec.ScheduledTime.UTC().Format(time.RFC3339))
	case upgrade.InFlight(st):
		return pending(fmt.Sprintf("waiting for the upgrade in flight (trigger %s) to finish", st.Trigger))
	default:
		return pending("queued: the oldest due OdooUpgradeJob of the instance starts first, once no other upgrade or filestore migration runs")
	}
}

// answers is true when the upgrade st with the request's trigger ran for this
// request, not for an earlier one of the same name: the request existed when
// the upgrade started.
func answers(st *odoov1alpha2.UpgradeStatus, req *odoov1alpha2.OdooUpgradeJob) bool {
	return st.StartTime == nil || !req.CreationTimestamp.After(st.StartTime.Time)
}

// replaced is true when a later upgrade than the one the Running request
// recorded has started: the request's own outcome is no longer in status.
func replaced(st *odoov1alpha2.UpgradeStatus, req *odoov1alpha2.OdooUpgradeJob) bool {
	return st != nil && st.StartTime != nil && req.Status.StartTime != nil && st.StartTime.After(req.Status.StartTime.Time)
}

// mirrorUpgrade copies the upgrade of a request into its status.
func mirrorUpgrade(out odoov1alpha2.OdooUpgradeJobStatus, st *odoov1alpha2.UpgradeStatus, now metav1.Time) odoov1alpha2.OdooUpgradeJobStatus {
	out.JobName = st.JobName
	if st.StartTime != nil {
		out.StartTime = st.StartTime.DeepCopy()
	} else if out.StartTime == nil {
		out.StartTime = &now
	}
	finished := func(phase odoov1alpha2.JobPhase) odoov1alpha2.OdooUpgradeJobStatus {
		out.Phase, out.Message = phase, st.Message
		switch {
		case st.CompletionTime != nil:
			out.CompletionTime = st.CompletionTime.DeepCopy()
		case out.CompletionTime == nil:
			out.CompletionTime = &now
		}
		return out
	}
	switch {
	case upgrade.InFlight(st):
		out.Phase, out.Message = odoov1alpha2.JobRunning, fmt.Sprintf("upgrade step %s: %s", st.Step, st.Message)
	case st.Phase == odoov1alpha2.UpgradeSuccess:
		return finished(odoov1alpha2.JobCompleted)
	case st.Phase == odoov1alpha2.UpgradeFailed:
		return finished(odoov1alpha2.JobFailed)
	}
	return out
}
