package odooinstance

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// reconcileDelete carries out spec.deletionPolicy before the instance goes:
// Retain (the default) keeps database, role and the claims (filestore,
// restore points) and says so; Delete stops web and cron, drops the database,
// then the role, then deletes the claims. Either way the instance's Jobs are
// removed first, so a re-created instance of the same name starts clean. A
// failure keeps the finalizer and is reported; nothing is dropped by default.
// Every step is idempotent and decided from what exists, so an operator
// restart at any point resumes it.
func (r *Reconciler) reconcileDelete(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	if !controllerutil.ContainsFinalizer(inst, odoov1alpha2.FinalizerDatabase) {
		return ctrl.Result{}, nil
	}
	dbName := databaseName(inst)
	// Always the derived role, never the Secret's username: the Secret is in
	// the tenant's namespace and could name another tenant's role.
	role := resources.RoleName(inst)
	cluster := ""
	if inst.Status.Database != nil {
		cluster = inst.Status.Database.Cluster
	}

	if inst.Spec.DeletionPolicy != odoov1alpha2.DeletionPolicyDelete {
		return r.retainOnDelete(ctx, s, dbName, role, cluster)
	}

	if err := r.resolveCluster(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if s.stalled != nil {
		return ctrl.Result{RequeueAfter: stalledRetry}, r.reportDeletion(ctx, s, s.stalled.reason,
			s.stalled.message+"; set spec.deletionPolicy: Retain to delete the instance without dropping its database")
	}

	// Odoo must not hold connections (or write) while its database is dropped.
	stopped, err := r.scaleToZero(ctx, inst)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !stopped {
		return ctrl.Result{RequeueAfter: requeueShort}, nil
	}

	leftovers, err := r.dropLeftovers(ctx, s, role, dbName)
	if err != nil {
		return ctrl.Result{}, kerrors.NewAggregate([]error{err, r.reportDeletion(ctx, s, odoov1alpha2.ReasonDeletionFailed,
			fmt.Sprintf("dropping the databases kept aside from %q failed, the instance is kept until it succeeds: %s", dbName, err))})
	}
	if len(leftovers) > 0 {
		// The role still owns them, so it stays; the database goes.
		dropped, err := r.dropOwnDatabase(ctx, s, role, dbName)
		if err != nil {
			return ctrl.Result{}, kerrors.NewAggregate([]error{err, r.reportDeletion(ctx, s, odoov1alpha2.ReasonDeletionFailed,
				fmt.Sprintf("dropping database %q failed, the instance is kept until it succeeds: %s", dbName, err))})
		}
		if dropped {
			r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.EventDatabaseLeftover, "Delete",
				"deletionPolicy Delete: dropped database %q on cluster %q; databases %s are owned by role %q but were not made by the operator: they are kept, and so is the role; drop them by hand",
				dbName, s.cluster.Name, strings.Join(leftovers, ", "), role)
		}
		return r.deleteClaimsOnDelete(ctx, s)
	}
	actions, err := r.Databases.Drop(ctx, s.cluster, role, dbName)
	if err != nil {
		p := databaseProblem(s.cluster, err)
		return ctrl.Result{}, kerrors.NewAggregate([]error{err, r.reportDeletion(ctx, s, odoov1alpha2.ReasonDeletionFailed,
			fmt.Sprintf("dropping database %q and role %q failed, the instance is kept until it succeeds: %s", dbName, role, p.message))})
	}
	if len(actions) > 0 {
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseDropped, "Delete",
			"deletionPolicy Delete: %s on cluster %q", actionsNote(actions), s.cluster.Name)
	}
	r.dropReadOnlyOnDelete(ctx, s, role)
	return r.deleteClaimsOnDelete(ctx, s)
}

// dropReadOnlyOnDelete drops the read-only role of spec.readOnlySqlAccess
// once the database (where its grants were) is gone. It holds no data, so a
// failure is reported and does not keep the instance.
func (r *Reconciler) dropReadOnlyOnDelete(ctx context.Context, s *scope, role string) {
	if !resources.ReadOnlyEnabled(s.instance) {
		return
	}
	ro := postgres.ReadOnlyRoleName(role)
	actions, err := r.Databases.Drop(ctx, s.cluster, ro, "")
	if err != nil {
		r.Recorder.Eventf(s.instance, nil, corev1.EventTypeWarning, odoov1alpha2.EventDatabaseLeftover, "Delete",
			"deletionPolicy Delete: the read-only role %q was kept: %s", ro, databaseProblem(s.cluster, err).message)
		return
	}
	if len(actions) > 0 {
		r.Recorder.Eventf(s.instance, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseDropped, "DeleteReadOnlyRole",
			"deletionPolicy Delete: %s on cluster %q", actionsNote(actions), s.cluster.Name)
	}
}

