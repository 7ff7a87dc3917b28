package odooinstance

import (
	"context"
	"sort"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
)

// initRequests lists the OdooInitJobs of the instance's namespace that target it.
func (r *Reconciler) initRequests(ctx context.Context, inst *odoov1alpha2.OdooInstance) []odoov1alpha2.OdooInitJob {
	list := &odoov1alpha2.OdooInitJobList{}
	if err := r.List(ctx, list, client.InNamespace(inst.Namespace), client.MatchingFields{initJobInstanceIndex: inst.Name}); err != nil {
		return nil
	}
	sort.Slice(list.Items, func(i, j int) bool {
		return list.Items[i].CreationTimestamp.Before(&list.Items[j].CreationTimestamp)
	})
	return list.Items
}

// findInitRequest picks the oldest open OdooInitJob for an instance whose
// database is not initialised: its modules replace spec.init's, through the
// same init Job path.
func (r *Reconciler) findInitRequest(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	if s.dbProblem || (inst.Status.Database != nil && inst.Status.Database.Initialized && !s.reinitialize) {
		return ctrl.Result{}, nil
	}
	for _, req := range r.initRequests(ctx, s.instance) {
		if !req.Status.Phase.Finished() && sameNamespace(&req) {
			s.initRequest = req.DeepCopy()
			break
		}
	}
	return ctrl.Result{}, nil
}

func sameNamespace(req *odoov1alpha2.OdooInitJob) bool {
	return req.Spec.OdooInstanceRef.Namespace == "" || req.Spec.OdooInstanceRef.Namespace == req.Namespace
}

// updateInitRequest mirrors the init Job into the OdooInitJobs of the
// instance: the one that drove the init gets its outcome; others are closed
// with the reason they did not run.
func (r *Reconciler) updateInitRequest(ctx context.Context, s *scope) {
	if s.dbName == "" {
		return
	}
	for _, req := range r.initRequests(ctx, s.instance) {
		if req.Status.Phase.Finished() {
			continue
		}
		before := req.DeepCopy()
		now := metav1.Now()
		switch {
		case !sameNamespace(&req):
			req.Status.Phase, req.Status.Message = odoov1alpha2.JobFailed,
				"spec.odooInstanceRef.namespace must be the OdooInitJob's own namespace"
		case s.initRequest != nil && s.initRequest.UID == req.UID:
			req.Status.JobName = s.initJobName
			if req.Status.StartTime == nil {
				req.Status.StartTime = &now
			}
			switch s.initState {
			case initSucceeded:
				req.Status.Phase, req.Status.Message, req.Status.CompletionTime = odoov1alpha2.JobCompleted, "database initialised", &now
			case initFailed:
				req.Status.Phase, req.Status.Message, req.Status.CompletionTime = odoov1alpha2.JobFailed, "init Job failed; see the OdooInstance's Degraded condition", &now
			default:
				req.Status.Phase, req.Status.Message = odoov1alpha2.JobRunning, "init Job "+s.initJobName+" runs"
			}
		case s.instance.Status.Database != nil && s.instance.Status.Database.Initialized:
			req.Status.Phase, req.Status.Message, req.Status.CompletionTime = odoov1alpha2.JobFailed,
				"the database is already initialised; nothing was run (install more modules with an upgrade instead)", &now
		default:
			continue
		}
		if equality.Semantic.DeepEqual(before.Status, req.Status) {
			continue
		}
		// A conflict is left for the watch event of the newer object.
		if err := operation.PatchStatus(ctx, r.Client, &req, before); err != nil {
			log.FromContext(ctx).Error(err, "updating OdooInitJob status", "odooInitJob", req.Name)
		}
	}
}
