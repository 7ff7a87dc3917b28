package restorejob

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// KeepPreviousDatabase is spec.keepPreviousDatabase, true when unset: the
// operator never drops a database unless told to.
func KeepPreviousDatabase(rj *odoov1alpha2.OdooRestoreJob) bool {
	return rj.Spec.KeepPreviousDatabase == nil || *rj.Spec.KeepPreviousDatabase
}

// ReadyOnRestored says whether the instance serves the restored database,
// and if not what it waits for: the hold is gone, Ready is True for the
// instance's generation, and both Deployments run all their desired
// replicas of their current generation. Every pod was gone before the swap
// (the Stop step), so the available ones started on the restored database;
// a Ready condition left True from the held state does not count, since the
// Deployments then still ask for 0 replicas.
func ReadyOnRestored(inst *odoov1alpha2.OdooInstance, web, cron *appsv1.Deployment) (bool, string) {
	if h := operation.TiersHeld(inst); h != "" {
		return false, "web and cron are still held by the restore " + h
	}
	c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionReady)
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != inst.Generation {
		return false, "the instance is not Ready yet"
	}
	for _, d := range []struct {
		dep  *appsv1.Deployment
		want int32
	}{{web, inst.WebReplicas()}, {cron, inst.CronReplicas()}} {
		if d.dep == nil {
			if d.want > 0 {
				return false, "a Deployment of the instance is missing"
			}
			continue
		}
		s := d.dep.Status
		if ptr.Deref(d.dep.Spec.Replicas, 1) != d.want || s.ObservedGeneration != d.dep.Generation || s.AvailableReplicas < d.want || s.UpdatedReplicas < d.want {
			return false, fmt.Sprintf("Deployment %s: %d of %d pods available on the restored database", d.dep.Name, s.AvailableReplicas, d.want)
		}
	}
	return true, ""
}

// deployments reads the web and cron Deployments, nil when absent.
func (r *Reconciler) deployments(ctx context.Context, inst *odoov1alpha2.OdooInstance) (web, cron *appsv1.Deployment, err error) {
	read := func(name string) (*appsv1.Deployment, error) {
		d := &appsv1.Deployment{}
		err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: inst.Namespace, Name: name}, d)
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return d, err
	}
	if web, err = read(resources.WebName(inst)); err != nil {
		return nil, nil, err
	}
	cron, err = read(resources.CronName(inst))
	return web, cron, err
}
