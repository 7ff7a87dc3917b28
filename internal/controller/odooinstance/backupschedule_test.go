package odooinstance

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestScheduledBackup(t *testing.T) {
	inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("a", 60), Namespace: "ns"}}
	inst.Spec.Backup.Destination = &odoov1alpha2.BackupDestination{S3Location: odoov1alpha2.S3Location{Bucket: "b", ObjectKey: "odoo/prod", Endpoint: "https://s3"}}
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	job := scheduledBackup(inst, at)
	if len(job.Name)+len("-backup") > 63 || !strings.HasSuffix(job.Name, "-202611250300") {
		t.Errorf("name %q (%d characters)", job.Name, len(job.Name))
	}
	if job.Spec.Destination.ObjectKey != "odoo/prod/"+job.Name+".zip" || job.Spec.Format != odoov1alpha2.BackupFormatZip {
		t.Errorf("object key %q, format %q", job.Spec.Destination.ObjectKey, job.Spec.Format)
	}
	if inst.Spec.Backup.Destination.ObjectKey != "odoo/prod" {
		t.Error("the instance's destination was modified")
	}
	if job.Labels[LabelScheduledBackup] != "true" || job.Annotations["bemade.org/scheduled-time"] != "2026-11-25T03:00:00Z" {
		t.Errorf("labels %v, annotations %v", job.Labels, job.Annotations)
	}

	// With a claim, pvc.path is a directory: each backup gets a file of its own.
	inst.Spec.Backup.Destination = &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop"}}
	job = scheduledBackup(inst, at)
	if job.Spec.Destination.PVC.Path != "shop/"+job.Name+".zip" || inst.Spec.Backup.Destination.PVC.Path != "shop" {
		t.Errorf("pvc.path %q, the instance's %q", job.Spec.Destination.PVC.Path, inst.Spec.Backup.Destination.PVC.Path)
	}
}
