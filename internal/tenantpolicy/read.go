package tenantpolicy

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Read reads the policies and, when there are any, the namespace's labels
// through r (the manager's cache), and returns what they allow together.
// The webhook and the controllers all start from it. selectorErr is a
// policy with a broken selector: it selects nothing and the others apply
// (a typo by the administrator must not open every namespace, nor block
// every one); callers only report it. err is a failed read, worth a retry.
func Read(ctx context.Context, r client.Reader, namespace string) (allowed Allowed, selectorErr, err error) {
	policies := &odoov1alpha2.OdooTenantPolicyList{}
	if err := r.List(ctx, policies); err != nil {
		return Allowed{}, nil, fmt.Errorf("listing OdooTenantPolicies: %w", err)
	}
	if len(policies.Items) == 0 {
		return Allowed{}, nil, nil
	}
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, types.NamespacedName{Name: namespace}, ns); err != nil {
		return Allowed{}, nil, fmt.Errorf("reading namespace %s: %w", namespace, err)
	}
	allowed, selectorErr = For(policies.Items, ns.Labels)
	return allowed, selectorErr, nil
}
