package conversion

import (
	"k8s.io/apimachinery/pkg/runtime"
	crconversion "sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// NewOdooStagingRefreshJobConverter builds the converter of
// OdooStagingRefreshJob, whose v1alpha1 (the legacy operator's version) and
// v1alpha2 schemas are identical (TestStagingRefreshJobSchemasIdentical):
// the converter does what conversion strategy None does.
func NewOdooStagingRefreshJobConverter() func(*runtime.Scheme) (crconversion.Converter, error) {
	return jobConverter(&odoov1alpha2.OdooStagingRefreshJob{}, &odoov1alpha1.OdooStagingRefreshJob{}, stagingJobHubToV1alpha1, stagingJobV1alpha1ToHub)
}

var (
	stagingJobV1alpha1ToHub = sameSchema[*odoov1alpha1.OdooStagingRefreshJob, *odoov1alpha2.OdooStagingRefreshJob]("from v1alpha1")
	stagingJobHubToV1alpha1 = sameSchema[*odoov1alpha2.OdooStagingRefreshJob, *odoov1alpha1.OdooStagingRefreshJob]("to v1alpha1")
)
