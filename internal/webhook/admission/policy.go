package admission

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/tenantpolicy"
)

// +kubebuilder:rbac:groups=bemade.org,resources=odootenantpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// validatePolicy refuses what the OdooTenantPolicies selecting the
// instance's namespace do not allow. On update (old not nil) only new
// violations are refused: a value the instance already had when the
// administrator tightened a policy does not block unrelated edits (the
// operator's own finalizer removal among them); the reconcile reports it.
func (v *OdooInstanceValidator) validatePolicy(ctx context.Context, old, inst *odoov1alpha2.OdooInstance, clusters postgres.Clusters) (field.ErrorList, error) {
	allowed, err := v.allowed(ctx, inst.Namespace)
	if err != nil || !allowed.Restricted() {
		return nil, err
	}
	errs := allowed.Check(inst, resolveCluster(inst.Spec.Database.Cluster, clusters, v.DefaultClusterAlias))
	if old == nil || len(errs) == 0 {
		return errs, nil
	}
	before := allowed.Check(old, resolveCluster(old.Spec.Database.Cluster, clusters, v.DefaultClusterAlias))
	var fresh field.ErrorList
	for _, e := range errs {
		had := false
		for _, b := range before {
			had = had || (b.Field == e.Field && b.BadValue == e.BadValue)
		}
		if !had {
			fresh = append(fresh, e)
		}
	}
	return fresh, nil
}

// allowed reads the namespace and the policies from the manager's cache.
func (v *OdooInstanceValidator) allowed(ctx context.Context, namespace string) (tenantpolicy.Allowed, error) {
	allowed, _, err := tenantpolicy.Read(ctx, v.Reader, namespace)
	if err != nil {
		return tenantpolicy.Allowed{}, apierrors.NewInternalError(err)
	}
	return allowed, nil
}

// resolveCluster is the name of the cluster spec.database.cluster means:
// "" and the legacy alias mean the default entry of the clusters Secret, or
// the alias itself when there is no clusters Secret.
func resolveCluster(name string, clusters postgres.Clusters, alias string) string {
	if clusters == nil {
		// The legacy --db-host connection goes by the alias.
		if name == "" {
			return alias
		}
		return name
	}
	if _, ok := clusters[name]; ok {
		return name
	}
	if name == "" || name == alias {
		if c, err := clusters.Resolve(""); err == nil {
			return c.Name
		}
	}
	return name
}
