package admission

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// validateProductionRef refuses a spec.productionInstanceRef in another
// namespace or naming the instance itself: a staging copy reads production
// through a backup of the staging's own namespace, and an instance refreshed
// from itself would be swapped onto its own database. (environment Staging is
// the CRD's CEL rule.)
func validateProductionRef(inst *odoov1alpha2.OdooInstance) field.ErrorList {
	ref := inst.Spec.ProductionInstanceRef
	if ref == nil {
		return nil
	}
	var errs field.ErrorList
	if ref.Namespace != "" && ref.Namespace != inst.Namespace {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "productionInstanceRef", "namespace"),
			"a staging instance is copied only from a production instance of its own namespace: leave namespace empty or set it to "+inst.Namespace))
	}
	if ref.Name == inst.Name && (ref.Namespace == "" || ref.Namespace == inst.Namespace) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "productionInstanceRef", "name"), ref.Name,
			"names this instance itself: name the production instance it is copied from"))
	}
	return errs
}
