package resources

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestDataJobLabel: every Job of the operator binary's `data` subcommand
// carries DataJobLabel on itself and its pods, whatever its kind, and no
// Job of the Odoo image does (the sandbox's Job player runs exactly the
// labelled pods with the host's operator binary).
func TestDataJobLabel(t *testing.T) {
	inst := newInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.Image = "odoo:18.0" })
	data := DataJobInputs{Instance: inst, OperatorImage: "operator:1", ClientImage: "postgres:15", Host: "db", Port: 5432, Database: "prod_shop"}
	backup := &odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: inst.Namespace, UID: "u1"}}
	restore := &odoov1alpha2.OdooRestoreJob{ObjectMeta: metav1.ObjectMeta{Name: "monday", Namespace: inst.Namespace, UID: "u2"}}
	pvc := &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop.zip"}
	upgrade := &odoov1alpha2.UpgradeStatus{JobName: "shop-upgrade-1", ImageAttempted: "odoo:18.1", RestorePointBackup: "shop-pre-upgrade-1"}

	dataJobs := map[string]*batchv1.Job{
		"backup":  convert[batchv1.Job](t, BackupJob(BackupJobInputs{Data: data, Backup: backup, Location: PVCBackupLocation(pvc, "shop.zip", false), FilestoreClaim: "shop-filestore-pvc"})),
		"restore": convert[batchv1.Job](t, RestoreBackupJob(RestoreBackupJobInputs{Data: data, Restore: restore, Location: PVCBackupLocation(pvc, "shop.zip", true)})),
		"filestore swap": convert[batchv1.Job](t, RestoreFilestoreJob(RestoreFilestoreJobInputs{Data: data, Restore: restore,
			Target: "prod_shop_restore_1", Kept: "prod_shop_pre_restore_1", FilestoreClaim: "shop-filestore-pvc"})),
		"prune":           convert[batchv1.Job](t, PruneJob(backup, PVCBackupLocation(pvc, "shop.zip", false), "operator:1", 0)),
		"upgrade restore": convert[batchv1.Job](t, UpgradeRestoreJob(data, upgrade, PVCBackupLocation(pvc, "shop.dump", true))),
	}
	for name, job := range dataJobs {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(job.Labels).To(HaveKeyWithValue(DataJobLabel, "true"))
			g.Expect(job.Spec.Template.Labels).To(HaveKeyWithValue(DataJobLabel, "true"))
			g.Expect(job.Spec.Template.Spec.Containers[0].Command[1]).To(Equal("data"))
			// Every data Job is bounded (the default: no deadline given).
			g.Expect(job.Spec.ActiveDeadlineSeconds).To(HaveValue(Equal(int64(DefaultDataJobDeadline.Seconds()))))
		})
	}
	data.Deadline = 90 * time.Minute
	g := NewWithT(t)
	g.Expect(convert[batchv1.Job](t, BackupJob(BackupJobInputs{Data: data, Backup: backup, Location: PVCBackupLocation(pvc, "shop.zip", false)})).Spec.ActiveDeadlineSeconds).
		To(HaveValue(Equal(int64(5400))), "the operator's --data-job-deadline")
	g.Expect(convert[batchv1.Job](t, PruneJob(backup, PVCBackupLocation(pvc, "shop.zip", false), "operator:1", time.Minute)).Spec.ActiveDeadlineSeconds).
		To(HaveValue(Equal(int64(60))))

	odooJobs := map[string]*batchv1.Job{
		"init": convert[batchv1.Job](t, InitJob(InitInputs{Instance: inst, Image: "odoo:18.0", Database: "prod_shop"})),
		"upgrade": convert[batchv1.Job](t, UpgradeJob(UpgradeInputs{Instance: inst, Database: "prod_shop",
			Upgrade: &odoov1alpha2.UpgradeStatus{JobName: "shop-upgrade-1", ImageAttempted: "odoo:18.1"}})),
		"filestore copy": convert[batchv1.Job](t, FilestoreCopyJob(CopyInputs{Instance: inst, Name: "shop-fsmigrate-1", Image: "odoo:18.0",
			Source: "shop-filestore-pvc", Target: "shop-filestore-1"})),
		"neutralize": convert[batchv1.Job](t, NeutralizeJob(NeutralizeInputs{Instance: inst, Restore: restore, Database: "prod_shop_restore_1"})),
	}
	for name, job := range odooJobs {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(job.Labels).NotTo(HaveKey(DataJobLabel))
			g.Expect(job.Spec.Template.Labels).NotTo(HaveKey(DataJobLabel))
		})
	}
}
