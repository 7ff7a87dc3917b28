package odooinstance_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
)

const (
	oldImage = "odoo:18.0-20260101"
	newImage = "odoo:18.0-20260201"
)

// upgradeInstance is a small instance whose database gets an
// ir_module_module fixture: Odoo's side of an upgrade, modelled in the real
// PostgreSQL.
func upgradeInstance(t *testing.T, g Gomega, ns string) *odoov1alpha2.OdooInstance {
	t.Helper()
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: odoov1alpha2.OdooInstanceSpec{
			Image: oldImage, AdminPassword: "pw", Replicas: ptr.To[int32](2),
			Cron: odoov1alpha2.CronSpec{Replicas: ptr.To[int32](1)},
		},
	}
	converge(t, g, ns, inst)
	moduleSQL(g, inst.Status.Database.Name, `CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL, state varchar, latest_version varchar);
		INSERT INTO ir_module_module (name, state, latest_version) VALUES
		  ('base', 'installed', '18.0.1.3'), ('sale', 'installed', '18.0.1.0'), ('stock', 'installed', '18.0.1.1'), ('crm', 'uninstalled', NULL)`)
	return inst
}

// moduleSQL runs statements in the instance's database, as Odoo would.
func moduleSQL(g Gomega, db, sql string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.ConnStringFor(db))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, sql)
	g.Expect(err).NotTo(HaveOccurred())
}

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

func jobsOfKind(g Gomega, ns, kind string) []batchv1.Job {
	jobs := &batchv1.JobList{}
	g.Expect(k8s.List(context.Background(), jobs, client.InNamespace(ns), client.MatchingLabels{"bemade.org/job": kind})).To(Succeed())
	return jobs.Items
}

func oneJob(g Gomega, ns, kind string) *batchv1.Job {
	jobs := jobsOfKind(g, ns, kind)
	g.Expect(jobs).To(HaveLen(1), "%s Jobs", kind)
	return &jobs[0]
}

func deploymentImageReplicas(g Gomega, ns, name string) (string, int32) {
	d := &appsv1.Deployment{}
	get(g, ns, name, d)
	return container(d).Image, ptr.Deref(d.Spec.Replicas, 1)
}

// runUpgradeToJob changes the image and plays the cron pods' exit and the
// restore point Job, until the upgrade Job exists; it checks the maintenance
// window on the way.
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
	g.Eventually(func(g Gomega) { dump = oneJob(g, ns, "restore-point") }, eventually, poll).Should(Succeed())
	c := dump.Spec.Template.Spec.Containers[0]
	g.Expect(c.Command).To(ContainElements("data", "restore-point"))
	for _, e := range c.Env {
		if e.Name == "PGPASSWORD" || e.Name == "PGUSER" {
			g.Expect(e.Value).To(BeEmpty(), "credentials reach the Job only by secretKeyRef")
			g.Expect(e.ValueFrom.SecretKeyRef.Name).To(Equal("shop-odoo-user"))
		}
	}
	g.Expect(jobsOfKind(g, ns, "upgrade")).To(BeEmpty(), "the upgrade waits for its restore point")
	setJobCondition(g, dump, batchv1.JobComplete)

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
	job := runUpgradeToJob(g, ns)

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
		g.Expect(st.RestorePoint).To(HavePrefix("shop-restore-points:upgrade-"))
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
	g.Expect(jobsOfKind(g, ns, "restore-point")).To(HaveLen(1))
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
	g.Expect(jobsOfKind(g, ns, "restore-point")).To(BeEmpty())
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
		markAvailable(g, ns, "shop-cron")
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) { setJobCondition(g, oneJob(g, ns, "restore-point"), batchv1.JobComplete) }, eventually, poll).Should(Succeed())
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

// jobArg returns the value following flag in the data Job's command.
func jobArg(g Gomega, job *batchv1.Job, flag string) string {
	cmd := job.Spec.Template.Spec.Containers[0].Command
	for i, a := range cmd[:len(cmd)-1] {
		if a == flag {
			return cmd[i+1]
		}
	}
	g.Expect(cmd).To(ContainElement(flag))
	return ""
}

