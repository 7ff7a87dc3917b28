package odooinstance_test

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// TestOldRestorePointsArePruned: of five finished upgrade restore points,
// the two oldest are marked for pruning (their files deleted by a prune
// Job, then the objects), the three newest stay untouched.
func TestOldRestorePointsArePruned(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := upgradeInstance(t, g, ns)
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		rp := resources.RestorePointBackup(inst, &odoov1alpha2.UpgradeStatus{RestorePointBackup: fmt.Sprintf("shop-pre-upgrade-%d", i)})
		g.Expect(k8s.Create(ctx, rp)).To(Succeed())
		// The backup controller may take the new object up first; once
		// Completed (terminal) it leaves it alone.
		g.Eventually(func(g Gomega) {
			got := backupJob(g, ns, rp.Name)
			if got.Status.Phase != odoov1alpha2.JobCompleted {
				now := metav1.Now()
				got.Status.Phase, got.Status.CompletionTime, got.Status.JobName = odoov1alpha2.JobCompleted, &now, rp.Name+"-backup"
				g.Expect(k8s.Status().Update(ctx, got)).To(Succeed())
			}
			g.Consistently(func(g Gomega) {
				g.Expect(backupJob(g, ns, rp.Name).Status.Phase).To(Equal(odoov1alpha2.JobCompleted))
			}, "300ms", "50ms").Should(Succeed())
		}, eventually, poll).Should(Succeed())
	}
	g.Eventually(func(g Gomega) {
		for i := 1; i <= 5; i++ {
			b := &odoov1alpha2.OdooBackupJob{}
			get(g, ns, fmt.Sprintf("shop-pre-upgrade-%d", i), b)
			if i <= 2 {
				g.Expect(b.Annotations).To(HaveKeyWithValue(odoov1alpha2.AnnotationPrune, odoov1alpha2.PruneRetention), b.Name)
			} else {
				g.Expect(b.Annotations).NotTo(HaveKey(odoov1alpha2.AnnotationPrune), b.Name)
			}
		}
		g.Expect(jobsOfKind(g, ns, resources.JobKindPrune)).To(HaveLen(2), "one prune Job per marked restore point")
	}, eventually, poll).Should(Succeed())
}
