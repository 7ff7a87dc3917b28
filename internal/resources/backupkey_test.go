package resources

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func backupOf(name string, uid types.UID, format odoov1alpha2.BackupFormat, dest odoov1alpha2.BackupDestination) *odoov1alpha2.OdooBackupJob {
	return &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace, UID: uid},
		Spec:       odoov1alpha2.OdooBackupJobSpec{Format: format, Destination: dest},
	}
}

// TestBackupObjectKey: every backup is stored under its namespace, its
// instance's name and uid, and its own uid, whatever key the spec asks for.
func TestBackupObjectKey(t *testing.T) {
	s3 := odoov1alpha2.BackupDestination{S3Location: odoov1alpha2.S3Location{Bucket: "b", ObjectKey: "odoo/shop-202611250300.zip"}}
	claim := func(p string) odoov1alpha2.BackupDestination {
		return odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: p}}
	}
	inst := newInstance()
	tests := []struct {
		name string
		b    *odoov1alpha2.OdooBackupJob
		want string
	}{
		{"s3 prefix", backupOf("nightly", "b-1", odoov1alpha2.BackupFormatZip, s3),
			"odoo/prod/shop-" + string(testUID) + "/shop-202611250300-b-1.zip"},
		{"claim path", backupOf("nightly", "b-1", odoov1alpha2.BackupFormatZip, claim("shop/before.zip")),
			"shop/prod/shop-" + string(testUID) + "/before-b-1.zip"},
		{"claim path without extension", backupOf("nightly", "b-1", odoov1alpha2.BackupFormatDump, claim("shop")),
			"prod/shop-" + string(testUID) + "/shop-b-1.dump"},
		{"claim root", backupOf("nightly", "b-1", odoov1alpha2.BackupFormatDump, claim("")),
			"prod/shop-" + string(testUID) + "/nightly-b-1.dump"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			loc := NewBackupLocation(tt.b, inst)
			g.Expect(loc.Key).To(Equal(tt.want))
			// Recorded in status before the Job exists; read back from there.
			tt.b.Status.ObjectKey = loc.Key
			g.Expect(BackupLocationOf(tt.b, true).Key).To(Equal(tt.want))
			g.Expect(BackupLocationOf(tt.b, true).URL).To(Equal(loc.URL))
		})
	}

	g := NewWithT(t)
	// Same-named instances in two namespaces, same bucket and prefix.
	other := newInstance(func(i *odoov1alpha2.OdooInstance) { i.Namespace, i.UID = "rival", "other-uid" })
	b := backupOf("nightly", "b-1", odoov1alpha2.BackupFormatZip, s3)
	g.Expect(NewBackupLocation(b, inst).Key).NotTo(Equal(NewBackupLocation(backupOf("nightly", "b-2", odoov1alpha2.BackupFormatZip, s3), other).Key))
	// Two backups asking for the same key.
	g.Expect(NewBackupLocation(b, inst).Key).NotTo(Equal(NewBackupLocation(backupOf("again", "b-2", odoov1alpha2.BackupFormatZip, s3), inst).Key))
	// A backup made under the old layout is read where it was stored.
	old := backupOf("nightly", "b-1", odoov1alpha2.BackupFormatZip, s3)
	old.Status.ObjectKey = "odoo/shop-202611250300.zip"
	g.Expect(BackupLocationOf(old, true).URL).To(Equal("s3://b/odoo/shop-202611250300.zip"))

	// The Job names its run: the OdooBackupJob's uid.
	job := BackupJob(BackupJobInputs{Data: DataJobInputs{Instance: inst}, Backup: b, Location: NewBackupLocation(b, inst)})
	g.Expect(job.Spec.Template.Spec.Containers[0].Command).To(ContainElements("--run-id", "b-1", "--to", "s3://b/odoo/prod/shop-"+string(testUID)+"/shop-202611250300-b-1.zip"))
}
