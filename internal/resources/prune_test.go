package resources

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// The prune Job reaches the storage as the backup Job did, with no database
// environment at all, and belongs to its OdooBackupJob.
func TestPruneJob(t *testing.T) {
	b := &odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("s", 60), Namespace: "ns", UID: "u1"}}
	b.Spec.OdooInstanceRef.Name = "shop"
	s3 := &odoov1alpha2.S3Location{Bucket: "b", ObjectKey: "shop/x.zip", Endpoint: "https://s3",
		S3CredentialsSecretRef: &odoov1alpha2.S3CredentialsSecretRef{Name: "creds"}}
	job := PruneJob(b, S3BackupLocation(s3), "operator:v1", 0)
	if n := *job.Name; len(n) > 63 || !strings.HasSuffix(n, "-prune") {
		t.Errorf("name %q", n)
	}
	if job.Labels[JobKindLabel] != JobKindPrune || job.Labels[InstanceLabel] != "shop" || *job.Namespace != "ns" {
		t.Errorf("labels %v", job.Labels)
	}
	if o := job.OwnerReferences[0]; *o.Kind != "OdooBackupJob" || *o.UID != "u1" || !*o.Controller {
		t.Errorf("owner %+v", o)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if *c.Image != "operator:v1" || strings.Join(c.Command[1:], " ") != "data delete-backup --from s3://b/shop/x.zip" {
		t.Errorf("image %s command %v", *c.Image, c.Command)
	}
	for _, e := range c.Env {
		if strings.HasPrefix(*e.Name, "PG") {
			t.Errorf("database variable %s in a prune Job", *e.Name)
		}
		if strings.HasPrefix(*e.Name, "AWS_") && (e.Value != nil || e.ValueFrom.SecretKeyRef == nil || *e.ValueFrom.SecretKeyRef.Name != "creds") {
			t.Errorf("%s is not a secretKeyRef to creds", *e.Name)
		}
	}
	if len(job.Spec.Template.Spec.Volumes) != 1 || *job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("volumes %d (want the tools only)", len(job.Spec.Template.Spec.Volumes))
	}

	pvc := PruneJob(b, PVCBackupLocation(&odoov1alpha2.PVCLocation{ClaimName: "backups"}, "shop/x.zip", false), "operator:v1", 0)
	m := pvc.Spec.Template.Spec.Containers[0].VolumeMounts
	if len(m) != 2 || *m[1].MountPath != BackupStoreMountPath || (m[1].ReadOnly != nil && *m[1].ReadOnly) {
		t.Errorf("mounts %+v", m)
	}
}
