package odooinstance_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func claimOf(d *appsv1.Deployment) string {
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			return v.PersistentVolumeClaim.ClaimName
		}
	}
	return ""
}

func migrationJobs(g Gomega, ns string) []batchv1.Job {
	jobs := &batchv1.JobList{}
	g.Expect(k8s.List(context.Background(), jobs, client.InNamespace(ns), client.MatchingLabels{"bemade.org/job": "filestore-migration"})).To(Succeed())
	return jobs.Items
}

// touch makes the operator reconcile again without changing the spec: each
// step must be decided from status and objects only, so extra reconciles
// (as after an operator restart) neither repeat nor skip a step.
func touch(g Gomega, ns, name string, n int) {
	for i := range n {
		inst := &odoov1alpha2.OdooInstance{}
		get(g, ns, name, inst)
		patch := client.MergeFrom(inst.DeepCopy())
		if inst.Annotations == nil {
			inst.Annotations = map[string]string{}
		}
		inst.Annotations["test/touch"] = time.Now().Format(time.RFC3339Nano) + string(rune('a'+i))
		g.Expect(k8s.Patch(context.Background(), inst, patch)).To(Succeed())
		time.Sleep(50 * time.Millisecond)
	}
}

// startMigration converges an instance on class "slow", asks for "fast", and
// plays the Deployment controller until the copy Job exists.
func startMigration(t *testing.T, g Gomega, ns string) (*odoov1alpha2.OdooInstance, *odoov1alpha2.FilestoreMigration) {
	t.Helper()
	ctx := context.Background()
	inst := pneumacStaging(ns)
	inst.Spec.Filestore.StorageClass = "slow"
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		cur := &odoov1alpha2.OdooInstance{}
		_ = k8s.Get(ctx, key(ns, inst.Name), cur)
		t.Logf("filestore status: %+v migration %+v", cur.Status.Filestore, cur.Status.Filestore.Migration)
		t.Logf("conditions: %+v", cur.Status.Conditions)
		for _, n := range []string{inst.Name, inst.Name + "-cron"} {
			d := &appsv1.Deployment{}
			_ = k8s.Get(ctx, key(ns, n), d)
			t.Logf("deployment %s gen %d status %+v replicas %d", n, d.Generation, d.Status, ptr.Deref(d.Spec.Replicas, -1))
		}
		jobs := &batchv1.JobList{}
		_ = k8s.List(ctx, jobs, client.InNamespace(ns))
		for _, j := range jobs.Items {
			t.Logf("job %s deleting=%v conditions %+v", j.Name, j.DeletionTimestamp, j.Status.Conditions)
		}
	})
	converge(t, g, ns, inst)
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Filestore).NotTo(BeNil())
		g.Expect(inst.Status.Filestore.ClaimName).To(Equal(inst.Name + "-filestore-pvc"))
		g.Expect(inst.Status.Filestore.StorageClass).To(Equal("slow"))
	}, eventually, poll).Should(Succeed())

	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Filestore.StorageClass = "fast"
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())

	// The tiers stop first; nothing is copied while they run.
	var m *odoov1alpha2.FilestoreMigration
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Filestore.Migration).NotTo(BeNil())
		m = inst.Status.Filestore.Migration
		g.Expect(m.Phase).To(Equal(odoov1alpha2.FilestoreMigrationCopying))
		ready := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionReady)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(odoov1alpha2.ReasonFilestoreMigrating))
		for _, n := range []string{inst.Name, inst.Name + "-cron"} {
			d := &appsv1.Deployment{}
			get(g, ns, n, d)
			g.Expect(*d.Spec.Replicas).To(BeZero())
		}
	}, eventually, poll).Should(Succeed())
	g.Expect(m.SourceClaim).To(Equal(inst.Name + "-filestore-pvc"))
	g.Expect(m.TargetClaim).To(MatchRegexp(`^pneumac-staging-filestore-[0-9a-f]{8}$`))
	g.Expect(m.JobName).To(MatchRegexp(`^pneumac-staging-fsmigrate-[0-9a-f]{8}$`))
	touch(g, ns, inst.Name, 3)
	g.Consistently(func(g Gomega) { g.Expect(migrationJobs(g, ns)).To(BeEmpty()) }, "500ms", poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, inst.Name)
		target := &corev1.PersistentVolumeClaim{}
		get(g, ns, m.TargetClaim, target)
		g.Expect(*target.Spec.StorageClassName).To(Equal("fast"))
		g.Expect(target.Spec.AccessModes).To(Equal([]corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}))
		job := &batchv1.Job{}
		get(g, ns, m.JobName, job)
		vols := job.Spec.Template.Spec.Volumes
		g.Expect(vols[0].PersistentVolumeClaim.ClaimName).To(Equal(m.SourceClaim))
		g.Expect(vols[1].PersistentVolumeClaim.ClaimName).To(Equal(m.TargetClaim))
		g.Expect(job.Spec.Template.Spec.Containers[0].Image).To(Equal(inst.Spec.Image))
	}, eventually, poll).Should(Succeed())
	// Extra reconciles while the Job runs change nothing.
	touch(g, ns, inst.Name, 3)
	g.Consistently(func(g Gomega) {
		settleHeld(g, ns, inst.Name)
		g.Expect(migrationJobs(g, ns)).To(HaveLen(1))
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Filestore.Migration).To(Equal(m))
		d := &appsv1.Deployment{}
		get(g, ns, inst.Name, d)
		g.Expect(*d.Spec.Replicas).To(BeZero())
	}, "500ms", poll).Should(Succeed())
	return inst, m
}

