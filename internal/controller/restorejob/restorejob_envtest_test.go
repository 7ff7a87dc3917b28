package restorejob_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/testutil/s3harness"
)

// holdOf names the restore holding web and cron: the instance's lock at a
// restore's Stop, Swap or Filestore step, or the restore-hold annotation.
func holdOf(g Gomega, ns string) string {
	inst := &odoov1alpha2.OdooInstance{}
	get(g, ns, "shop", inst)
	return operation.TiersHeld(inst)
}

// TestRestoreJobFromS3SwapsTheBackupIn: a backup made by the real data code
// is restored: an empty target database, one Job with credentials by
// secretKeyRef played with the real restore code, the copy neutralized by a
// Job of the instance's image (played in SQL) and checked, web and cron
// held while the names are swapped and the filestore Job (played with the
// real data code) moves the filestore into place, the live database kept
// under the pre_restore name, the hold released, phase Completed.
func TestRestoreJobFromS3SwapsTheBackupIn(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	s3 := s3harness.Start(t)
	s3.SetEnv(t)
	inst := upgradeInstance(t, g, ns)
	db := inst.Status.Database.Name
	ctx := context.Background()
	backupSums, liveSums := restoreFixture(t, g, db, "s3://"+s3.Bucket+"/shop/full.zip")

	g.Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s3", Namespace: ns},
		Data:       map[string][]byte{"accessKey": []byte(s3.AccessKey), "secretKey": []byte(s3.SecretKey)},
	})).To(Succeed())
	g.Expect(k8s.Create(ctx, &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: "back", Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourceS3, S3: &odoov1alpha2.S3Location{
				Bucket: s3.Bucket, ObjectKey: "shop/full.zip", Endpoint: s3.Endpoint, Region: s3harness.Region, Insecure: true,
				S3CredentialsSecretRef: &odoov1alpha2.S3CredentialsSecretRef{Name: "s3"},
			}},
		},
	})).To(Succeed())

	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, resources.JobKindRestoreBackup) }, eventually, poll).Should(Succeed())
	rj := restoreJob(g, ns, "back")
	target, kept := rj.Status.TargetDatabase, rj.Status.KeptDatabase
	g.Expect(target).To(MatchRegexp("^" + regexp.QuoteMeta(db) + "_restore_[0-9a-f]{8}$"))
	g.Expect(kept).To(MatchRegexp("^" + regexp.QuoteMeta(db) + "_pre_restore_[0-9a-f]{8}$"))
	g.Expect(rj.Status.Step).To(Equal(odoov1alpha2.RestoreStepLoad))
	g.Expect(rj.Status.Phase).To(Equal(odoov1alpha2.JobRunning))
	g.Expect(rj.Status.Database).To(Equal(db))
	g.Expect(adminQuery(g, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", target)).
		To(Equal(adminQuery(g, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", db)), "the target is owned by the instance's role")

	g.Expect(job.Name).To(Equal("back-restore"))
	g.Expect(job.OwnerReferences).To(ConsistOf(HaveField("Kind", "OdooRestoreJob")))
	c := job.Spec.Template.Spec.Containers[0]
	g.Expect(c.Command).To(ContainElements("data", "restore-backup", "--from", "s3://"+s3.Bucket+"/shop/full.zip",
		"--database", target, "--filestore", "/var/lib/odoo/filestore/"+target))
	g.Expect(jobEnv(job, "PGDATABASE")).To(Equal(target))
	g.Expect(jobEnv(job, "S3_BUCKET")).To(Equal(s3.Bucket))
	for _, e := range c.Env {
		if e.Name == "AWS_SECRET_ACCESS_KEY" || e.Name == "AWS_ACCESS_KEY_ID" || e.Name == "PGPASSWORD" || e.Name == "PGUSER" {
			g.Expect(e.Value).To(BeEmpty(), "credentials reach the Job only by secretKeyRef")
			g.Expect(e.ValueFrom.SecretKeyRef).NotTo(BeNil())
		}
	}
	g.Expect(holdOf(g, ns)).To(BeEmpty(), "nothing is held while the backup loads")

	root := t.TempDir()
	g.Expect(playDataJob(t, g, job, root)).To(Succeed())
	restoredFile, err := os.ReadFile(filepath.Join(root, "filestore", "filestore", target, "ab", "abcdef"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(restoredFile)).To(Equal("an attachment"))
	liveFile := filepath.Join(root, "filestore", "filestore", db, "ab", "live")
	writeFile(g, liveFile, "the live attachment")

	var neutralize *batchv1.Job
	g.Eventually(func(g Gomega) { neutralize = oneJob(g, ns, resources.JobKindNeutralize) }, eventually, poll).Should(Succeed())
	g.Expect(restoreJob(g, ns, "back").Status.Step).To(Equal(odoov1alpha2.RestoreStepNeutralize), "an instance without environment is not production")
	g.Expect(neutralize.Name).To(Equal("back-neutralize"))
	g.Expect(neutralize.OwnerReferences).To(ConsistOf(HaveField("Kind", "OdooRestoreJob")))
	nc := neutralize.Spec.Template.Spec.Containers[0]
	g.Expect(nc.Image).To(Equal(oldImage))
	g.Expect(nc.Command).To(Equal([]string{"odoo", "neutralize", "-c", "/etc/odoo/odoo.conf"}))
	g.Expect(nc.Args).To(Equal([]string{"-d", target}))
	g.Expect(neutralize.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("Secret.SecretName", "shop-odoo-conf")), "the same odoo.conf as the other Odoo Jobs")
	for _, e := range nc.Env {
		g.Expect(e.Name).NotTo(BeElementOf("PGPASSWORD", "PASSWORD"))
	}
	g.Expect(holdOf(g, ns)).To(BeEmpty(), "nothing is held while the copy is neutralized")
	playNeutralize(g, neutralize, odooNeutralizeSQL)

	g.Eventually(func(g Gomega) {
		g.Expect(holdOf(g, ns)).To(Equal("back"))
		_, web := deploymentImageReplicas(g, ns, "shop")
		_, cron := deploymentImageReplicas(g, ns, "shop-cron")
		g.Expect(web).To(BeZero())
		g.Expect(cron).To(BeZero())
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(restoreJob(g, ns, "back").Status.Step).To(Equal(odoov1alpha2.RestoreStepStop), "no swap while the tiers still run")
	}, "1s", poll).Should(Succeed())
	g.Expect(checksums(g, db)).To(Equal(liveSums))

	var fsJob *batchv1.Job
	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, "shop")
		fsJob = oneJob(g, ns, resources.JobKindRestoreFilestore)
	}, eventually, poll).Should(Succeed())
	g.Expect(fsJob.Name).To(Equal("back-filestore"))
	g.Expect(fsJob.Spec.Template.Spec.Containers[0].Command).To(ContainElements("data", "swap-filestore",
		"--dir", "/var/lib/odoo/filestore", "--database", db, "--target", target, "--kept", kept))
	g.Expect(holdOf(g, ns)).To(Equal("back"), "web and cron stay held while the filestore moves")
	g.Expect(checksums(g, db)).NotTo(Equal(liveSums), "the databases are swapped before the filestore moves")
	g.Expect(playDataJob(t, g, fsJob, root)).To(Succeed())

	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, "shop")
		got := restoreJob(g, ns, "back")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobCompleted))
		g.Expect(got.Status.Step).To(Equal(odoov1alpha2.RestoreStepDone))
		g.Expect(got.Status.SHA256).To(MatchRegexp("^[0-9a-f]{64}$"))
		g.Expect(got.Status.CompletionTime).NotTo(BeNil())
		g.Expect(got.Status.Message).To(ContainSubstring("kept as \"" + kept + "\""))
		g.Expect(got.Status.Neutralized).To(BeTrue())
		g.Expect(got.Status.Message).To(ContainSubstring("it is neutralized"))
		g.Expect(got.Status.FilestoreMoved).To(Equal(ptr.To(true)))
		g.Expect(got.Status.Message).To(ContainSubstring("the backup's filestore is in filestore/" + db + ", the previous one kept in filestore/" + kept))
		g.Expect(got.Status.PreviousDatabaseDropped).To(BeFalse())
	}, eventually, poll).Should(Succeed())
	g.Expect(withoutMailTables(checksums(g, db))).To(Equal(withoutMailTables(backupSums)), "the live name holds the backup")
	g.Expect(adminQueryIn(g, db, "SELECT value FROM ir_config_parameter WHERE key = 'database.is_neutralized'")).To(Equal("true"))
	g.Expect(adminQueryIn(g, db, "SELECT count(*)::text FROM ir_mail_server WHERE active AND smtp_host = 'smtp.shop.com'")).To(Equal("0"))
	g.Expect(adminQueryIn(g, db, "SELECT count(*)::text FROM fetchmail_server WHERE active")).To(Equal("0"))
	g.Expect(adminQueryIn(g, kept, "SELECT count(*)::text FROM fetchmail_server WHERE active")).To(Equal("1"), "the previous database is kept as it was")
	g.Expect(readFile(g, filepath.Join(root, "filestore", "filestore", db, "ab", "abcdef"))).To(Equal("an attachment"))
	g.Expect(readFile(g, filepath.Join(root, "filestore", "filestore", kept, "ab", "live"))).To(Equal("the live attachment"))
	g.Expect(filepath.Join(root, "filestore", "filestore", target)).NotTo(BeADirectory())
	g.Expect(checksums(g, kept)).To(Equal(liveSums), "the previous database is kept")
	g.Expect(adminQuery(g, "SELECT datname FROM pg_database WHERE datname = $1", target)).To(BeEmpty())
	g.Eventually(func(g Gomega) {
		g.Expect(holdOf(g, ns)).To(BeEmpty())
		_, web := deploymentImageReplicas(g, ns, "shop")
		g.Expect(web).To(Equal(int32(2)))
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, resources.JobKindRestoreBackup)).To(HaveLen(1), "one Job per OdooRestoreJob")
	g.Expect(jobsOfKind(g, ns, resources.JobKindNeutralize)).To(HaveLen(1))
	g.Expect(jobsOfKind(g, ns, resources.JobKindRestoreFilestore)).To(HaveLen(1))
}

