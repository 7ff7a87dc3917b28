package filestoremigration

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestApply(t *testing.T) {
	g := NewWithT(t)
	now := metav1.Now()
	steady := odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-pvc", StorageClass: "slow"}

	copying := Apply(steady, Start, Inputs{TargetStorageClass: "fast", TargetClaim: "shop-filestore-1", JobName: "shop-fsmigrate-1"}, now)
	g.Expect(Copying(&copying)).To(BeTrue())
	g.Expect(copying.Migration.SourceClaim).To(Equal("shop-filestore-pvc"))
	g.Expect(copying.Migration.StartTime).To(Equal(&now))
	g.Expect(copying.Migration.Message).To(ContainSubstring(`copying claim shop-filestore-pvc (class "slow") to shop-filestore-1 (class "fast") with Job shop-fsmigrate-1`))
	g.Expect(steady.Migration).To(BeNil(), "the input is not modified")

	g.Expect(Apply(copying, RunCopy, Inputs{}, now)).To(Equal(copying), "a step that only acts stores nothing new")

	g.Expect(SwapMessage(copying)).To(ContainSubstring(`moved from claim shop-filestore-pvc (class "slow") to shop-filestore-1 (class "fast")`))
	swapped := Apply(copying, Swap, Inputs{}, now)
	g.Expect(swapped).To(Equal(odoov1alpha2.FilestoreStatus{ClaimName: "shop-filestore-1", StorageClass: "fast", PreviousClaim: "shop-filestore-pvc"}))
	g.Expect(Apply(swapped, Cleanup, Inputs{}, now).PreviousClaim).To(BeEmpty())

	failed := Apply(copying, Fail, Inputs{Why: "Job shop-fsmigrate-1 failed: BackoffLimitExceeded"}, now)
	g.Expect(failed.Migration.Phase).To(Equal(odoov1alpha2.FilestoreMigrationFailed))
	g.Expect(failed.ClaimName).To(Equal("shop-filestore-pvc"), "a failed copy keeps the claim in use")
	g.Expect(failed.Migration.Message).To(ContainSubstring("failed: Job shop-fsmigrate-1 failed: BackoffLimitExceeded (kubectl logs job/shop-fsmigrate-1); the instance keeps claim shop-filestore-pvc"))
	g.Expect(copying.Migration.Phase).To(Equal(odoov1alpha2.FilestoreMigrationCopying), "the input is not modified")
	g.Expect(Apply(failed, Forget, Inputs{}, now).Migration).To(BeNil())
}
