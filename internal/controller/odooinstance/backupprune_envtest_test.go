package odooinstance_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/controller/odooinstance"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

func writeFiles(g Gomega, dir string, names ...string) {
	g.Expect(os.MkdirAll(dir, 0o750)).To(Succeed())
	for _, n := range names {
		g.Expect(os.WriteFile(filepath.Join(dir, n), []byte("backup data of "+n), 0o600)).To(Succeed())
	}
}

// TestRetentionPrunesStoredFiles: the retention marks the scheduled backups
// beyond it (annotation first), each gets one Job <name>-prune running
// `data delete-backup` on the claim; played by the real code, the files go,
// then the OdooBackupJob. The kept backups' files, the newest good one's
// included, and other files of the claim stay. The instance's
// BackupSucceeded condition follows the newest finished backup.
func TestRetentionPrunesStoredFiles(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: oldImage, AdminPassword: "pw"},
	}
	converge(t, g, ns, inst)
	createBackupsClaim(g, ns)
	g.Expect(meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionBackupSucceeded)).To(BeNil(), "no backup ever ran")

	root := t.TempDir()
	claimDir := filepath.Join(root, "backup-store", "shop")
	today := time.Now().UTC().Truncate(24 * time.Hour).Add(3 * time.Hour)
	if today.After(time.Now()) {
		today = today.Add(-24 * time.Hour)
	}
	name := func(day int) string {
		return "shop-" + today.Add(-time.Duration(day)*24*time.Hour).Format("200601021504")
	}
	// Four nightly backups of the past four days, with their files.
	for day := 1; day <= 4; day++ {
		at := today.Add(-time.Duration(day) * 24 * time.Hour)
		createFinishedBackup(g, &odoov1alpha2.OdooBackupJob{
			ObjectMeta: metav1.ObjectMeta{
				Name: name(day), Namespace: ns,
				Labels:      map[string]string{odooinstance.LabelScheduledBackup: "true", "app.kubernetes.io/instance": "shop"},
				Annotations: map[string]string{"bemade.org/scheduled-time": at.Format(time.RFC3339)},
			},
			Spec: odoov1alpha2.OdooBackupJobSpec{OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"}, Format: odoov1alpha2.BackupFormatDump,
				Destination: odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop/" + name(day) + ".dump"}}},
		}, odoov1alpha2.JobCompleted, "")
		n := name(day) + ".dump"
		writeFiles(g, claimDir, n, n+".sha256", n+".filestore.tar", n+".filestore.tar.sha256")
	}
	writeFiles(g, claimDir, "README")
	g.Eventually(func(g Gomega) {
		get(g, ns, "shop", inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionBackupSucceeded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonBackupCompleted))
	}, eventually, poll).Should(Succeed())

	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Backup.Schedule = "0 3 * * *"
	inst.Spec.Backup.Format = odoov1alpha2.BackupFormatDump
	inst.Spec.Backup.Destination = &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop"}}
	inst.Spec.Backup.Retention = &odoov1alpha2.BackupRetention{Daily: ptr.To[int32](2), Weekly: ptr.To[int32](0), Monthly: ptr.To[int32](0)}
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())

	// Today's backup is taken into a file of its own; days 3 and 4 are
	// marked, and each gets one prune Job, recorded in its status first.
	g.Eventually(func(g Gomega) {
		g.Expect(backupJob(g, ns, "shop-"+today.Format("200601021504")).Spec.Destination.PVC.Path).
			To(Equal("shop/shop-" + today.Format("200601021504") + ".dump"))
		g.Expect(jobsOfKind(g, ns, resources.JobKindPrune)).To(HaveLen(2))
	}, eventually, poll).Should(Succeed())
	for _, day := range []int{1, 2} {
		g.Expect(backupJob(g, ns, name(day)).Annotations).NotTo(HaveKey(odoov1alpha2.AnnotationPrune), "day %d is kept", day)
	}
	for _, day := range []int{3, 4} {
		b := backupJob(g, ns, name(day))
		g.Expect(b.Annotations).To(HaveKeyWithValue(odoov1alpha2.AnnotationPrune, odoov1alpha2.PruneRetention))
		g.Expect(b.Status.Prune).NotTo(BeNil())
		g.Expect(b.Status.Prune.JobName).To(Equal(name(day) + "-prune"))
		g.Expect(b.Status.Prune.Phase).To(Equal(odoov1alpha2.JobRunning))
		job := &batchv1.Job{}
		get(g, ns, name(day)+"-prune", job)
		g.Expect(job.OwnerReferences).To(ConsistOf(HaveField("Name", name(day))))
		c := job.Spec.Template.Spec.Containers[0]
		g.Expect(c.Command[1:]).To(Equal([]string{"data", "delete-backup", "--from", "file:///backup-store/shop/" + name(day) + ".dump"}))
		for _, e := range c.Env {
			g.Expect(e.Name).NotTo(HavePrefix("PG"), "a prune Job needs no database")
		}
		g.Expect(playDataJob(t, g, job, root)).To(Succeed())
	}
	g.Eventually(func(g Gomega) {
		backupGone(g, ns, name(3))
		backupGone(g, ns, name(4))
	}, eventually, poll).Should(Succeed())

	var left []string
	entries, err := os.ReadDir(claimDir)
	g.Expect(err).NotTo(HaveOccurred())
	for _, e := range entries {
		left = append(left, e.Name())
	}
	var want []string
	for _, day := range []int{2, 1} {
		n := name(day) + ".dump"
		want = append(want, n, n+".filestore.tar", n+".filestore.tar.sha256", n+".sha256")
	}
	g.Expect(left).To(ConsistOf(append(want, "README")), "only the pruned backups' files are gone")
	g.Expect(eventReasons(g, ns)).To(HaveKeyWithValue(odoov1alpha2.EventBackupPruned,
		MatchRegexp(`^Normal: backup shop-\d+ pruned \(bemade.org/prune: retention\): deleted (shop-\d+\.dump[.a-z0-9]*(, )?){4} from file:///backup-store/shop/shop-\d+\.dump; OdooBackupJob deleted$`)))

	// A failed backup after them: the condition turns False with its
	// message, and a Warning event tells of it.
	createFinishedBackup(g, &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{Name: "manual", Namespace: ns},
		Spec: odoov1alpha2.OdooBackupJobSpec{OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"}, WithFilestore: ptr.To(false),
			Destination: odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "manual.zip"}}},
	}, odoov1alpha2.JobFailed, "the backup Job manual-backup failed (BackoffLimitExceeded, exit code 1): disk full")
	g.Eventually(func(g Gomega) {
		get(g, ns, "shop", inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionBackupSucceeded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonBackupFailed))
		g.Expect(c.Message).To(And(HavePrefix("backup manual failed at "), ContainSubstring("disk full")))
		g.Expect(eventReasons(g, ns)).To(HaveKeyWithValue(odoov1alpha2.EventBackupFailed, And(HavePrefix("Warning: "), ContainSubstring("disk full"))))
	}, eventually, poll).Should(Succeed())
	g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionReady)).To(BeTrue(), "a failed backup does not make the instance unready")

	// Deleting an OdooBackupJob by hand leaves its files.
	writeFiles(g, filepath.Join(root, "backup-store"), "manual.zip", "manual.zip.sha256")
	g.Expect(k8s.Delete(ctx, backupJob(g, ns, "manual"))).To(Succeed())
	g.Eventually(func(g Gomega) { backupGone(g, ns, "manual") }, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(jobsOfKind(g, ns, resources.JobKindPrune)).To(HaveLen(2), "no prune Job for a backup deleted by hand")
	}, "1s", poll).Should(Succeed())
	g.Expect(filepath.Join(root, "backup-store", "manual.zip")).To(BeAnExistingFile())
}
