package odooinstance_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/testutil/s3harness"
)

const newImage = "odoo:18.0-20260201"

func setImage(g Gomega, ns string, image string) {
	inst := &odoov1alpha2.OdooInstance{}
	get(g, ns, "shop", inst)
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Image = image
	g.Expect(k8s.Patch(context.Background(), inst, patch)).To(Succeed())
}

func upgradeStatus(g Gomega, ns string) *odoov1alpha2.UpgradeStatus {
	inst := &odoov1alpha2.OdooInstance{}
	get(g, ns, "shop", inst)
	g.Expect(inst.Status.Upgrade).NotTo(BeNil(), "no status.upgrade yet")
	return inst.Status.Upgrade
}

// restorePoint returns the upgrade's restore point OdooBackupJob, named in
// status.upgrade.restorePointBackup, and its one backup Job.
func restorePoint(g Gomega, ns string) (*odoov1alpha2.OdooBackupJob, *batchv1.Job) {
	name := upgradeStatus(g, ns).RestorePointBackup
	g.Expect(name).To(MatchRegexp("^shop-pre-upgrade-[0-9a-f]{8}$"), "status.upgrade names its restore point backup")
	b := backupJob(g, ns, name)
	job := oneJob(g, ns, resources.JobKindBackup)
	g.Expect(job.Name).To(Equal(name + "-backup"))
	return b, job
}

// completeBackupJob ends the backup Job of b as its pod would: the data
// container's result names the backup's run and a sha256 (the controller
// counts nothing less as Completed), then the Job completes.
func completeBackupJob(g Gomega, job *batchv1.Job, b *odoov1alpha2.OdooBackupJob) {
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-pod", Namespace: job.Namespace,
			Labels: map[string]string{"batch.kubernetes.io/job-name": job.Name}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "data", Image: "postgres"}}},
	}
	g.Expect(k8s.Create(ctx, pod)).To(Succeed())
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "data", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		Message: `{"command":"backup","ok":true,"bytes":1,"sha256":"` + strings.Repeat("0", 64) + `","runId":"` + string(b.UID) + `"}`}}}}
	g.Expect(k8s.Status().Update(ctx, pod)).To(Succeed())
	setJobCondition(g, job, batchv1.JobComplete)
}