func TestFilestoreStorageClassChangeMigratesData(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst, m := startMigration(t, g, ns)

	job := &batchv1.Job{}
	get(g, ns, m.JobName, job)
	setJobCondition(g, job, batchv1.JobComplete)

	// Swap: the tiers come back on the new claim; the old one is kept,
	// labelled, until the instance is Ready.
	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, inst.Name)
		get(g, ns, inst.Name, inst)
		f := inst.Status.Filestore
		g.Expect(f.Migration).To(BeNil())
		g.Expect(f.ClaimName).To(Equal(m.TargetClaim))
		g.Expect(f.StorageClass).To(Equal("fast"))
		g.Expect(f.PreviousClaim).To(Equal(m.SourceClaim))
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionFilestoreMigrated)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Message).To(ContainSubstring(m.TargetClaim))
		web, cron := &appsv1.Deployment{}, &appsv1.Deployment{}
		get(g, ns, inst.Name, web)
		get(g, ns, inst.Name+"-cron", cron)
		g.Expect(*web.Spec.Replicas).To(Equal(int32(3)))
		g.Expect(*cron.Spec.Replicas).To(Equal(int32(1)))
		g.Expect(claimOf(web)).To(Equal(m.TargetClaim))
		g.Expect(claimOf(cron)).To(Equal(m.TargetClaim))
	}, eventually, poll).Should(Succeed())
	old := &corev1.PersistentVolumeClaim{}
	get(g, ns, m.SourceClaim, old)
	g.Expect(old.DeletionTimestamp).To(BeNil())
	g.Expect(old.Labels).To(HaveKeyWithValue("bemade.org/filestore", "previous"))
	touch(g, ns, inst.Name, 2)
	get(g, ns, m.SourceClaim, old)
	g.Expect(old.DeletionTimestamp).To(BeNil(), "the old claim stays until the instance is Ready")

	// Ready on the new claim: the old claim goes.
	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, inst.Name)
		markAvailable(g, ns, inst.Name+"-cron")
		get(g, ns, inst.Name, inst)
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionReady)).To(BeTrue())
		g.Expect(inst.Status.Filestore.PreviousClaim).To(BeEmpty())
		err := k8s.Get(context.Background(), key(ns, m.SourceClaim), old)
		if err == nil {
			g.Expect(old.DeletionTimestamp).NotTo(BeNil())
		} else {
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		}
	}, eventually, poll).Should(Succeed())
	// The finished Jobs that mounted the old claim (copy, init) are removed
	// with it: a claim is not deleted while any pod refers to it.
	g.Eventually(func(g Gomega) {
		g.Expect(migrationJobs(g, ns)).To(BeEmpty())
		jobs := &batchv1.JobList{}
		g.Expect(k8s.List(context.Background(), jobs, client.InNamespace(ns), client.MatchingLabels{"bemade.org/job": "init"})).To(Succeed())
		g.Expect(jobs.Items).To(BeEmpty())
	}, eventually, poll).Should(Succeed())
	current := &corev1.PersistentVolumeClaim{}
	get(g, ns, m.TargetClaim, current)
	g.Expect(current.DeletionTimestamp).To(BeNil())
	g.Eventually(func(g Gomega) {
		ev := eventReasons(g, ns)
		g.Expect(ev).To(HaveKeyWithValue(odoov1alpha2.EventFilestoreMigrationStarted, ContainSubstring("Normal")))
		g.Expect(ev).To(HaveKeyWithValue(odoov1alpha2.EventFilestoreMigrationSucceeded, ContainSubstring("Normal")))
	}, eventually, poll).Should(Succeed())
}

