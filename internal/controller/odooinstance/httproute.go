package odooinstance

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes,verbs=get;list;watch;create;patch;delete

var httpRouteKind = schema.GroupKind{Group: gatewayv1.GroupName, Kind: "HTTPRoute"}

// gatewayAPIInstalled reports whether the cluster serves HTTPRoute v1. The
// Gateway API is optional: without it the controller neither watches nor
// creates routes, and an instance that asks for one says so in its status.
func gatewayAPIInstalled(mapper meta.RESTMapper) bool {
	_, err := mapper.RESTMapping(httpRouteKind, gatewayv1.GroupVersion.Version)
	return err == nil
}

// reconcileHTTPRoute applies the HTTPRoute of spec.ingress.gatewayRef, or
// deletes the one the instance owns when gatewayRef was removed. A cluster
// without the Gateway API makes the instance Degraded (reason
// GatewayAPIMissing) instead of failing the reconcile: everything else keeps
// being reconciled, and the route is created on a later reconcile once the
// CRDs are installed (restart the operator to watch routes for drift).
func (r *Reconciler) reconcileHTTPRoute(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	desired := resources.HTTPRoute(inst)
	current := &gatewayv1.HTTPRoute{}
	err := r.getOptional(ctx, inst, resources.WebName(inst), current)
	if isNoKind(err) {
		if desired != nil {
			s.degraded = append(s.degraded, problem{odoov1alpha2.ReasonGatewayAPIMissing, fmt.Sprintf(
				"spec.ingress.gatewayRef: the cluster has no Gateway API (HTTPRoute %s); install the Gateway API CRDs, or remove gatewayRef to publish the instance with an Ingress",
				gatewayv1.GroupVersion)})
			return ctrl.Result{RequeueAfter: stalledRetry}, nil
		}
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	if desired == nil {
		if current.UID == "" || !ownedBy(current, inst) {
			return ctrl.Result{}, nil
		}
		r.Applier.Forget("HTTPRoute", client.ObjectKeyFromObject(current))
		return ctrl.Result{}, wrap("deleting HTTPRoute", client.IgnoreNotFound(r.Delete(ctx, current)))
	}
	_, err = r.Applier.Apply(ctx, "HTTPRoute", desired, nilIfAbsent(current), nil)
	if isNoKind(err) {
		// Removed between the read and the apply: the next reconcile reports it.
		return ctrl.Result{RequeueAfter: requeueShort}, nil
	}
	return ctrl.Result{}, wrap("HTTPRoute", err)
}

// isNoKind is true when the API server has no such kind: a missing CRD.
func isNoKind(err error) bool {
	if err == nil {
		return false
	}
	var discovery *meta.NoResourceMatchError
	return meta.IsNoMatchError(err) || errors.As(err, &discovery)
}