// runUpgradeToJob changes the image and plays the cron pods' exit and the
// restore point backup's Job, until the upgrade Job exists; it checks the
// maintenance window and the restore point on the way.
func runUpgradeToJob(g Gomega, ns string) *batchv1.Job {
	setImage(g, ns, newImage)
	g.Eventually(func(g Gomega) {
		st := upgradeStatus(g, ns)
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeRunning))
		g.Expect(st.Step).To(Equal(odoov1alpha2.UpgradeStepStopCron))
		image, replicas := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(replicas).To(BeZero(), "cron stops before the upgrade")
		g.Expect(image).To(Equal(oldImage))
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) { markAvailable(g, ns, "shop-cron") }, eventually, poll).Should(Succeed())

	var dump *batchv1.Job
	var b *odoov1alpha2.OdooBackupJob
	g.Eventually(func(g Gomega) {
		b, dump = restorePoint(g, ns)
		g.Expect(b.Status.Phase).To(Equal(odoov1alpha2.JobRunning), "the restore point does not wait for the upgrade that asked for it")
	}, eventually, poll).Should(Succeed())
	g.Expect(b.Labels).To(HaveKeyWithValue(resources.LabelRestorePoint, "true"))
	g.Expect(b.OwnerReferences).To(ConsistOf(HaveField("Kind", "OdooInstance")))
	g.Expect(b.Spec.Format).To(Equal(odoov1alpha2.BackupFormatDump))
	g.Expect(b.Spec.Destination.PVC.ClaimName).To(Equal("shop-restore-points"), "no spec.backup.destination: the restore point claim")
	pvc := &corev1.PersistentVolumeClaim{}
	get(g, ns, "shop-restore-points", pvc)
	c := dump.Spec.Template.Spec.Containers[0]
	inst := &odoov1alpha2.OdooInstance{}
	get(g, ns, "shop", inst)
	g.Expect(c.Command).To(ContainElements("data", "backup", "--format", "dump",
		"--to", "file:///backup-store/"+ns+"/shop-"+string(inst.UID)+"/"+b.Name+"-"+string(b.UID)+".dump"))
	g.Expect(c.Command).NotTo(ContainElement("--filestore"), "an upgrade does not rewrite the filestore")
	for _, e := range c.Env {
		if e.Name == "PGPASSWORD" || e.Name == "PGUSER" {
			g.Expect(e.Value).To(BeEmpty(), "credentials reach the Job only by secretKeyRef")
			g.Expect(e.ValueFrom.SecretKeyRef.Name).To(Equal("shop-odoo-user"))
		}
	}
	g.Consistently(func(g Gomega) {
		g.Expect(jobsOfKind(g, ns, "upgrade")).To(BeEmpty(), "the upgrade waits for its restore point")
	}, "500ms", poll).Should(Succeed())
	completeBackupJob(g, dump, b)

	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, "upgrade") }, eventually, poll).Should(Succeed())
	db := upgradeDatabase(g, ns)
	g.Expect(job.Spec.Template.Spec.Containers[0].Image).To(Equal(newImage))
	g.Expect(job.Spec.Template.Spec.Containers[0].Args).To(Equal([]string{
		"-u", "all", "--stop-after-init", "--no-http", "--workers=0", "--max-cron-threads=0", "-d", db}))
	g.Expect(job.Spec.ActiveDeadlineSeconds).To(Equal(ptr.To[int64](1800)))
	g.Expect(ptr.Deref(job.Spec.BackoffLimit, -1)).To(BeZero())
	image, _ := deploymentImageReplicas(g, ns, "shop")
	g.Expect(image).To(Equal(oldImage), "web keeps serving the old image during the upgrade")
	return job
}

func upgradeDatabase(g Gomega, ns string) string {
	inst := &odoov1alpha2.OdooInstance{}
	get(g, ns, "shop", inst)
	return inst.Status.Database.Name
}

func TestImageChangeRunsGuardedUpgrade(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := upgradeInstance(t, g, ns)
	createBackupsClaim(g, ns)
	job := runUpgradeToJob(g, ns)

	// Any other backup waits for the upgrade to end.
	g.Expect(k8s.Create(context.Background(), &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{Name: "manual", Namespace: ns},
		Spec: odoov1alpha2.OdooBackupJobSpec{OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Destination: odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}}},
	})).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := backupJob(g, ns, "manual")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobPending))
		g.Expect(got.Status.Message).To(Equal("waiting for the instance's upgrade to end (step Upgrade)"))
	}, eventually, poll).Should(Succeed())

	// Odoo upgrades sale and commits.
	moduleSQL(g, inst.Status.Database.Name, `UPDATE ir_module_module SET latest_version = '18.0.1.1' WHERE name = 'sale'`)
	setJobCondition(g, job, batchv1.JobComplete)

	g.Eventually(func(g Gomega) {
		image, replicas := deploymentImageReplicas(g, ns, "shop")
		g.Expect(image).To(Equal(newImage))
		g.Expect(replicas).To(Equal(int32(2)))
		cronImage, cronReplicas := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(cronImage).To(Equal(newImage))
		g.Expect(cronReplicas).To(BeZero(), "cron comes back only after the web rollout")
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, "shop")
		st := upgradeStatus(g, ns)
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeSuccess))
		g.Expect(st.ImageCurrent).To(Equal(newImage))
		g.Expect(st.ImageAttempted).To(Equal(newImage))
		g.Expect(st.Message).To(ContainSubstring("sale 18.0.1.0 → 18.0.1.1"))
		g.Expect(st.CompletionTime).NotTo(BeNil())
		g.Expect(st.Duration).NotTo(BeEmpty())
		g.Expect(st.RestorePointBackup).To(HavePrefix("shop-pre-upgrade-"))
		g.Expect(backupJob(g, ns, st.RestorePointBackup).Status.Phase).To(Equal(odoov1alpha2.JobCompleted))
		_, cronReplicas := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(cronReplicas).To(Equal(int32(1)), "cron back to spec.cron.replicas")
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, "shop-cron")
		get(g, ns, "shop", inst)
		g.Expect(inst.Status.Deployment.CurrentImage).To(Equal(newImage))
		g.Expect(inst.Status.Deployment.PreviousImage).To(Equal(oldImage))
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionUpgradeSucceeded)).To(BeTrue())
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionReady)).To(BeTrue())
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, "upgrade")).To(HaveLen(1))
	// The waiting backup starts once the upgrade ended, well before its 15 s retry.
	g.Eventually(func(g Gomega) {
		g.Expect(backupJob(g, ns, "manual").Status.Phase).To(Equal(odoov1alpha2.JobRunning))
	}, "5s", poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, resources.JobKindBackup)).To(HaveLen(2))
	restorePoints := &odoov1alpha2.OdooBackupJobList{}
	g.Expect(k8s.List(context.Background(), restorePoints, client.InNamespace(ns), client.MatchingLabels{resources.LabelRestorePoint: "true"})).To(Succeed())
	g.Expect(restorePoints.Items).To(ConsistOf(HaveField("Name", upgradeStatus(g, ns).RestorePointBackup)), "one restore point backup")
}