func TestFilestoreMigrationFailureKeepsTheOldClaim(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	inst, m := startMigration(t, g, ns)

	job := &batchv1.Job{}
	get(g, ns, m.JobName, job)
	setJobCondition(g, job, batchv1.JobFailed)

	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, inst.Name)
		get(g, ns, inst.Name, inst)
		f := inst.Status.Filestore
		g.Expect(f.ClaimName).To(Equal(m.SourceClaim))
		g.Expect(f.StorageClass).To(Equal("slow"))
		g.Expect(f.Migration).NotTo(BeNil())
		g.Expect(f.Migration.Phase).To(Equal(odoov1alpha2.FilestoreMigrationFailed))
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionFilestoreMigrated)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonFilestoreMigrationFailed))
		g.Expect(c.Message).To(And(ContainSubstring(`spec.filestore.storageClass "fast" was not applied`), ContainSubstring("BackoffLimitExceeded"),
			ContainSubstring("the instance keeps claim "+m.SourceClaim)))
		web := &appsv1.Deployment{}
		get(g, ns, inst.Name, web)
		g.Expect(*web.Spec.Replicas).To(Equal(int32(3)))
		g.Expect(claimOf(web)).To(Equal(m.SourceClaim))
		// The half-written target is removed.
		target := &corev1.PersistentVolumeClaim{}
		err := k8s.Get(ctx, key(ns, m.TargetClaim), target)
		g.Expect(apierrors.IsNotFound(err) || (err == nil && target.DeletionTimestamp != nil)).To(BeTrue())
	}, eventually, poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, inst.Name)
		markAvailable(g, ns, inst.Name+"-cron")
		get(g, ns, inst.Name, inst)
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionReady)).To(BeTrue())
	}, eventually, poll).Should(Succeed())
	old := &corev1.PersistentVolumeClaim{}
	get(g, ns, m.SourceClaim, old)
	g.Expect(old.DeletionTimestamp).To(BeNil())

	// Not retried while the spec asks for the same class.
	touch(g, ns, inst.Name, 3)
	g.Consistently(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Filestore.Migration.Phase).To(Equal(odoov1alpha2.FilestoreMigrationFailed))
		g.Expect(migrationJobs(g, ns)).To(HaveLen(1))
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionReady)).To(BeTrue())
	}, "1s", poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(eventReasons(g, ns)).To(HaveKeyWithValue(odoov1alpha2.EventFilestoreMigrationFailed, ContainSubstring("Warning")))
	}, eventually, poll).Should(Succeed())

	// Asking for the class in use again clears the failure.
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Filestore.StorageClass = "slow"
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Filestore.Migration).To(BeNil())
		g.Expect(meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionFilestoreMigrated)).To(BeNil())
		g.Expect(inst.Status.Filestore.ClaimName).To(Equal(m.SourceClaim))
	}, eventually, poll).Should(Succeed())
	g.Expect(ptr.Deref(inst.Spec.Replicas, 0)).To(Equal(int32(3)))
}
