package odooinstance

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/tenantpolicy"
)

// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=bemade.org,resources=odootenantpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// NetworkOptions are the administrator's network settings (operator flags).
type NetworkOptions struct {
	// Disabled: the operator creates no NetworkPolicy, and removes those it
	// created (for clusters whose CNI or ingress setup they would break).
	Disabled bool
	// IngressNamespaces are the namespaces of the ingress controllers, whose
	// pods may reach the web pods.
	IngressNamespaces []string
}

// reconcilePolicy re-checks the instance against the OdooTenantPolicies of
// its namespace (an administrator may have tightened one after admission)
// and applies its NetworkPolicies.
func (r *Reconciler) reconcilePolicy(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	allowed, err := r.tenantPolicy(ctx, inst.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.setPolicyCondition(inst, allowed)
	return ctrl.Result{}, r.reconcileNetworkPolicies(ctx, s, allowed)
}

func (r *Reconciler) tenantPolicy(ctx context.Context, namespace string) (tenantpolicy.Allowed, error) {
	allowed, selectorErr, err := tenantpolicy.Read(ctx, r.Client, namespace)
	if err != nil {
		return tenantpolicy.Allowed{}, err
	}
	if selectorErr != nil {
		// The administrator's typo; the other policies apply.
		log.FromContext(ctx).Error(selectorErr, "ignoring an OdooTenantPolicy")
	}
	return allowed, nil
}

// setPolicyCondition reports, never enforces: the instance keeps running
// with what it was admitted with.
func (r *Reconciler) setPolicyCondition(inst *odoov1alpha2.OdooInstance, allowed tenantpolicy.Allowed) {
	if !allowed.Restricted() {
		meta.RemoveStatusCondition(&inst.Status.Conditions, odoov1alpha2.ConditionPolicyCompliant)
		return
	}
	cluster := inst.Spec.Database.Cluster
	if inst.Status.Database != nil && inst.Status.Database.Cluster != "" {
		cluster = inst.Status.Database.Cluster
	}
	cond := metav1.Condition{
		Type: odoov1alpha2.ConditionPolicyCompliant, Status: metav1.ConditionTrue,
		Reason: odoov1alpha2.ReasonPolicyAllowed, ObservedGeneration: inst.Generation,
		Message: "allowed by OdooTenantPolicy " + strings.Join(allowed.Policies, ", "),
	}
	if errs := allowed.Check(inst, cluster); len(errs) > 0 {
		cond.Status, cond.Reason = metav1.ConditionFalse, odoov1alpha2.ReasonPolicyViolation
		cond.Message = errs.ToAggregate().Error() + "; the instance keeps running: change the spec, or ask the administrator"
		if !meta.IsStatusConditionFalse(inst.Status.Conditions, odoov1alpha2.ConditionPolicyCompliant) {
			r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.EventPolicyViolation, "Policy", "%s", cond.Message)
		}
	}
	meta.SetStatusCondition(&inst.Status.Conditions, cond)
}

// reconcileNetworkPolicies applies the instance's two NetworkPolicies, or
// removes the ones it owns when the administrator turned them off.
func (r *Reconciler) reconcileNetworkPolicies(ctx context.Context, s *scope, allowed tenantpolicy.Allowed) error {
	inst := s.instance
	names := []string{resources.IsolationPolicyName(inst), resources.WebPolicyName(inst)}
	current := make([]*networkingv1.NetworkPolicy, len(names))
	for i, name := range names {
		current[i] = &networkingv1.NetworkPolicy{}
		if err := r.getOptional(ctx, inst, name, current[i]); err != nil {
			return err
		}
	}
	if r.Network.Disabled {
		for _, np := range current {
			if np.UID == "" || !ownedBy(np, inst) {
				continue
			}
			r.Applier.Forget("NetworkPolicy", client.ObjectKeyFromObject(np))
			if err := client.IgnoreNotFound(r.Delete(ctx, np)); err != nil {
				return wrap("deleting NetworkPolicy", err)
			}
		}
		return nil
	}
	if s.cluster.Host == "" {
		// The database phase did not say where PostgreSQL is: keep what
		// is applied rather than cut the pods off from it.
		return nil
	}
	in := resources.NetworkInputs{
		Instance: inst, IngressNamespaces: r.Network.IngressNamespaces,
		Egress: allowed.Egress, Destinations: allowed.EgressDestinations,
	}
	var svc *corev1.Service
	if ns, name, ok := resources.ServiceHost(s.cluster.Host); ok {
		svc = &corev1.Service{}
		if err := r.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, svc); err != nil {
			// Not found or not readable: only an egressDestination can open it.
			svc = nil
		}
	}
	in.Database = resources.DatabasePeerFor(s.cluster.Host, s.cluster.Port, svc)
	for i, desired := range []*networkingv1ac.NetworkPolicyApplyConfiguration{resources.IsolationNetworkPolicy(in), resources.WebNetworkPolicy(in)} {
		if _, err := r.Applier.Apply(ctx, "NetworkPolicy", desired, nilIfAbsent(current[i]), nil); err != nil {
			return wrap("NetworkPolicy "+names[i], err)
		}
	}
	return nil
}

// instancesForPolicy requeues every instance when a policy changes: its
// selector may now match other namespaces, so all are re-checked (a policy
// changes rarely).
func (r *Reconciler) instancesForPolicy(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &odoov1alpha2.OdooInstanceList{}
	if err := r.List(ctx, list); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, inst := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&inst)})
	}
	return reqs
}

// instancesInNamespace requeues a namespace's instances when it changes: a
// new label may bring it under another policy.
func (r *Reconciler) instancesInNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	list := &odoov1alpha2.OdooInstanceList{}
	if err := r.List(ctx, list, client.InNamespace(o.GetName())); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, inst := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&inst)})
	}
	return reqs
}
