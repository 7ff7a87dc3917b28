package conversion

import (
	"k8s.io/apimachinery/pkg/runtime"
	crconversion "sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// NewOdooInitJobConverter builds the converter of OdooInitJob. Its v1alpha1 and
// v1alpha2 schemas are identical (TestInitJobSchemasIdentical), so conversion
// strategy None suffices; the converter makes strategy Webhook work too, for a
// CRD whose spec.conversion points at this webhook, and does what None does:
// the same JSON under the other apiVersion.
func NewOdooInitJobConverter() func(*runtime.Scheme) (crconversion.Converter, error) {
	return jobConverter(&odoov1alpha2.OdooInitJob{}, &odoov1alpha1.OdooInitJob{}, initJobHubToV1alpha1, initJobV1alpha1ToHub)
}

var (
	initJobV1alpha1ToHub = sameSchema[*odoov1alpha1.OdooInitJob, *odoov1alpha2.OdooInitJob]("from v1alpha1")
	initJobHubToV1alpha1 = sameSchema[*odoov1alpha2.OdooInitJob, *odoov1alpha1.OdooInitJob]("to v1alpha1")
)
