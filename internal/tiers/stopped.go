// Package tiers holds what the controllers need to know about an instance's
// web and cron tiers beyond their own reconcile.
package tiers

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// Stopped is true when the Deployments (nil ones are absent) are at 0
// replicas as observed by their controller, and no pod of the components is
// left. Pods are read with pods, which should be the API server: they are not
// cached, and a terminating pod still writes to the database.
func Stopped(ctx context.Context, pods client.Reader, inst *odoov1alpha2.OdooInstance, deployments []*appsv1.Deployment, components ...string) (bool, error) {
	for _, d := range deployments {
		if d == nil {
			continue
		}
		if ptr.Deref(d.Spec.Replicas, 1) != 0 || d.Status.ObservedGeneration != d.Generation || d.Status.Replicas != 0 {
			return false, nil
		}
	}
	req, err := labels.NewRequirement(resources.ComponentLabel, selection.In, components)
	if err != nil {
		return false, err
	}
	list := &corev1.PodList{}
	sel := labels.SelectorFromSet(labels.Set{resources.InstanceLabel: inst.Name}).Add(*req)
	if err := pods.List(ctx, list, client.InNamespace(inst.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return false, err
	}
	return len(list.Items) == 0, nil
}
