package odooinstance

import (
	"testing"

	. "github.com/onsi/gomega"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestDecideFilestore(t *testing.T) {
	copying := odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-pvc", StorageClass: "slow", Migration: &odoov1alpha2.FilestoreMigration{
		Phase: odoov1alpha2.FilestoreMigrationCopying, TargetStorageClass: "fast", TargetClaim: "shop-filestore-1", JobName: "shop-fsmigrate-1"}}
	failed := odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-pvc", StorageClass: "slow", Migration: &odoov1alpha2.FilestoreMigration{
		Phase: odoov1alpha2.FilestoreMigrationFailed, TargetStorageClass: "fast", TargetClaim: "shop-filestore-1", JobName: "shop-fsmigrate-1"}}
	steady := odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-pvc", StorageClass: "slow"}
	swapped := odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-1", StorageClass: "fast", PreviousClaim: "shop-filestore-pvc"}

	tests := []struct {
		name   string
		status odoov1alpha2.FilestoreStatus
		obs    fsObserved
		want   fsAction
	}{
		{"same class", steady, fsObserved{specClass: "slow", currentClass: "slow", initialized: true}, fsNone},
		{"no class asked: the default is never migrated to", steady, fsObserved{specClass: "", currentClass: "slow", initialized: true}, fsNone},
		{"class changed", steady, fsObserved{specClass: "fast", currentClass: "slow", initialized: true}, fsStart},
		{"class changed before the database is initialised", steady, fsObserved{specClass: "fast", currentClass: "slow"}, fsNone},
		{"copying, tiers still running", copying, fsObserved{specClass: "fast", currentClass: "slow", initialized: true}, fsWaitTiers},
		{"copying, tiers stopped, no target", copying, fsObserved{specClass: "fast", currentClass: "slow", tiersStopped: true}, fsCreateTarget},
		{"copying, target exists, no Job", copying, fsObserved{tiersStopped: true, targetExists: true}, fsRunCopy},
		{"copying, Job runs", copying, fsObserved{tiersStopped: true, targetExists: true, job: jobRunning}, fsWaitCopy},
		{"copying, Job succeeded", copying, fsObserved{tiersStopped: true, targetExists: true, job: jobSucceeded}, fsSwap},
		{"copying, Job failed", copying, fsObserved{tiersStopped: true, targetExists: true, job: jobFailed}, fsFail},
		{"copying, Job succeeded but the target vanished", copying, fsObserved{tiersStopped: true, job: jobSucceeded}, fsFail},
		{"copying, Job failed and target vanished", copying, fsObserved{tiersStopped: true, job: jobFailed}, fsFail},
		{"copying continues even if the spec moved on", copying, fsObserved{specClass: "other", tiersStopped: true, targetExists: true, job: jobRunning}, fsWaitCopy},
		{"failed, target still there", failed, fsObserved{specClass: "fast", currentClass: "slow", targetExists: true, initialized: true}, fsDropTarget},
		{"failed, not retried for the same class", failed, fsObserved{specClass: "fast", currentClass: "slow", initialized: true}, fsNone},
		{"failed, another class asked", failed, fsObserved{specClass: "faster", currentClass: "slow", initialized: true}, fsStart},
		{"failed, back to the class in use", failed, fsObserved{specClass: "slow", currentClass: "slow", initialized: true}, fsForget},
		{"failed, class cleared", failed, fsObserved{specClass: "", currentClass: "slow", initialized: true}, fsForget},
		{"swapped, not Ready yet", swapped, fsObserved{specClass: "fast", currentClass: "fast", previousExists: true}, fsNone},
		{"swapped, Ready on the new claim", swapped, fsObserved{specClass: "fast", currentClass: "fast", previousExists: true, readyOnClaim: true}, fsCleanup},
		{"swapped, previous claim already gone", swapped, fsObserved{specClass: "fast", currentClass: "fast"}, fsCleanup},
		{"swapped, next migration waits for the cleanup", swapped, fsObserved{specClass: "slow", currentClass: "fast", previousExists: true, initialized: true}, fsNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			NewWithT(t).Expect(decideFilestore(tt.status, tt.obs)).To(Equal(tt.want))
		})
	}
}
