package odooinstance_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/controller/odooinstance"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// TestJobHistoryLimitKeepsTheNewest: with spec.jobHistoryLimit 2 the
// instance keeps its two newest finished OdooBackupJobs and deletes the
// older ones; a running one, a scheduled backup and an upgrade restore point
// are never deleted, nor is another instance's backup.
func TestJobHistoryLimitKeepsTheNewest(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: "odoo:18.0", AdminPassword: "x"},
	}
	converge(t, g, ns, inst)
	backup := func(name, instance string, labels map[string]string) *odoov1alpha2.OdooBackupJob {
		return &odoov1alpha2.OdooBackupJob{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
			Spec: odoov1alpha2.OdooBackupJobSpec{OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: instance},
				Destination: odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: name + ".zip"}}},
		}
	}
	// Oldest first: creation timestamps have a one-second resolution.
	for _, b := range []struct {
		obj   *odoov1alpha2.OdooBackupJob
		phase odoov1alpha2.JobPhase
	}{
		{backup("old-1", "shop", nil), odoov1alpha2.JobCompleted},
		{backup("scheduled", "shop", map[string]string{odooinstance.LabelScheduledBackup: "true", resources.InstanceLabel: "shop"}), odoov1alpha2.JobCompleted},
		{backup("restore-point", "shop", map[string]string{resources.LabelRestorePoint: "true"}), odoov1alpha2.JobCompleted},
		{backup("other-instance", "other", nil), odoov1alpha2.JobCompleted},
		{backup("old-2", "shop", nil), odoov1alpha2.JobFailed},
		{backup("new-1", "shop", nil), odoov1alpha2.JobCompleted},
		{backup("new-2", "shop", nil), odoov1alpha2.JobCompleted},
	} {
		createFinishedBackup(g, b.obj, b.phase, "done")
		time.Sleep(1100 * time.Millisecond)
	}
	// A running backup, older than all of them would be, is never deleted:
	// made Running after the others so it stays out of the lock's way.
	running := backup("running", "shop", nil)
	g.Expect(k8s.Create(ctx, running)).To(Succeed())

	get(g, ns, "shop", inst)
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.JobHistoryLimit = ptr.To[int32](2)
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())

	gone := func(name string) bool {
		return apierrors.IsNotFound(k8s.Get(ctx, key(ns, name), &odoov1alpha2.OdooBackupJob{}))
	}
	g.Eventually(func(g Gomega) {
		g.Expect(gone("old-1")).To(BeTrue())
		g.Expect(gone("old-2")).To(BeTrue())
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		for _, name := range []string{"new-1", "new-2", "scheduled", "restore-point", "other-instance", "running"} {
			g.Expect(gone(name)).To(BeFalse(), name)
		}
	}, "1s", poll).Should(Succeed())
}
