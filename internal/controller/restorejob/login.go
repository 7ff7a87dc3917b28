package restorejob

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// tenantLogin is the instance's own PostgreSQL login, from the Secret the
// operator made for it: the restored database is owned by that role, loaded
// as that role by the Job, and read only as that role by the operator (a
// restored dump is tenant data: its views and functions are the tenant's).
// A Secret that is not the operator's for this instance is refused.
func (r *Reconciler) tenantLogin(ctx context.Context, inst *odoov1alpha2.OdooInstance) (postgres.TenantLogin, error) {
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: inst.Namespace, Name: resources.UserSecretName(inst)}, secret); err != nil {
		return postgres.TenantLogin{}, fmt.Errorf("the instance's database credentials: %w", err)
	}
	if why := resources.CheckUserSecret(inst, secret); why != "" {
		return postgres.TenantLogin{}, fmt.Errorf("the instance's database credentials: %s", why)
	}
	return postgres.TenantLogin{
		Role:     string(secret.Data[resources.UserSecretUsernameKey]),
		Password: string(secret.Data[resources.UserSecretPasswordKey]),
	}, nil
}