// TestRestoreJobRefusesACorruptedBackup: a backup on a claim with one byte
// flipped fails the played restore on its sha256; the restore fails, the
// live database is untouched and nothing was held.
func TestRestoreJobRefusesACorruptedBackup(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	inst := upgradeInstance(t, g, ns)
	db := inst.Status.Database.Name
	root := t.TempDir()
	archive := filepath.Join(root, "backup-store", "shop.zip")
	g.Expect(os.MkdirAll(filepath.Dir(archive), 0o750)).To(Succeed())
	_, liveSums := restoreFixture(t, g, db, "file://"+archive)
	data, err := os.ReadFile(archive)
	g.Expect(err).NotTo(HaveOccurred())
	data[len(data)/2] ^= 0xff
	g.Expect(os.WriteFile(archive, data, 0o600)).To(Succeed())

	g.Expect(k8s.Create(context.Background(), &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourcePVC,
				PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop.zip"}},
		},
	})).To(Succeed())
	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, resources.JobKindRestoreBackup) }, eventually, poll).Should(Succeed())
	g.Expect(job.Spec.Template.Spec.Containers[0].Command).To(ContainElements("--from", "file:///backup-store/shop.zip"))
	g.Expect(playDataJob(t, g, job, root)).NotTo(Succeed())
	g.Eventually(func(g Gomega) {
		got := restoreJob(g, ns, "bad")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(got.Status.Message).To(ContainSubstring("the restore Job bad-restore failed (BackoffLimitExceeded, exit code 1): "))
		g.Expect(got.Status.Message).To(ContainSubstring("the live database \"" + db + "\" is untouched"))
		g.Expect(got.Status.Message).To(ContainSubstring(fmt.Sprintf("the temporary database %q this restore had created was dropped", got.Status.TargetDatabase)))
		g.Expect(got.Status.TargetDatabaseDropped).To(BeTrue())
		g.Expect(databaseExists(g, got.Status.TargetDatabase)).To(BeFalse(), "a failed load drops the temporary database it created")
	}, eventually, poll).Should(Succeed())
	g.Expect(checksums(g, db)).To(Equal(liveSums))
	g.Expect(holdOf(g, ns)).To(BeEmpty())
}

