package odooinstance_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/controller/odooinstance"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// TestScheduledBackupsAndRetention: the newest due schedule time gets one
// OdooBackupJob; completed scheduled backups beyond the retention are marked
// for pruning (TestRetentionPrunesStoredFiles follows a prune), the newest
// kept.
func TestScheduledBackupsAndRetention(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: oldImage, AdminPassword: "pw"},
	}
	converge(t, g, ns, inst)
	createBackupsClaim(g, ns)

	// Ten nightly backups of the past ten days, all completed.
	ctx := context.Background()
	today := time.Now().UTC().Truncate(24 * time.Hour).Add(3 * time.Hour)
	if today.After(time.Now()) {
		today = today.Add(-24 * time.Hour)
	}
	for day := 1; day <= 10; day++ {
		at := today.Add(-time.Duration(day) * 24 * time.Hour)
		job := &odoov1alpha2.OdooBackupJob{
			ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("shop-%s", at.Format("200601021504")), Namespace: ns,
				Labels:      map[string]string{odooinstance.LabelScheduledBackup: "true", "app.kubernetes.io/instance": "shop"},
				Annotations: map[string]string{"bemade.org/scheduled-time": at.Format(time.RFC3339)},
			},
			Spec: odoov1alpha2.OdooBackupJobSpec{OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
				Destination: odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}}},
		}
		g.Expect(k8s.Create(ctx, job)).To(Succeed())
		// The backup controller may take the new object up first; once
		// Completed (terminal) it leaves it alone.
		g.Eventually(func(g Gomega) {
			got := backupJob(g, ns, job.Name)
			if got.Status.Phase != odoov1alpha2.JobCompleted {
				now := metav1.Now()
				got.Status.Phase, got.Status.CompletionTime = odoov1alpha2.JobCompleted, &now
				g.Expect(k8s.Status().Update(ctx, got)).To(Succeed())
			}
			g.Consistently(func(g Gomega) {
				g.Expect(backupJob(g, ns, job.Name).Status.Phase).To(Equal(odoov1alpha2.JobCompleted))
			}, "300ms", "50ms").Should(Succeed())
		}, eventually, poll).Should(Succeed())
	}

	// An upgrade's restore point, completed before all of them: not a
	// scheduled backup, neither counted nor pruned by the retention.
	get(g, ns, "shop", inst)
	rp := resources.RestorePointBackup(inst, &odoov1alpha2.UpgradeStatus{RestorePointBackup: "shop-pre-upgrade-0a1b2c3d"})
	g.Expect(k8s.Create(ctx, rp)).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := backupJob(g, ns, rp.Name)
		now := metav1.NewTime(today.Add(-20 * 24 * time.Hour))
		got.Status.Phase, got.Status.CompletionTime = odoov1alpha2.JobCompleted, &now
		g.Expect(k8s.Status().Update(ctx, got)).To(Succeed())
	}, eventually, poll).Should(Succeed())

	get(g, ns, "shop", inst)
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Backup.Schedule = "0 3 * * *"
	inst.Spec.Backup.Destination = &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}}
	inst.Spec.Backup.Retention = &odoov1alpha2.BackupRetention{Daily: ptr.To[int32](3), Weekly: ptr.To[int32](0), Monthly: ptr.To[int32](0)}
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())

	want := []string{"shop-" + today.Format("200601021504"), rp.Name}
	for day := 1; day <= 3; day++ {
		want = append(want, "shop-"+today.Add(-time.Duration(day)*24*time.Hour).Format("200601021504"))
	}
	g.Eventually(func(g Gomega) {
		list := &odoov1alpha2.OdooBackupJobList{}
		g.Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		var names []string
		marked := 0
		for _, j := range list.Items {
			switch {
			case j.DeletionTimestamp != nil:
			case j.Annotations[odoov1alpha2.AnnotationPrune] == odoov1alpha2.PruneRetention:
				marked++
			default:
				names = append(names, j.Name)
			}
		}
		slices.Sort(names)
		slices.Sort(want)
		g.Expect(names).To(Equal(want), "today's backup is taken, the 3 newest completed kept, the restore point kept")
		g.Expect(marked+len(names)).To(Equal(len(list.Items)), "the 7 older are marked for pruning or gone")
	}, 30*time.Second, poll).Should(Succeed())
	created := backupJob(g, ns, "shop-"+today.Format("200601021504"))
	g.Expect(created.Spec.Destination.PVC.ClaimName).To(Equal("backups"))
	g.Expect(created.Spec.Format).To(Equal(odoov1alpha2.BackupFormatZip))
}

// TestBackupScheduleBelowTheFloorIsReported: a schedule stored before the
// webhook refused it (every minute, below the default one-hour floor) takes
// no backup; the instance says why, naming the field and the fix, in its
// Degraded condition and a Warning event.
func TestBackupScheduleBelowTheFloorIsReported(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: oldImage, AdminPassword: "pw"},
	}
	converge(t, g, ns, inst)
	get(g, ns, "shop", inst)
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Backup.Schedule = "* * * * *"
	inst.Spec.Backup.Destination = &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}}
	g.Expect(k8s.Patch(context.Background(), inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, "shop", inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDegraded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonBackupScheduleInvalid))
		g.Expect(c.Message).To(And(ContainSubstring("spec.backup.schedule"), ContainSubstring("--backup-min-interval"), ContainSubstring(`"0 3 * * *"`)))
		g.Expect(eventReasons(g, ns)).To(HaveKeyWithValue(odoov1alpha2.EventReconcileFailed, ContainSubstring("spec.backup.schedule")))
	}, eventually, poll).Should(Succeed())
	list := &odoov1alpha2.OdooBackupJobList{}
	g.Consistently(func(g Gomega) {
		g.Expect(k8s.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
		g.Expect(list.Items).To(BeEmpty(), "a refused schedule takes no backup")
	}, "2s", poll).Should(Succeed())
}