func TestPostCheckCatchesLeftoverModulesAndKeepsOldImage(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := upgradeInstance(t, g, ns)
	job := runUpgradeToJob(g, ns)

	// Odoo committed stock, then stopped with sale still marked: exit 0 all the same.
	moduleSQL(g, inst.Status.Database.Name, `UPDATE ir_module_module SET latest_version = '18.0.1.2' WHERE name = 'stock';
		UPDATE ir_module_module SET state = 'to upgrade' WHERE name = 'sale'`)
	setJobCondition(g, job, batchv1.JobComplete)

	g.Eventually(func(g Gomega) {
		st := upgradeStatus(g, ns)
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
		g.Expect(st.Message).To(ContainSubstring("modules left pending: sale"))
		g.Expect(st.Message).To(ContainSubstring("stock 18.0.1.1 → 18.0.1.2"), "the committed modules are listed")
		g.Expect(st.ImageCurrent).To(Equal(oldImage))
		image, replicas := deploymentImageReplicas(g, ns, "shop")
		g.Expect(image).To(Equal(oldImage))
		g.Expect(replicas).To(Equal(int32(2)))
		cronImage, cronReplicas := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(cronImage).To(Equal(oldImage))
		g.Expect(cronReplicas).To(Equal(int32(1)), "cron back up on the old image")
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, "shop", inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDegraded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonUpgradeFailed))
		g.Expect(c.Message).To(ContainSubstring(odoov1alpha2.AnnotationUpgradeNow))
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(jobsOfKind(g, ns, "upgrade")).To(HaveLen(1), "a failed image is not retried")
	}, "2s", poll).Should(Succeed())

	// Bumping the annotation retries once, with a new Job.
	moduleSQL(g, inst.Status.Database.Name, `UPDATE ir_module_module SET state = 'installed' WHERE name = 'sale'`)
	get(g, ns, "shop", inst)
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Annotations = map[string]string{odoov1alpha2.AnnotationUpgradeNow: "retry-1"}
	g.Expect(k8s.Patch(context.Background(), inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		st := upgradeStatus(g, ns)
		g.Expect(st.Trigger).To(Equal("Annotation"))
		g.Expect(st.Request).To(Equal("retry-1"))
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeRunning))
	}, eventually, poll).Should(Succeed())
}

