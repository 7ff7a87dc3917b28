package conversion

import (
	"k8s.io/apimachinery/pkg/runtime"
	crconversion "sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// NewOdooUpgradeJobConverter builds the converter of OdooUpgradeJob. Its
// v1alpha1 and v1alpha2 schemas are identical (TestUpgradeJobSchemasIdentical),
// so conversion strategy None suffices; the converter makes strategy Webhook
// work too, for a CRD whose spec.conversion points at this webhook, and does
// what None does: the same JSON under the other apiVersion.
func NewOdooUpgradeJobConverter() func(*runtime.Scheme) (crconversion.Converter, error) {
	return jobConverter(&odoov1alpha2.OdooUpgradeJob{}, &odoov1alpha1.OdooUpgradeJob{}, upgradeJobHubToV1alpha1, upgradeJobV1alpha1ToHub)
}

var (
	upgradeJobV1alpha1ToHub = sameSchema[*odoov1alpha1.OdooUpgradeJob, *odoov1alpha2.OdooUpgradeJob]("from v1alpha1")
	upgradeJobHubToV1alpha1 = sameSchema[*odoov1alpha2.OdooUpgradeJob, *odoov1alpha1.OdooUpgradeJob]("to v1alpha1")
)
