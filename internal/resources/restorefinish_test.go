package resources

import (
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func testRestore() *odoov1alpha2.OdooRestoreJob {
	return &odoov1alpha2.OdooRestoreJob{ObjectMeta: metav1.ObjectMeta{Name: "back", Namespace: testNamespace, UID: "r-uid"}}
}

// TestNeutralizeJob: `odoo neutralize -d <target>` with the instance's
// image, odoo.conf from its Secret and its filestore claim, owned by the
// restore, never retried.
func TestNeutralizeJob(t *testing.T) {
	g := NewWithT(t)
	inst := newInstance(func(i *odoov1alpha2.OdooInstance) {
		i.Spec.ExtraEnv = []corev1.EnvVar{{Name: "TZ", Value: "UTC"}}
	})
	job := convert[batchv1.Job](t, NeutralizeJob(NeutralizeInputs{Instance: inst, Restore: testRestore(), Database: "prod_shop_restore_1"}))
	g.Expect(job.Name).To(Equal("back-neutralize"))
	g.Expect(job.Labels).To(HaveKeyWithValue(JobKindLabel, JobKindNeutralize))
	g.Expect(job.OwnerReferences).To(ConsistOf(And(HaveField("Kind", "OdooRestoreJob"), HaveField("Name", "back"))))
	g.Expect(*job.Spec.BackoffLimit).To(BeZero())
	g.Expect(job.Spec.ActiveDeadlineSeconds).NotTo(BeNil())
	c := job.Spec.Template.Spec.Containers[0]
	g.Expect(c.Image).To(Equal(testImage))
	g.Expect(c.Command).To(Equal([]string{"odoo", "neutralize", "-c", "/etc/odoo/odoo.conf"}))
	g.Expect(c.Args).To(Equal([]string{"-d", "prod_shop_restore_1"}))
	g.Expect(c.Env).To(ContainElement(corev1.EnvVar{Name: "TZ", Value: "UTC"}))
	g.Expect(c.VolumeMounts).To(ContainElement(HaveField("MountPath", ConfMountPath)))
	vols := job.Spec.Template.Spec.Volumes
	g.Expect(vols).To(ContainElement(HaveField("Secret.SecretName", ConfSecretName(inst))))
	g.Expect(vols).To(ContainElement(HaveField("PersistentVolumeClaim.ClaimName", FilestoreClaimName(inst))))
	g.Expect(job.Spec.Template.Spec.RestartPolicy).To(Equal(corev1.RestartPolicyNever))
}

// TestRestoreFilestoreJob: `data swap-filestore` on the filestore claim,
// mounted read-write, with the three names; credentials only by
// secretKeyRef.
func TestRestoreFilestoreJob(t *testing.T) {
	g := NewWithT(t)
	inst := newInstance()
	job := convert[batchv1.Job](t, RestoreFilestoreJob(RestoreFilestoreJobInputs{
		Restore: testRestore(), Target: "shop_restore_1", Kept: "shop_pre_restore_1", FilestoreClaim: "shop-filestore-pvc",
		Data: DataJobInputs{Instance: inst, OperatorImage: "op", ClientImage: "postgres:17", Host: "pg", Port: 5432, Database: "shop"},
	}))
	g.Expect(job.Name).To(Equal("back-filestore"))
	g.Expect(job.Labels).To(HaveKeyWithValue(JobKindLabel, JobKindRestoreFilestore))
	g.Expect(job.OwnerReferences).To(ConsistOf(HaveField("Kind", "OdooRestoreJob")))
	c := job.Spec.Template.Spec.Containers[0]
	g.Expect(c.Command).To(Equal([]string{"/odoo-operator/odoo-operator", "data", "swap-filestore", "--dir", "/var/lib/odoo/filestore",
		"--database", "shop", "--target", "shop_restore_1", "--kept", "shop_pre_restore_1"}))
	g.Expect(c.VolumeMounts).To(ContainElement(And(HaveField("MountPath", FilestorePath), HaveField("ReadOnly", BeFalse()))))
	g.Expect(job.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("PersistentVolumeClaim.ClaimName", "shop-filestore-pvc")))
	for _, e := range c.Env {
		if e.Name == "PGPASSWORD" || e.Name == "PGUSER" {
			g.Expect(e.Value).To(BeEmpty())
			g.Expect(e.ValueFrom.SecretKeyRef).NotTo(BeNil())
		}
	}
}