func TestRevertBeforeTheJobCancelsWithoutTouchingTheDatabase(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	upgradeInstance(t, g, ns)
	setImage(g, ns, newImage)
	g.Eventually(func(g Gomega) {
		g.Expect(upgradeStatus(g, ns).Step).To(Equal(odoov1alpha2.UpgradeStepStopCron))
	}, eventually, poll).Should(Succeed())
	setImage(g, ns, oldImage)
	g.Eventually(func(g Gomega) {
		st := upgradeStatus(g, ns)
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
		g.Expect(st.Failed).To(BeFalse())
		g.Expect(st.Message).To(ContainSubstring("the database was not touched"))
		_, cronReplicas := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(cronReplicas).To(Equal(int32(1)))
		inst := &odoov1alpha2.OdooInstance{}
		get(g, ns, "shop", inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionUpgradeSucceeded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonUpgradeCancelled))
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, "upgrade")).To(BeEmpty())
	g.Expect(jobsOfKind(g, ns, resources.JobKindBackup)).To(BeEmpty())
	backups := &odoov1alpha2.OdooBackupJobList{}
	g.Expect(k8s.List(context.Background(), backups, client.InNamespace(ns))).To(Succeed())
	g.Expect(backups.Items).To(BeEmpty(), "cancelled before the restore point step")
}

func TestAutoUpgradeDisabledRollsOutDirectlyAndAnnotationRunsOnce(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := upgradeInstance(t, g, ns)
	get(g, ns, "shop", inst)
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.AutoUpgrade.Enabled = ptr.To(false)
	inst.Spec.Image = newImage
	g.Expect(k8s.Patch(context.Background(), inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		image, _ := deploymentImageReplicas(g, ns, "shop")
		g.Expect(image).To(Equal(newImage))
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, "upgrade")).To(BeEmpty())

	get(g, ns, "shop", inst)
	patch = client.MergeFrom(inst.DeepCopy())
	inst.Annotations = map[string]string{odoov1alpha2.AnnotationUpgradeNow: "2026-11-25"}
	g.Expect(k8s.Patch(context.Background(), inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(upgradeStatus(g, ns).Step).To(Equal(odoov1alpha2.UpgradeStepStopCron))
		// The step is stored before cron is scaled to 0: playing the
		// Deployment controller earlier would report a generation that is
		// never observed again.
		_, cronReplicas := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(cronReplicas).To(BeZero())
		markAvailable(g, ns, "shop-cron")
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) { b, job := restorePoint(g, ns); completeBackupJob(g, job, b) }, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) { setJobCondition(g, oneJob(g, ns, "upgrade"), batchv1.JobComplete) }, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, "shop")
		g.Expect(upgradeStatus(g, ns).Phase).To(Equal(odoov1alpha2.UpgradeSuccess))
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(jobsOfKind(g, ns, "upgrade")).To(HaveLen(1), "one annotation value runs one upgrade")
	}, "2s", poll).Should(Succeed())
}

func TestDatabaseWithoutModuleTableFailsBeforeTouchingIt(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: oldImage, AdminPassword: "pw"},
	}
	converge(t, g, ns, inst)
	setImage(g, ns, newImage)
	g.Eventually(func(g Gomega) {
		st := upgradeStatus(g, ns)
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
		g.Expect(st.Message).To(ContainSubstring("ir_module_module"))
		g.Expect(st.Message).To(ContainSubstring("the database was not touched"))
	}, eventually, poll).Should(Succeed())
	image, _ := deploymentImageReplicas(g, ns, "shop")
	g.Expect(image).To(Equal(oldImage))
	events := &corev1.EventList{}
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.List(context.Background(), events, client.InNamespace(ns))).To(Succeed())
		reasons := []string{}
		for _, e := range events.Items {
			reasons = append(reasons, e.Reason)
		}
		g.Expect(reasons).To(ContainElements("UpgradeStarted", "UpgradeFailed"), fmt.Sprint(reasons))
	}, eventually, poll).Should(Succeed())
}

// restoreAtJob is a failed upgrade with onFailure Restore that reached its
// restore Job: what the two restore tests share.
type restoreAtJob struct {
	ns, db, target, root string
	before               map[string]string
	backup               *odoov1alpha2.OdooBackupJob
	restoreJob           *batchv1.Job
}

