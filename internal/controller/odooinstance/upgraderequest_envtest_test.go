package odooinstance_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func upgradeRequest(g Gomega, ns, name string) *odoov1alpha2.OdooUpgradeJob {
	req := &odoov1alpha2.OdooUpgradeJob{}
	get(g, ns, name, req)
	return req
}

// TestLegacyOdooUpgradeJobRunsGuardedUpgrade: an OdooUpgradeJob written the
// way users of the reference operator wrote it runs through the guarded
// upgrade (maintenance mode, restore point, upgrade Job, post-check), with
// its modules, and its status mirrors the upgrade.
func TestLegacyOdooUpgradeJobRunsGuardedUpgrade(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	inst := upgradeInstance(t, g, ns)
	db := inst.Status.Database.Name

	req := &odoov1alpha1.OdooUpgradeJob{
		ObjectMeta: metav1.ObjectMeta{Name: "add-crm", Namespace: ns},
		Spec: odoov1alpha1.OdooUpgradeJobSpec{
			OdooInstanceRef: odoov1alpha1.OdooInstanceRef{Name: "shop", Namespace: ns},
			Modules:         []string{"sale"}, ModulesInstall: []string{"crm"},
		},
	}
	g.Expect(k8s.Create(ctx, req)).To(Succeed())

	g.Eventually(func(g Gomega) {
		st := upgradeStatus(g, ns)
		g.Expect(st.Trigger).To(Equal("OdooUpgradeJob/add-crm"))
		g.Expect(st.Step).To(Equal(odoov1alpha2.UpgradeStepStopCron))
		_, replicas := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(replicas).To(BeZero(), "cron stops before the upgrade")
		got := upgradeRequest(g, ns, req.Name)
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobRunning))
		g.Expect(got.Status.StartTime).NotTo(BeNil())
		markAvailable(g, ns, "shop-cron")
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) { b, job := restorePoint(g, ns); completeBackupJob(g, job, b) }, eventually, poll).Should(Succeed())

	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, "upgrade") }, eventually, poll).Should(Succeed())
	g.Expect(job.Spec.Template.Spec.Containers[0].Image).To(Equal(oldImage), "a request keeps the running image")
	g.Expect(job.Spec.Template.Spec.Containers[0].Args).To(Equal([]string{
		"-u", "sale", "-i", "crm", "--stop-after-init", "--no-http", "--workers=0", "--max-cron-threads=0", "-d", db}))
	g.Eventually(func(g Gomega) {
		got := upgradeRequest(g, ns, req.Name)
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobRunning))
		g.Expect(got.Status.JobName).To(Equal(job.Name))
	}, eventually, poll).Should(Succeed())

	// Odoo upgrades sale, installs crm and commits.
	moduleSQL(g, db, `UPDATE ir_module_module SET latest_version = '18.0.1.1' WHERE name = 'sale';
		UPDATE ir_module_module SET state = 'installed', latest_version = '18.0.1.0' WHERE name = 'crm'`)
	setJobCondition(g, job, batchv1.JobComplete)

	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, "shop")
		st := upgradeStatus(g, ns)
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeSuccess))
		got := &odoov1alpha1.OdooUpgradeJob{}
		get(g, ns, req.Name, got)
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha1.JobCompleted))
		g.Expect(got.Status.JobName).To(Equal(job.Name))
		g.Expect(got.Status.CompletionTime).NotTo(BeNil())
		g.Expect(got.Status.Message).To(Equal(st.Message))
		g.Expect(got.Status.Message).To(ContainSubstring("sale 18.0.1.0 → 18.0.1.1"))
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, "shop-cron")
		_, cronReplicas := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(cronReplicas).To(Equal(int32(1)), "cron back to spec.cron.replicas")
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(jobsOfKind(g, ns, "upgrade")).To(HaveLen(1), "one request runs one upgrade")
		g.Expect(upgradeRequest(g, ns, req.Name).Status.Phase).To(Equal(odoov1alpha2.JobCompleted))
	}, "2s", poll).Should(Succeed())
}

func TestScheduledOdooUpgradeJobWaitsForItsTime(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	upgradeInstance(t, g, ns)

	later := metav1.NewTime(time.Now().Add(time.Hour))
	req := &odoov1alpha2.OdooUpgradeJob{
		ObjectMeta: metav1.ObjectMeta{Name: "tonight", Namespace: ns},
		Spec: odoov1alpha2.OdooUpgradeJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"}, Modules: []string{"sale"}, ScheduledTime: &later,
		},
	}
	g.Expect(k8s.Create(ctx, req)).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := upgradeRequest(g, ns, req.Name)
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobPending))
		g.Expect(got.Status.Message).To(ContainSubstring("scheduled for " + later.UTC().Format(time.RFC3339)))
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		inst := &odoov1alpha2.OdooInstance{}
		get(g, ns, "shop", inst)
		g.Expect(inst.Status.Upgrade).To(BeNil())
		g.Expect(jobsOfKind(g, ns, "upgrade")).To(BeEmpty())
		g.Expect(jobsOfKind(g, ns, "backup")).To(BeEmpty())
		g.Expect(upgradeRequest(g, ns, req.Name).Status.Phase).To(Equal(odoov1alpha2.JobPending))
	}, "2s", poll).Should(Succeed())

	// Its time comes: the upgrade starts.
	got := upgradeRequest(g, ns, req.Name)
	patch := client.MergeFrom(got.DeepCopy())
	got.Spec.ScheduledTime = &metav1.Time{Time: time.Now().Add(-time.Minute)}
	g.Expect(k8s.Patch(ctx, got, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(upgradeStatus(g, ns).Trigger).To(Equal("OdooUpgradeJob/tonight"))
		g.Expect(upgradeRequest(g, ns, req.Name).Status.Phase).To(Equal(odoov1alpha2.JobRunning))
	}, eventually, poll).Should(Succeed())
}

func TestOdooUpgradeJobForAnotherNamespaceFails(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	upgradeInstance(t, g, ns)

	req := &odoov1alpha2.OdooUpgradeJob{
		ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: ns},
		Spec: odoov1alpha2.OdooUpgradeJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop", Namespace: "production"},
		},
	}
	g.Expect(k8s.Create(ctx, req)).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := upgradeRequest(g, ns, req.Name)
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(got.Status.Message).To(ContainSubstring(`spec.odooInstanceRef.namespace "production"`))
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		inst := &odoov1alpha2.OdooInstance{}
		get(g, ns, "shop", inst)
		g.Expect(inst.Status.Upgrade).To(BeNil())
		g.Expect(jobsOfKind(g, ns, "upgrade")).To(BeEmpty())
	}, "1s", poll).Should(Succeed())
}

func TestOdooUpgradeJobWaitsForInitialisation(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	inst := pneumacStaging(ns)
	g.Expect(k8s.Create(ctx, inst)).To(Succeed())

	req := &odoov1alpha2.OdooUpgradeJob{
		ObjectMeta: metav1.ObjectMeta{Name: "too-early", Namespace: ns},
		Spec:       odoov1alpha2.OdooUpgradeJobSpec{OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: inst.Name}},
	}
	g.Expect(k8s.Create(ctx, req)).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := upgradeRequest(g, ns, req.Name)
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobPending))
		g.Expect(got.Status.Message).To(ContainSubstring("to be initialised"))
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, "upgrade")).To(BeEmpty())
}