func jobEnv(job *batchv1.Job, name string) string {
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// playDataJobsAsAdmin points the data code at the test PostgreSQL, as the
// Job's environment would.
func playDataJobsAsAdmin(t *testing.T) {
	t.Setenv("PGHOST", pg.Host)
	t.Setenv("PGPORT", fmt.Sprint(pg.Port))
	t.Setenv("PGUSER", pg.AdminUser)
	t.Setenv("PGPASSWORD", pg.AdminPassword)
	t.Setenv("PGSSLMODE", "disable")
}

func checksums(g Gomega, db string) map[string]string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.ConnStringFor(db))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = conn.Close(ctx) }()
	sums, err := dbtools.TableChecksums(ctx, conn)
	g.Expect(err).NotTo(HaveOccurred())
	return sums
}

// TestRestorePolicyBringsBackTheDatabase: a failed upgrade with onFailure
// Restore loads the restore point into a new database, swaps it in, keeps
// the half-upgraded one aside, and serves the old image on byte-identical
// tables. The Jobs are played by the project's own data code.
func TestRestorePolicyBringsBackTheDatabase(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsAsAdmin(t)
	dir := t.TempDir()
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: odoov1alpha2.OdooInstanceSpec{
			Image: oldImage, AdminPassword: "pw", Replicas: ptr.To[int32](2),
			AutoUpgrade: odoov1alpha2.AutoUpgradeSpec{OnFailure: odoov1alpha2.UpgradeFailureRestore},
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
		markAvailable(g, ns, "shop-cron")
	}, eventually, poll).Should(Succeed())
	var dumpJob *batchv1.Job
	g.Eventually(func(g Gomega) { dumpJob = oneJob(g, ns, "restore-point") }, eventually, poll).Should(Succeed())
	name := jobArg(g, dumpJob, "--name")
	_, err := dbtools.Dump(context.Background(), dbtools.DumpOptions{File: dir + "/" + name + ".dump", Database: jobEnv(dumpJob, "PGDATABASE"), PGBinDir: pg.BinDir})
	g.Expect(err).NotTo(HaveOccurred())
	setJobCondition(g, dumpJob, batchv1.JobComplete)

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
	g.Eventually(func(g Gomega) { restoreJob = oneJob(g, ns, "restore") }, eventually, poll).Should(Succeed())
	target := jobEnv(restoreJob, "PGDATABASE")
	g.Expect(target).NotTo(Equal(db), "the live database is never the restore target")
	g.Expect(adminQuery(g, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", target)).To(Equal(adminQuery(g,
		"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", db)), "the target belongs to the instance's role")
	g.Expect(jobArg(g, restoreJob, "--file")).To(Equal(jobArg(g, dumpJob, "--dir")+"/"+name+".dump"),
		"the restore Job reads the file the restore point Job wrote")
	g.Expect(dbtools.Restore(context.Background(), dbtools.RestoreOptions{File: dir + "/" + name + ".dump", Database: target, PGBinDir: pg.BinDir})).To(Succeed())
	setJobCondition(g, restoreJob, batchv1.JobComplete)

	g.Eventually(func(g Gomega) {
		st := upgradeStatus(g, ns)
		g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
		g.Expect(st.Message).To(ContainSubstring("restored the restore point"))
		g.Expect(st.Message).To(ContainSubstring("writes made during the upgrade window are lost"))
		g.Expect(st.KeptDatabase).NotTo(BeEmpty())
		image, webReplicas := deploymentImageReplicas(g, ns, "shop")
		g.Expect(image).To(Equal(oldImage))
		g.Expect(webReplicas).To(Equal(int32(2)))
	}, eventually, poll).Should(Succeed())
	g.Expect(checksums(g, db)).To(Equal(before), "the live database holds exactly the restore point")
	kept := upgradeStatus(g, ns).KeptDatabase
	g.Expect(adminQuery(g, "SELECT datname FROM pg_database WHERE datname = $1", target)).To(BeEmpty())
	keptConn, err := pgx.Connect(context.Background(), pg.ConnStringFor(kept))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = keptConn.Close(context.Background()) }()
	var version string
	g.Expect(keptConn.QueryRow(context.Background(), "SELECT latest_version FROM ir_module_module WHERE name = 'stock'").Scan(&version)).To(Succeed())
	g.Expect(version).To(Equal("18.0.1.2"), "the half-upgraded database is kept for inspection")
}