// TestRestoreJobRefusesUnsupportedSources: a live-Odoo source without its
// master password, one whose URL carries credentials, and format sql fail at
// once with the fix, and get no Job.
func TestRestoreJobRefusesUnsupportedSources(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	upgradeInstance(t, g, ns)
	ctx := context.Background()
	g.Expect(k8s.Create(ctx, &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: "live", Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourceOdoo,
				Odoo: &odoov1alpha2.OdooSource{URL: "https://erp.example.com", SourceDatabase: "prod"}},
		},
	})).To(Succeed())
	g.Expect(k8s.Create(ctx, &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: "userinfo", Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourceOdoo,
				Odoo: &odoov1alpha2.OdooSource{URL: "https://admin:hunter2@erp.example.com", SourceDatabase: "prod",
					MasterPasswordSecretRef: &odoov1alpha2.SecretKeyRef{Name: "source"}}},
		},
	})).To(Succeed())
	g.Expect(k8s.Create(ctx, &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: "sql", Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"}, Format: odoov1alpha2.BackupFormatSQL,
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourcePVC,
				PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop.sql"}},
		},
	})).To(Succeed())
	g.Eventually(func(g Gomega) {
		live := restoreJob(g, ns, "live")
		g.Expect(live.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(live.Status.Message).To(Equal("source.odoo.masterPasswordSecretRef is required: the Secret key holding the source Odoo's master password"))
		userinfo := restoreJob(g, ns, "userinfo")
		g.Expect(userinfo.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(userinfo.Status.Message).To(Equal("source.odoo.url: the URL carries credentials: remove them (the master password comes from its Secret)"))
		sql := restoreJob(g, ns, "sql")
		g.Expect(sql.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(sql.Status.Message).To(ContainSubstring("spec.format sql is not supported"))
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, resources.JobKindRestoreBackup)).To(BeEmpty())
}
