package conversion

import (
	"k8s.io/apimachinery/pkg/runtime"
	crconversion "sigs.k8s.io/controller-runtime/pkg/webhook/conversion"

	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// NewOdooBackupJobConverter builds the converter of OdooBackupJob. Its
// v1alpha1 and v1alpha2 schemas are identical (TestBackupJobSchemasIdentical):
// the converter does what conversion strategy None does.
func NewOdooBackupJobConverter() func(*runtime.Scheme) (crconversion.Converter, error) {
	return jobConverter(&odoov1alpha2.OdooBackupJob{}, &odoov1alpha1.OdooBackupJob{}, backupJobHubToV1alpha1, backupJobV1alpha1ToHub)
}

// NewOdooRestoreJobConverter builds the converter of OdooRestoreJob, whose
// v1alpha1 and v1alpha2 schemas are identical too (TestRestoreJobSchemasIdentical).
func NewOdooRestoreJobConverter() func(*runtime.Scheme) (crconversion.Converter, error) {
	return jobConverter(&odoov1alpha2.OdooRestoreJob{}, &odoov1alpha1.OdooRestoreJob{}, restoreJobHubToV1alpha1, restoreJobV1alpha1ToHub)
}

var (
	backupJobV1alpha1ToHub  = sameSchema[*odoov1alpha1.OdooBackupJob, *odoov1alpha2.OdooBackupJob]("from v1alpha1")
	backupJobHubToV1alpha1  = sameSchema[*odoov1alpha2.OdooBackupJob, *odoov1alpha1.OdooBackupJob]("to v1alpha1")
	restoreJobV1alpha1ToHub = sameSchema[*odoov1alpha1.OdooRestoreJob, *odoov1alpha2.OdooRestoreJob]("from v1alpha1")
	restoreJobHubToV1alpha1 = sameSchema[*odoov1alpha2.OdooRestoreJob, *odoov1alpha1.OdooRestoreJob]("to v1alpha1")
)
