package filestoremigration

import (
	"testing"

	. "github.com/onsi/gomega"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
)

func TestDecide(t *testing.T) {
	copying := odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-pvc", StorageClass: "slow", Migration: &odoov1alpha2.FilestoreMigration{
		Phase: odoov1alpha2.FilestoreMigrationCopying, TargetStorageClass: "fast", TargetClaim: "shop-filestore-1", JobName: "shop-fsmigrate-1"}}
	failed := odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-pvc", StorageClass: "slow", Migration: &odoov1alpha2.FilestoreMigration{
		Phase: odoov1alpha2.FilestoreMigrationFailed, TargetStorageClass: "fast", TargetClaim: "shop-filestore-1", JobName: "shop-fsmigrate-1"}}
	steady := odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-pvc", StorageClass: "slow"}
	swapped := odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-1", StorageClass: "fast", PreviousClaim: "shop-filestore-pvc"}

	tests := []struct {
		name   string
		status odoov1alpha2.FilestoreStatus
		obs    Facts
		want   Action
	}{
		{"same class", steady, Facts{SpecClass: "slow", CurrentClass: "slow", Initialized: true}, None},
		{"no class asked: the default is never migrated to", steady, Facts{SpecClass: "", CurrentClass: "slow", Initialized: true}, None},
		{"class changed", steady, Facts{SpecClass: "fast", CurrentClass: "slow", Initialized: true}, Start},
		{"class changed before the database is initialised", steady, Facts{SpecClass: "fast", CurrentClass: "slow"}, None},
		{"copying, tiers still running", copying, Facts{SpecClass: "fast", CurrentClass: "slow", Initialized: true}, WaitTiers},
		{"copying, tiers stopped, no target", copying, Facts{SpecClass: "fast", CurrentClass: "slow", TiersStopped: true}, CreateTarget},
		{"copying, target exists, no Job", copying, Facts{TiersStopped: true, TargetExists: true}, RunCopy},
		{"copying, Job runs", copying, Facts{TiersStopped: true, TargetExists: true, Job: datajob.Running}, WaitCopy},
		{"copying, Job succeeded", copying, Facts{TiersStopped: true, TargetExists: true, Job: datajob.Succeeded}, Swap},
		{"copying, Job failed", copying, Facts{TiersStopped: true, TargetExists: true, Job: datajob.Failed}, Fail},
		{"copying, Job succeeded but the target vanished", copying, Facts{TiersStopped: true, Job: datajob.Succeeded}, Fail},
		{"copying, Job failed and target vanished", copying, Facts{TiersStopped: true, Job: datajob.Failed}, Fail},
		{"copying continues even if the spec moved on", copying, Facts{SpecClass: "other", TiersStopped: true, TargetExists: true, Job: datajob.Running}, WaitCopy},
		{"failed, target still there", failed, Facts{SpecClass: "fast", CurrentClass: "slow", TargetExists: true, Initialized: true}, DropTarget},
		{"failed, not retried for the same class", failed, Facts{SpecClass: "fast", CurrentClass: "slow", Initialized: true}, None},
		{"failed, another class asked", failed, Facts{SpecClass: "faster", CurrentClass: "slow", Initialized: true}, Start},
		{"failed, back to the class in use", failed, Facts{SpecClass: "slow", CurrentClass: "slow", Initialized: true}, Forget},
		{"failed, class cleared", failed, Facts{SpecClass: "", CurrentClass: "slow", Initialized: true}, Forget},
		{"swapped, not Ready yet", swapped, Facts{SpecClass: "fast", CurrentClass: "fast", PreviousExists: true}, None},
		{"swapped, Ready on the new claim", swapped, Facts{SpecClass: "fast", CurrentClass: "fast", PreviousExists: true, ReadyOnClaim: true}, Cleanup},
		{"swapped, previous claim already gone", swapped, Facts{SpecClass: "fast", CurrentClass: "fast"}, Cleanup},
		{"swapped, next migration waits for the cleanup", swapped, Facts{SpecClass: "slow", CurrentClass: "fast", PreviousExists: true, Initialized: true}, None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(Decide(tt.status, tt.obs)).To(Equal(tt.want))
		})
	}
}
