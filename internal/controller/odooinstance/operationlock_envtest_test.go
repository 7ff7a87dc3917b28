package odooinstance_test

import (
	"context"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// The dangerous pairs of operations end to end: the manager's controllers
// against the real API server and PostgreSQL, the instance's lock
// (status.operation) deciding who runs.

func pvcRestore(ns, name string) *odoov1alpha2.OdooRestoreJob {
	return &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"}, Neutralize: ptr.To(false),
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourcePVC,
				PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop.zip"}},
		},
	}
}

// lockOf is the instance's lock record, nil when free.
func lockOf(g Gomega, ns string) *odoov1alpha2.OperationStatus {
	inst := &odoov1alpha2.OdooInstance{}
	get(g, ns, "shop", inst)
	return inst.Status.Operation
}

func expectLock(g Gomega, ns string, kind odoov1alpha2.OperationKind, name, step string) {
	op := lockOf(g, ns)
	g.Expect(op).NotTo(BeNil(), "status.operation")
	g.Expect(op.Kind).To(Equal(kind))
	g.Expect(op.Name).To(Equal(name))
	g.Expect(op.Step).To(Equal(step))
	g.Expect(op.Started.IsZero()).To(BeFalse())
}

// TestLockARestoreKeepsAnUpgradeFromStarting: while a restore holds the
// instance (loading its backup), a new spec.image starts no upgrade; once
// the restore ended the upgrade starts and takes the lock.
func TestLockARestoreKeepsAnUpgradeFromStarting(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	upgradeInstance(t, g, ns)
	g.Expect(k8s.Create(context.Background(), pvcRestore(ns, "first"))).To(Succeed())
	var load *batchv1.Job
	g.Eventually(func(g Gomega) {
		g.Expect(restoreJob(g, ns, "first").Status.Step).To(Equal(odoov1alpha2.RestoreStepLoad))
		expectLock(g, ns, odoov1alpha2.OperationRestore, "first", string(odoov1alpha2.RestoreStepLoad))
		load = oneJob(g, ns, resources.JobKindRestoreBackup)
	}, eventually, poll).Should(Succeed())

	setImage(g, ns, newImage)
	g.Consistently(func(g Gomega) {
		inst := &odoov1alpha2.OdooInstance{}
		get(g, ns, "shop", inst)
		st := inst.Status.Upgrade
		g.Expect(st == nil || st.Step == "").To(BeTrue(), "no upgrade starts while the restore holds the instance: %+v", st)
		g.Expect(jobsOfKind(g, ns, resources.JobKindUpgrade)).To(BeEmpty())
		expectLock(g, ns, odoov1alpha2.OperationRestore, "first", string(odoov1alpha2.RestoreStepLoad))
	}, "3s", poll).Should(Succeed())

	setJobCondition(g, load, batchv1.JobFailed)
	g.Eventually(func(g Gomega) {
		g.Expect(restoreJob(g, ns, "first").Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		st := upgradeStatus(g, ns)
		g.Expect(st).NotTo(BeNil())
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeRunning), "the upgrade starts once the restore released the instance")
		op := lockOf(g, ns)
		g.Expect(op).NotTo(BeNil())
		g.Expect(op.Kind).To(Equal(odoov1alpha2.OperationUpgrade))
		g.Expect(op.Name).To(Equal("shop"))
	}, eventually, poll).Should(Succeed())
}

// TestLockAnUpgradeKeepsARestoreWaiting: a restore created while an upgrade
// runs its Job waits, creating nothing, and says for what.
func TestLockAnUpgradeKeepsARestoreWaiting(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	upgradeInstance(t, g, ns)
	createBackupsClaim(g, ns)
	runUpgradeToJob(g, ns)
	g.Eventually(func(g Gomega) {
		expectLock(g, ns, odoov1alpha2.OperationUpgrade, "shop", string(odoov1alpha2.UpgradeStepUpgrade))
	}, eventually, poll).Should(Succeed())

	g.Expect(k8s.Create(context.Background(), pvcRestore(ns, "during"))).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := restoreJob(g, ns, "during")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobPending))
		g.Expect(got.Status.Message).To(Equal("waiting for the instance's upgrade to end (step Upgrade)"))
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(restoreJob(g, ns, "during").Status.Step).To(BeEmpty(), "the restore did not start")
		g.Expect(jobsOfKind(g, ns, resources.JobKindRestoreBackup)).To(BeEmpty())
		expectLock(g, ns, odoov1alpha2.OperationUpgrade, "shop", string(odoov1alpha2.UpgradeStepUpgrade))
	}, "2s", poll).Should(Succeed())
}