// retainOnDelete keeps the claims: the owner reference an earlier operator
// version set is removed (else the garbage collector would delete the
// attachments after the instance), the instance's Jobs are removed, then the
// finalizer.
func (r *Reconciler) retainOnDelete(ctx context.Context, s *scope, dbName, role, cluster string) (ctrl.Result, error) {
	inst := s.instance
	claims, err := r.instanceClaims(ctx, inst)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.orphanClaims(ctx, inst, claims); err != nil {
		return ctrl.Result{}, err
	}
	jobs, err := r.removeInstanceJobs(ctx, inst, nil)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(jobs) > 0 {
		return ctrl.Result{RequeueAfter: requeueShort}, nil
	}
	kept := "no claim"
	if names := claimNames(claims); len(names) > 0 {
		kept = "claims " + strings.Join(names, ", ")
	}
	r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseRetained, "Delete",
		"deletionPolicy Retain: database %q and role %q are kept on cluster %q, and %s; an OdooInstance re-created under the name %q uses them again",
		dbName, role, cluster, kept, inst.Name)
	return ctrl.Result{}, r.removeFinalizer(ctx, inst)
}

// deleteClaimsOnDelete removes the Jobs whose pods mount the instance's
// claims, deletes the claims and waits until they are gone, so that a
// re-created instance of the same name never meets a Terminating claim.
func (r *Reconciler) deleteClaimsOnDelete(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	claims, err := r.instanceClaims(ctx, inst)
	if err != nil {
		return ctrl.Result{}, err
	}
	names := claimNames(claims)
	jobs, err := r.removeInstanceJobs(ctx, inst, names)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(jobs) > 0 {
		return ctrl.Result{RequeueAfter: requeueShort}, nil
	}
	if len(claims) == 0 {
		return ctrl.Result{}, r.removeFinalizer(ctx, inst)
	}
	var deleted []string
	for i := range claims {
		pvc := &claims[i]
		if !pvc.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.Delete(ctx, pvc, client.Preconditions{UID: &pvc.UID}); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, fmt.Errorf("deleting claim %s: %w", pvc.Name, err)
		}
		deleted = append(deleted, pvc.Name)
	}
	if len(deleted) > 0 {
		// One event: the events API folds events of one reason into a
		// series that keeps the first note.
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventClaimDeleted, "Delete",
			"deletionPolicy Delete: deleted claims %s and their files", strings.Join(deleted, ", "))
	}
	pods, err := r.podsUsing(ctx, inst.Namespace, names)
	if err != nil {
		return ctrl.Result{}, err
	}
	msg := fmt.Sprintf("deletionPolicy Delete: waiting for claims %s to be gone", strings.Join(names, ", "))
	if len(pods) > 0 {
		msg += fmt.Sprintf("; pods %s still mount them: delete them", strings.Join(pods, ", "))
	}
	return ctrl.Result{RequeueAfter: requeueShort}, r.reportDeletion(ctx, s, odoov1alpha2.ReasonDeletionWaiting, msg)
}

// scaleToZero sets both Deployments to 0 replicas and reports whether their
// pods are gone.
func (r *Reconciler) scaleToZero(ctx context.Context, inst *odoov1alpha2.OdooInstance) (bool, error) {
	stopped := true
	for _, name := range []string{resources.WebName(inst), resources.CronName(inst)} {
		d := &appsv1.Deployment{}
		if err := r.Get(ctx, types.NamespacedName{Namespace: inst.Namespace, Name: name}, d); err != nil {
			if client.IgnoreNotFound(err) != nil {
				return false, err
			}
			continue
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 0 {
			patch := client.MergeFrom(d.DeepCopy())
			zero := int32(0)
			d.Spec.Replicas = &zero
			if err := r.Patch(ctx, d, patch); err != nil {
				return false, fmt.Errorf("scaling %s to 0: %w", name, err)
			}
			stopped = false
		}
		if d.Status.Replicas > 0 {
			stopped = false
		}
	}
	return stopped, nil
}

func (r *Reconciler) removeFinalizer(ctx context.Context, inst *odoov1alpha2.OdooInstance) error {
	patch := client.MergeFrom(inst.DeepCopy())
	controllerutil.RemoveFinalizer(inst, odoov1alpha2.FinalizerDatabase)
	r.written.forget(inst.UID)
	r.moduleReads.forget(inst.UID)
	r.moduleChecks.forget(inst.UID)
	return client.IgnoreNotFound(r.Patch(ctx, inst, patch))
}

// reportDeletion records why the deletion waits, as Degraded, with an event.
func (r *Reconciler) reportDeletion(ctx context.Context, s *scope, reason, message string) error {
	inst := s.instance
	meta.SetStatusCondition(&inst.Status.Conditions, metav1.Condition{
		Type: odoov1alpha2.ConditionDegraded, Status: metav1.ConditionTrue, Reason: reason, Message: message,
		ObservedGeneration: inst.Generation,
	})
	if equality.Semantic.DeepEqual(s.before.Status, inst.Status) {
		return nil
	}
	r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.EventReconcileFailed, "Delete", "%s", message)
	return client.IgnoreNotFound(operation.PatchStatus(ctx, r.Client, inst, s.before))
}
