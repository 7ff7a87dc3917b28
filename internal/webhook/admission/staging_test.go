package admission

import (
	"strings"
	"testing"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestValidateProductionRef(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ref       *odoov1alpha2.ProductionInstanceRef
		wantField string
	}{
		{"no reference", nil, ""},
		{"same namespace implied", &odoov1alpha2.ProductionInstanceRef{Name: "shop"}, ""},
		{"same namespace named", &odoov1alpha2.ProductionInstanceRef{Name: "shop", Namespace: "tenant"}, ""},
		{"another namespace", &odoov1alpha2.ProductionInstanceRef{Name: "shop", Namespace: "victim"}, "spec.productionInstanceRef.namespace"},
		{"itself", &odoov1alpha2.ProductionInstanceRef{Name: "shop-staging"}, "spec.productionInstanceRef.name"},
		{"itself, namespace named", &odoov1alpha2.ProductionInstanceRef{Name: "shop-staging", Namespace: "tenant"}, "spec.productionInstanceRef.name"},
	} {
		inst := &odoov1alpha2.OdooInstance{}
		inst.Name, inst.Namespace = "shop-staging", "tenant"
		inst.Spec.Environment = odoov1alpha2.EnvironmentStaging
		inst.Spec.ProductionInstanceRef = tc.ref
		errs := validateProductionRef(inst)
		switch {
		case tc.wantField == "" && len(errs) > 0:
			t.Errorf("%s: %v", tc.name, errs)
		case tc.wantField != "" && (len(errs) != 1 || errs[0].Field != tc.wantField || !strings.Contains(errs[0].Error(), "production")):
			t.Errorf("%s: %v, want one error on %s", tc.name, errs, tc.wantField)
		}
	}
}