// TestLockNoBackupJobWhileARestoreSwaps: a backup created while a restore
// stops web and cron to swap the databases creates no Job; once the
// restore ended it runs.
func TestLockNoBackupJobWhileARestoreSwaps(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	inst := upgradeInstance(t, g, ns)
	db := inst.Status.Database.Name
	root := t.TempDir()
	restoreFixture(t, g, db, "file://"+filepath.Join(root, "backup-store", "shop.zip"))
	createBackupsClaim(g, ns)

	g.Expect(k8s.Create(context.Background(), pvcRestore(ns, "swap"))).To(Succeed())
	var load *batchv1.Job
	g.Eventually(func(g Gomega) { load = oneJob(g, ns, resources.JobKindRestoreBackup) }, eventually, poll).Should(Succeed())
	g.Expect(playDataJob(t, g, load, root)).To(Succeed())
	// Web and cron are not stopped yet (nothing plays the Deployment
	// controller): the restore stays at its Stop step, holding them.
	g.Eventually(func(g Gomega) {
		g.Expect(restoreJob(g, ns, "swap").Status.Step).To(Equal(odoov1alpha2.RestoreStepStop))
		expectLock(g, ns, odoov1alpha2.OperationRestore, "swap", string(odoov1alpha2.RestoreStepStop))
	}, eventually, poll).Should(Succeed())

	g.Expect(k8s.Create(context.Background(), &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{Name: "meanwhile", Namespace: ns},
		Spec: odoov1alpha2.OdooBackupJobSpec{OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Destination: odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}}},
	})).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := backupJob(g, ns, "meanwhile")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobPending))
		g.Expect(got.Status.Message).To(Equal("waiting for the restore swap to end"))
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(jobsOfKind(g, ns, resources.JobKindBackup)).To(BeEmpty(), "no backup Job while the restore swaps")
		g.Expect(backupJob(g, ns, "meanwhile").Status.JobName).To(BeEmpty())
	}, "2s", poll).Should(Succeed())

	// The restore goes on: web and cron stop, the databases swap, the
	// filestore moves; then the backup runs.
	var fsJob *batchv1.Job
	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, "shop")
		fsJob = oneJob(g, ns, resources.JobKindRestoreFilestore)
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, resources.JobKindBackup)).To(BeEmpty(), "still none while the filestore moves")
	g.Expect(playDataJob(t, g, fsJob, root)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(restoreJob(g, ns, "swap").Status.Phase).To(Equal(odoov1alpha2.JobCompleted))
		got := backupJob(g, ns, "meanwhile")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobRunning))
		g.Expect(jobsOfKind(g, ns, resources.JobKindBackup)).To(HaveLen(1))
		expectLock(g, ns, odoov1alpha2.OperationBackup, "meanwhile", "")
	}, eventually, poll).Should(Succeed())
}

// TestLockTwoRestoresOnlyOneRuns: two OdooRestoreJobs created together for
// one instance: one loads, the other waits for it, and never a second load
// Job.
func TestLockTwoRestoresOnlyOneRuns(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	upgradeInstance(t, g, ns)
	ctx := context.Background()
	g.Expect(k8s.Create(ctx, pvcRestore(ns, "one"))).To(Succeed())
	g.Expect(k8s.Create(ctx, pvcRestore(ns, "two"))).To(Succeed())

	var running, waiting string
	g.Eventually(func(g Gomega) {
		op := lockOf(g, ns)
		g.Expect(op).NotTo(BeNil())
		g.Expect(op.Kind).To(Equal(odoov1alpha2.OperationRestore))
		running, waiting = op.Name, map[string]string{"one": "two", "two": "one"}[op.Name]
		g.Expect(restoreJob(g, ns, running).Status.Step).To(Equal(odoov1alpha2.RestoreStepLoad))
		other := restoreJob(g, ns, waiting)
		g.Expect(other.Status.Phase).To(Equal(odoov1alpha2.JobPending))
		g.Expect(other.Status.Message).To(Equal("waiting for the restore " + running + " to end"))
		g.Expect(jobsOfKind(g, ns, resources.JobKindRestoreBackup)).To(HaveLen(1))
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(jobsOfKind(g, ns, resources.JobKindRestoreBackup)).To(HaveLen(1), "only one restore loads")
		g.Expect(restoreJob(g, ns, waiting).Status.Step).To(BeEmpty())
		expectLock(g, ns, odoov1alpha2.OperationRestore, running, string(odoov1alpha2.RestoreStepLoad))
	}, "3s", poll).Should(Succeed())

	// The first one fails: the second takes the instance.
	setJobCondition(g, oneJob(g, ns, resources.JobKindRestoreBackup), batchv1.JobFailed)
	g.Eventually(func(g Gomega) {
		g.Expect(restoreJob(g, ns, running).Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(restoreJob(g, ns, waiting).Status.Step).To(Equal(odoov1alpha2.RestoreStepLoad))
		expectLock(g, ns, odoov1alpha2.OperationRestore, waiting, string(odoov1alpha2.RestoreStepLoad))
	}, eventually, poll).Should(Succeed())
}
