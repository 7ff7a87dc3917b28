package resources

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestRestorePointBackup(t *testing.T) {
	start := metav1.Unix(1764000000, 0)
	st := &odoov1alpha2.UpgradeStatus{ImageAttempted: "odoo:18.1", CronImageAttempted: "odoo:18.1", Trigger: "Image", StartTime: &start}
	s3 := &odoov1alpha2.BackupDestination{S3Location: odoov1alpha2.S3Location{Bucket: "b", ObjectKey: "odoo/shop", Endpoint: "https://s3",
		S3CredentialsSecretRef: &odoov1alpha2.S3CredentialsSecretRef{Name: "s3"}}}
	for _, tc := range []struct {
		name      string
		dest      *odoov1alpha2.BackupDestination
		wantClaim string
		wantPath  string // pvc.path, or the S3 objectKey
	}{
		{"no destination: the restore point claim", nil, "shop-restore-points", "NAME.dump"},
		{"a claim: under its path", &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop"}}, "backups", "shop/NAME.dump"},
		{"a claim without a path: at its root", &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}}, "backups", "NAME.dump"},
		{"S3: objectKey is a prefix", s3, "", "odoo/shop/NAME.dump"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.Backup.Destination = tc.dest })
			name := RestorePointBackupName(inst, st)
			g.Expect(name).To(MatchRegexp(`^shop-pre-upgrade-[0-9a-f]{8}$`))
			next := st.DeepCopy()
			next.RestorePointBackup = name
			b := RestorePointBackup(inst, next)
			g.Expect(b.Name).To(Equal(name))
			g.Expect(b.Namespace).To(Equal(testNamespace))
			g.Expect(b.Spec.OdooInstanceRef.Name).To(Equal("shop"))
			g.Expect(b.Spec.Format).To(Equal(odoov1alpha2.BackupFormatDump), "dump: the fastest to restore")
			g.Expect(*b.Spec.WithFilestore).To(BeFalse(), "an upgrade does not rewrite the filestore")
			g.Expect(b.Labels).To(HaveKeyWithValue(LabelRestorePoint, "true"))
			g.Expect(b.Labels).NotTo(HaveKey("bemade.org/scheduled-backup"), "not a scheduled backup: retention ignores it")
			g.Expect(b.OwnerReferences).To(ConsistOf(And(HaveField("Kind", "OdooInstance"), HaveField("UID", testUID))))
			want := strings.ReplaceAll(tc.wantPath, "NAME", name)
			if tc.wantClaim != "" {
				g.Expect(b.Spec.Destination.PVC.ClaimName).To(Equal(tc.wantClaim))
				g.Expect(b.Spec.Destination.PVC.Path).To(Equal(want))
				g.Expect(BackupLocationOf(b, true).URL).To(Equal("file:///backup-store/" + want))
			} else {
				g.Expect(b.Spec.Destination.ObjectKey).To(Equal(want))
				g.Expect(b.Spec.Destination.S3CredentialsSecretRef.Name).To(Equal("s3"))
				g.Expect(BackupLocationOf(b, true).URL).To(Equal("s3://b/" + want))
			}
			if tc.dest != nil {
				g.Expect(inst.Spec.Backup.Destination).To(Equal(tc.dest), "the instance's destination is not modified")
			}
		})
	}
	long := newInstance(func(i *odoov1alpha2.OdooInstance) { i.Name = strings.Repeat("a", 63) })
	NewWithT(t).Expect(len(RestorePointBackupName(long, st))+len("-backup")).To(BeNumerically("<=", 63), "its Job's name fits")
}

// TestUpgradeRestoreJob: the restore of a restore point is `data
// restore-backup` from where the backup was stored, the claim read-only,
// into the target database only.
func TestUpgradeRestoreJob(t *testing.T) {
	g := NewWithT(t)
	inst := newInstance()
	st := &odoov1alpha2.UpgradeStatus{ImageAttempted: "odoo:18.1", Trigger: "Image"}
	b := &odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: "shop-pre-upgrade-1"}, Spec: odoov1alpha2.OdooBackupJobSpec{
		Format: odoov1alpha2.BackupFormatDump, Destination: odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "shop-restore-points"}}}}
	job := UpgradeRestoreJob(DataJobInputs{Instance: inst, Database: "shop_restore_x"}, st, BackupLocationOf(b, true))
	g.Expect(*job.Name).To(Equal(RestoreJobName(inst, st)))
	g.Expect(job.Labels).To(HaveKeyWithValue(JobKindLabel, JobKindRestore))
	g.Expect(*job.OwnerReferences[0].Kind).To(Equal("OdooInstance"))
	c := job.Spec.Template.Spec.Containers[0]
	g.Expect(c.Command[1:]).To(Equal([]string{"data", "restore-backup", "--from", "file:///backup-store/shop-pre-upgrade-1.dump",
		"--database", "shop_restore_x", "--skip-filestore"}))
	g.Expect(c.VolumeMounts).To(ContainElement(And(HaveField("Name", ptr.To("backup-store")), HaveField("ReadOnly", ptr.To(true)))))
	for _, v := range job.Spec.Template.Spec.Volumes {
		g.Expect(*v.Name).NotTo(Equal("filestore"), "the filestore is not touched")
	}
}