// failUpgradeToRestoreJob runs an upgrade with onFailure Restore (restore
// point to S3, played by the project's data code) that commits stock while
// users keep writing, then dies at a later module, and returns at the
// restore Job, checked: a new target owned by the instance's role, loading
// the restore point's backup, credentials only by secretKeyRef.
func failUpgradeToRestoreJob(t *testing.T, g Gomega) restoreAtJob {
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	s3 := s3harness.Start(t)
	ctx := context.Background()
	g.Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s3", Namespace: ns},
		Data:       map[string][]byte{"accessKey": []byte(s3.AccessKey), "secretKey": []byte(s3.SecretKey)},
	})).To(Succeed())
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: odoov1alpha2.OdooInstanceSpec{
			Image: oldImage, AdminPassword: "pw", Replicas: ptr.To[int32](2),
			AutoUpgrade: odoov1alpha2.AutoUpgradeSpec{OnFailure: odoov1alpha2.UpgradeFailureRestore},
			Backup: odoov1alpha2.BackupSpec{Destination: &odoov1alpha2.BackupDestination{S3Location: odoov1alpha2.S3Location{
				Bucket: s3.Bucket, ObjectKey: "shop", Endpoint: s3.Endpoint, Region: s3harness.Region, Insecure: true,
				S3CredentialsSecretRef: &odoov1alpha2.S3CredentialsSecretRef{Name: "s3"},
			}}},
		},
	}
	converge(t, g, ns, inst)
	db := inst.Status.Database.Name
	moduleSQL(g, db, `CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL, state varchar, latest_version varchar);
		INSERT INTO ir_module_module (name, state, latest_version) VALUES ('base', 'installed', '18.0.1.3'), ('stock', 'installed', '18.0.1.1');
		CREATE TABLE sale_order (id serial PRIMARY KEY, name text, amount numeric(12,2), attachment bytea, note text);
		INSERT INTO sale_order (name, amount, attachment, note) SELECT 'SO' || i, i * 1.5, decode(md5(i::text), 'hex'), NULL FROM generate_series(1, 500) i`)
	before := checksums(g, db)

	setImage(g, ns, newImage)
	g.Eventually(func(g Gomega) {
		g.Expect(upgradeStatus(g, ns).Step).To(Equal(odoov1alpha2.UpgradeStepStopCron))
		// The step is stored before cron is scaled to 0: playing the
		// Deployment controller earlier would report a generation that is
		// never observed again.
		_, cronReplicas := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(cronReplicas).To(BeZero())
		markAvailable(g, ns, "shop-cron")
	}, eventually, poll).Should(Succeed())
	var backup *odoov1alpha2.OdooBackupJob
	var backupJobOf *batchv1.Job
	g.Eventually(func(g Gomega) { backup, backupJobOf = restorePoint(g, ns) }, eventually, poll).Should(Succeed())
	g.Expect(backup.Spec.Destination.ObjectKey).To(Equal("shop/"+backup.Name+".dump"), "spec.backup.destination, objectKey as a prefix")
	key := "shop/" + ns + "/shop-" + string(inst.UID) + "/" + backup.Name + "-" + string(backup.UID) + ".dump"
	g.Expect(backupJobOf.Spec.Template.Spec.Containers[0].Command).To(ContainElements("--format", "dump", "--to", "s3://"+s3.Bucket+"/"+key))
	root := t.TempDir()
	g.Expect(playDataJob(t, g, backupJobOf, root)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(backupJob(g, ns, backup.Name).Status.Phase).To(Equal(odoov1alpha2.JobCompleted))
	}, eventually, poll).Should(Succeed())

	// The upgrade commits stock, users keep writing, then it dies at a later module.
	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, "upgrade") }, eventually, poll).Should(Succeed())
	moduleSQL(g, db, `UPDATE ir_module_module SET latest_version = '18.0.1.2' WHERE name = 'stock';
		ALTER TABLE sale_order ADD COLUMN x_new integer; INSERT INTO sale_order (name) VALUES ('written during the upgrade')`)
	setJobCondition(g, job, batchv1.JobFailed)

	g.Eventually(func(g Gomega) {
		st := upgradeStatus(g, ns)
		g.Expect(st.Step).To(Equal(odoov1alpha2.UpgradeStepRestore))
		_, webReplicas := deploymentImageReplicas(g, ns, "shop")
		_, cronReplicas := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(webReplicas).To(BeZero(), "web stops before the restore")
		g.Expect(cronReplicas).To(BeZero())
		markAvailable(g, ns, "shop")
		markAvailable(g, ns, "shop-cron")
	}, eventually, poll).Should(Succeed())
	var restoreJob *batchv1.Job
	g.Eventually(func(g Gomega) { restoreJob = oneJob(g, ns, resources.JobKindRestore) }, eventually, poll).Should(Succeed())
	target := jobEnv(restoreJob, "PGDATABASE")
	g.Expect(target).NotTo(Equal(db), "the live database is never the restore target")
	g.Expect(adminQuery(g, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", target)).To(Equal(adminQuery(g,
		"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", db)), "the target belongs to the instance's role")
	g.Expect(restoreJob.Spec.Template.Spec.Containers[0].Command).To(ContainElements("data", "restore-backup", "--from", "s3://"+s3.Bucket+"/"+key,
		"--database", target, "--skip-filestore"), "the restore Job reads the backup the restore point OdooBackupJob stored")
	for _, e := range restoreJob.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "AWS_SECRET_ACCESS_KEY" || e.Name == "AWS_ACCESS_KEY_ID" || e.Name == "PGPASSWORD" {
			g.Expect(e.Value).To(BeEmpty(), "credentials reach the Job only by secretKeyRef")
		}
	}
	return restoreAtJob{ns: ns, db: db, target: target, root: root, before: before, backup: backup, restoreJob: restoreJob}
}

