package odooinstance

import (
	"context"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// +kubebuilder:rbac:groups=bemade.org,resources=odoobackupjobs;odoorestorejobs;odooinitjobs;odooupgradejobs,verbs=delete

// historyEntry is one job object of the instance, as the history limit sees it.
type historyEntry struct {
	obj client.Object
	// kind groups the limit: each kind keeps its own newest N.
	kind string
	// finished is true for Completed and Failed.
	finished bool
	// protected objects are never collected: scheduled backups (their
	// retention deletes them with their files) and upgrade restore points.
	protected bool
}

// jobsBeyondHistory returns the finished, unprotected job objects beyond the
// newest limit of their kind, oldest first. Pending and running ones are
// never returned, nor counted; limit <= 0 returns none.
func jobsBeyondHistory(entries []historyEntry, limit int) []client.Object {
	if limit <= 0 {
		return nil
	}
	byKind := map[string][]historyEntry{}
	for _, e := range entries {
		if e.finished && !e.protected {
			byKind[e.kind] = append(byKind[e.kind], e)
		}
	}
	var out []client.Object
	for _, list := range byKind {
		// Newest first; ties by name, so the choice is stable.
		slices.SortFunc(list, func(a, b historyEntry) int {
			ta, tb := a.obj.GetCreationTimestamp(), b.obj.GetCreationTimestamp()
			if c := tb.Compare(ta.Time); c != 0 {
				return c
			}
			return strings.Compare(b.obj.GetName(), a.obj.GetName())
		})
		for i := len(list) - 1; i >= limit; i-- {
			out = append(out, list[i].obj)
		}
	}
	slices.SortFunc(out, func(a, b client.Object) int {
		ta, tb := a.GetCreationTimestamp(), b.GetCreationTimestamp()
		if c := ta.Compare(tb.Time); c != 0 {
			return c
		}
		return strings.Compare(a.GetName(), b.GetName())
	})
	return out
}

func finished(p odoov1alpha2.JobPhase) bool {
	return p == odoov1alpha2.JobCompleted || p == odoov1alpha2.JobFailed
}

// reconcileJobHistory applies spec.jobHistoryLimit to the instance's job
// objects. A failed delete is retried with the next reconcile.
func (r *Reconciler) reconcileJobHistory(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	if inst.Spec.JobHistoryLimit == nil || *inst.Spec.JobHistoryLimit <= 0 || !inst.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	in := client.InNamespace(inst.Namespace)
	var entries []historyEntry
	backups := &odoov1alpha2.OdooBackupJobList{}
	if err := r.List(ctx, backups, in); err != nil {
		return ctrl.Result{}, err
	}
	for i := range backups.Items {
		b := &backups.Items[i]
		if b.Spec.OdooInstanceRef.Name == inst.Name {
			entries = append(entries, historyEntry{obj: b, kind: "OdooBackupJob", finished: finished(b.Status.Phase),
				protected: b.Labels[LabelScheduledBackup] == "true" || b.Labels[resources.LabelRestorePoint] == "true"})
		}
	}
	restores := &odoov1alpha2.OdooRestoreJobList{}
	if err := r.List(ctx, restores, in); err != nil {
		return ctrl.Result{}, err
	}
	for i := range restores.Items {
		rj := &restores.Items[i]
		if rj.Spec.OdooInstanceRef.Name == inst.Name {
			entries = append(entries, historyEntry{obj: rj, kind: "OdooRestoreJob", finished: finished(rj.Status.Phase)})
		}
	}
	inits := &odoov1alpha2.OdooInitJobList{}
	if err := r.List(ctx, inits, in); err != nil {
		return ctrl.Result{}, err
	}
	for i := range inits.Items {
		j := &inits.Items[i]
		if j.Spec.OdooInstanceRef.Name == inst.Name {
			entries = append(entries, historyEntry{obj: j, kind: "OdooInitJob", finished: finished(j.Status.Phase)})
		}
	}
	upgrades := &odoov1alpha2.OdooUpgradeJobList{}
	if err := r.List(ctx, upgrades, in); err != nil {
		return ctrl.Result{}, err
	}
	for i := range upgrades.Items {
		j := &upgrades.Items[i]
		if j.Spec.OdooInstanceRef.Name == inst.Name {
			entries = append(entries, historyEntry{obj: j, kind: "OdooUpgradeJob", finished: finished(j.Status.Phase)})
		}
	}
	var errs []error
	for _, obj := range jobsBeyondHistory(entries, int(*inst.Spec.JobHistoryLimit)) {
		if err := r.Delete(ctx, obj, client.Preconditions{UID: ptrUID(obj)}); client.IgnoreNotFound(err) != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return ctrl.Result{}, errs[0]
	}
	return ctrl.Result{}, nil
}

func ptrUID(obj client.Object) *types.UID {
	uid := obj.GetUID()
	return &uid
}
