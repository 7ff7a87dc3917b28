package odooinstance

import (
	"context"
	"fmt"

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
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// reconcileDelete carries out spec.deletionPolicy before the instance goes:
// Retain (the default) keeps database and role and says so; Delete stops web
// and cron, drops the database, then the role. A failure keeps the finalizer
// and is reported; nothing is dropped by default.
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
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseRetained, "Delete",
			"deletionPolicy Retain: database %q and role %q are kept on cluster %q", dbName, role, cluster)
		return ctrl.Result{}, r.removeFinalizer(ctx, inst)
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

	actions, err := r.Databases.Drop(ctx, s.cluster, role, dbName)
	if err != nil {
		p := databaseProblem(s.cluster, err)
		return ctrl.Result{}, kerrors.NewAggregate([]error{err, r.reportDeletion(ctx, s, odoov1alpha2.ReasonDeletionFailed,
			fmt.Sprintf("dropping database %q and role %q failed, the instance is kept until it succeeds: %s", dbName, role, p.message))})
	}
	for _, a := range actions {
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseDropped, "Delete",
			"deletionPolicy Delete: %s on cluster %q", a.String(), s.cluster.Name)
	}
	return ctrl.Result{}, r.removeFinalizer(ctx, inst)
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
	return client.IgnoreNotFound(r.Status().Patch(ctx, inst, client.MergeFrom(s.before)))
}