// TestRestorePolicyBringsBackTheDatabase: a failed upgrade with onFailure
// Restore loads its restore point backup (an OdooBackupJob to the
// instance's spec.backup.destination, here S3) into a new database with the
// data code of an OdooRestoreJob, swaps it in, keeps the half-upgraded one
// aside, and serves the old image on byte-identical tables. The backup and
// restore Jobs are played by the project's own data code.
func TestRestorePolicyBringsBackTheDatabase(t *testing.T) {
	g := NewWithT(t)
	r := failUpgradeToRestoreJob(t, g)
	ctx := context.Background()
	ns, db, target, root, before, backup, restoreJob := r.ns, r.db, r.target, r.root, r.before, r.backup, r.restoreJob
	g.Expect(playDataJob(t, g, restoreJob, root)).To(Succeed())

	g.Eventually(func(g Gomega) {
		st := upgradeStatus(g, ns)
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
		g.Expect(st.Message).To(ContainSubstring("restored the restore point backup " + backup.Name))
		g.Expect(st.Message).To(ContainSubstring("writes made during the upgrade window are lost"))
		g.Expect(st.KeptDatabase).NotTo(BeEmpty())
		image, webReplicas := deploymentImageReplicas(g, ns, "shop")
		g.Expect(image).To(Equal(oldImage))
		g.Expect(webReplicas).To(Equal(int32(2)))
	}, eventually, poll).Should(Succeed())
	g.Expect(checksums(g, db)).To(Equal(before), "the live database holds exactly the restore point")
	kept := upgradeStatus(g, ns).KeptDatabase
	g.Expect(adminQuery(g, "SELECT datname FROM pg_database WHERE datname = $1", target)).To(BeEmpty())
	keptConn, err := pgx.Connect(ctx, pg.ConnStringFor(kept))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = keptConn.Close(ctx) }()
	var version string
	g.Expect(keptConn.QueryRow(ctx, "SELECT latest_version FROM ir_module_module WHERE name = 'stock'").Scan(&version)).To(Succeed())
	g.Expect(version).To(Equal("18.0.1.2"), "the half-upgraded database is kept for inspection")
	g.Expect(jobsOfKind(g, ns, resources.JobKindBackup)).To(HaveLen(1))
	g.Expect(jobsOfKind(g, ns, resources.JobKindRestore)).To(HaveLen(1))
}

// TestRestorePolicyWithoutItsBackupLeavesTheDatabase: a failed upgrade whose
// restore point OdooBackupJob was deleted meanwhile restores nothing: the
// upgrade ends Failed saying so, no restore Job runs, the live database is
// left as the upgrade left it and the old image serves again.
func TestRestorePolicyWithoutItsBackupLeavesTheDatabase(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := upgradeInstance(t, g, ns)
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.AutoUpgrade.OnFailure = odoov1alpha2.UpgradeFailureRestore
	g.Expect(k8s.Patch(context.Background(), inst, patch)).To(Succeed())
	job := runUpgradeToJob(g, ns)
	name := upgradeStatus(g, ns).RestorePointBackup
	g.Expect(k8s.Delete(context.Background(), backupJob(g, ns, name))).To(Succeed())
	moduleSQL(g, inst.Status.Database.Name, `UPDATE ir_module_module SET latest_version = '18.0.1.2' WHERE name = 'stock'`)
	setJobCondition(g, job, batchv1.JobFailed)

	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, "shop")
		markAvailable(g, ns, "shop-cron")
		st := upgradeStatus(g, ns)
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
		g.Expect(st.Step).To(Equal(odoov1alpha2.UpgradeStepDone))
		g.Expect(st.Message).To(ContainSubstring("the restore point backup " + name + " is gone or did not complete: nothing was restored"))
		g.Expect(st.KeptDatabase).To(BeEmpty())
		image, replicas := deploymentImageReplicas(g, ns, "shop")
		g.Expect(image).To(Equal(oldImage))
		g.Expect(replicas).To(Equal(int32(2)))
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, resources.JobKindRestore)).To(BeEmpty())
	db := inst.Status.Database.Name
	g.Expect(adminQuery(g, "SELECT datname FROM pg_database WHERE datname LIKE $1", db+"_restore_%")).To(BeEmpty(), "no restore target was created")
	conn, err := pgx.Connect(context.Background(), pg.ConnStringFor(db))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = conn.Close(context.Background()) }()
	var version string
	g.Expect(conn.QueryRow(context.Background(), "SELECT latest_version FROM ir_module_module WHERE name = 'stock'").Scan(&version)).To(Succeed())
	g.Expect(version).To(Equal("18.0.1.2"), "the live database is left as the upgrade left it")
}

// TestFailedUpgradeRestoreDropsItsTemporaryDatabase: the restore of a failed
// upgrade whose load Job fails ends the upgrade Failed, drops the database it
// had created for the load (<db>_restore_<hash>) and says so; the live
// database is left as the upgrade left it.
func TestFailedUpgradeRestoreDropsItsTemporaryDatabase(t *testing.T) {
	g := NewWithT(t)
	r := failUpgradeToRestoreJob(t, g)
	ns, db, target, before, restoreJob := r.ns, r.db, r.target, r.before, r.restoreJob
	setJobCondition(g, restoreJob, batchv1.JobFailed)
	g.Eventually(func(g Gomega) {
		st := upgradeStatus(g, ns)
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
		g.Expect(st.Message).To(ContainSubstring("the live database was left as the upgrade left it"))
		g.Expect(st.Message).To(ContainSubstring(fmt.Sprintf("the temporary database %q the restore had loaded was dropped", target)))
	}, eventually, poll).Should(Succeed())
	g.Expect(databaseExists(g, target)).To(BeFalse(), "the failed restore's target is dropped")
	g.Expect(databaseExists(g, db)).To(BeTrue(), "the live database stays")
	g.Expect(checksums(g, db)).NotTo(Equal(before), "nothing was loaded over the live database: it holds the upgrade's writes")
}
