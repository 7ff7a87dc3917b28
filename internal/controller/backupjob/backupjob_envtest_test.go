package backupjob_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/testutil/s3harness"
)

// TestBackupJobToS3: an OdooBackupJob drives one Job running `data backup`
// with the filestore mounted read-only and the S3 credentials by
// secretKeyRef; played by the real data code against PostgreSQL and an S3
// server, it ends Completed with the size and sha256 of the stored archive,
// and the instance's status.lastBackup follows.
func TestBackupJobToS3(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	s3 := s3harness.Start(t)
	inst := upgradeInstance(t, g, ns)
	db := inst.Status.Database.Name
	g.Expect(k8s.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s3", Namespace: ns},
		Data:       map[string][]byte{"accessKey": []byte(s3.AccessKey), "secretKey": []byte(s3.SecretKey)},
	})).To(Succeed())
	b := &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: ns},
		Spec: odoov1alpha2.OdooBackupJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Destination: odoov1alpha2.BackupDestination{S3Location: odoov1alpha2.S3Location{
				Bucket: s3.Bucket, ObjectKey: "shop/nightly.zip", Endpoint: s3.Endpoint, Region: s3harness.Region, Insecure: true,
				S3CredentialsSecretRef: &odoov1alpha2.S3CredentialsSecretRef{Name: "s3"},
			}},
		},
	}
	g.Expect(k8s.Create(context.Background(), b)).To(Succeed())

	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, resources.JobKindBackup) }, eventually, poll).Should(Succeed())
	g.Expect(job.Name).To(Equal("nightly-backup"))
	g.Expect(job.OwnerReferences).To(ConsistOf(HaveField("Kind", "OdooBackupJob")))
	c := job.Spec.Template.Spec.Containers[0]
	// The object is under the namespace and the instance's uid, named by
	// the backup's uid, and the Job names its run.
	key := "shop/" + ns + "/shop-" + string(inst.UID) + "/nightly-" + string(b.UID) + ".zip"
	g.Expect(c.Command).To(ContainElements("data", "backup", "--format", "zip", "--to", "s3://"+s3.Bucket+"/"+key,
		"--filestore", "/var/lib/odoo/filestore/"+db, "--run-id", string(b.UID)))
	for _, e := range c.Env {
		if e.Name == "AWS_SECRET_ACCESS_KEY" || e.Name == "AWS_ACCESS_KEY_ID" || e.Name == "PGPASSWORD" {
			g.Expect(e.Value).To(BeEmpty(), "credentials reach the Job only by secretKeyRef")
			g.Expect(e.ValueFrom.SecretKeyRef).NotTo(BeNil())
		}
	}
	g.Expect(c.VolumeMounts).To(ContainElement(And(HaveField("MountPath", "/var/lib/odoo"), HaveField("ReadOnly", true))))
	g.Eventually(func(g Gomega) { g.Expect(backupJob(g, ns, "nightly").Status.Phase).To(Equal(odoov1alpha2.JobRunning)) }, eventually, poll).Should(Succeed())

	root := t.TempDir()
	fsDir := filepath.Join(root, "filestore", "filestore", db, "ab")
	g.Expect(os.MkdirAll(fsDir, 0o750)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(fsDir, "abcdef"), []byte("an attachment"), 0o600)).To(Succeed())
	g.Expect(playDataJob(t, g, job, root)).To(Succeed())

	store, err := objectstore.NewS3(s3.Config(""))
	g.Expect(err).NotTo(HaveOccurred())
	sum, err := objectstore.ReadChecksum(context.Background(), store, key)
	g.Expect(err).NotTo(HaveOccurred())
	obj, err := store.Stat(context.Background(), key)
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(func(g Gomega) {
		got := backupJob(g, ns, "nightly")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobCompleted))
		g.Expect(got.Status.SHA256).To(Equal(sum))
		g.Expect(got.Status.BackupSize).To(Equal(strconv.FormatInt(obj.Size, 10)))
		g.Expect(got.Status.ObjectKey).To(Equal(key))
		g.Expect(got.Status.CompletionTime).NotTo(BeNil())
		get(g, ns, "shop", inst)
		g.Expect(inst.Status.LastBackup).NotTo(BeNil())
		g.Expect(inst.Status.LastBackup.Equal(got.Status.CompletionTime)).To(BeTrue())
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, resources.JobKindBackup)).To(HaveLen(1), "one Job per OdooBackupJob")
}

// TestBackupJobFailuresAreExplained: a failed Job reports its reason, exit
// code and the data command's error; unsupported or unsafe specs fail at
// once, naming the field and the fix, with no Job.
func TestBackupJobFailuresAreExplained(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	upgradeInstance(t, g, ns)
	createBackupsClaim(g, ns)
	pvc := func(name string, mod func(*odoov1alpha2.OdooBackupJob)) { createClaimBackup(g, ns, name, mod) }
	pvc("sql", func(b *odoov1alpha2.OdooBackupJob) { b.Spec.Format = odoov1alpha2.BackupFormatSQL })
	pvc("elsewhere", func(b *odoov1alpha2.OdooBackupJob) {
		b.Spec.Destination = odoov1alpha2.BackupDestination{S3Location: odoov1alpha2.S3Location{Bucket: "b", ObjectKey: "k", Endpoint: "e",
			S3CredentialsSecretRef: &odoov1alpha2.S3CredentialsSecretRef{Name: "s3", Namespace: "odoo-operator"}}}
	})
	g.Eventually(func(g Gomega) {
		g.Expect(backupJob(g, ns, "sql").Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(backupJob(g, ns, "sql").Status.Message).To(ContainSubstring("spec.format sql is not supported: use zip"))
		g.Expect(backupJob(g, ns, "elsewhere").Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(backupJob(g, ns, "elsewhere").Status.Message).To(ContainSubstring("credentials must be in the same namespace"))
	}, eventually, poll).Should(Succeed())

	// A dump to a claim whose database vanished under it: the data command fails.
	pvc("broken", func(b *odoov1alpha2.OdooBackupJob) { b.Spec.Format = odoov1alpha2.BackupFormatDump })
	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, resources.JobKindBackup) }, eventually, poll).Should(Succeed())
	inst := &odoov1alpha2.OdooInstance{}
	get(g, ns, "shop", inst)
	g.Expect(job.Spec.Template.Spec.Containers[0].Command).To(ContainElements("--to",
		"file:///backup-store/"+ns+"/shop-"+string(inst.UID)+"/broken-"+string(backupJob(g, ns, "broken").UID)+".dump"))
	g.Expect(job.Spec.Template.Spec.Containers[0].Command).NotTo(ContainElement("--filestore"))
	for i, e := range job.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "PGDATABASE" {
			job.Spec.Template.Spec.Containers[0].Env[i].Value = "no_such_db"
		}
	}
	g.Expect(playDataJob(t, g, job, t.TempDir())).NotTo(Succeed())
	g.Eventually(func(g Gomega) {
		got := backupJob(g, ns, "broken")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(got.Status.Message).To(ContainSubstring("the backup Job broken-backup failed (BackoffLimitExceeded, exit code 1): "))
		g.Expect(got.Status.Message).To(ContainSubstring("no_such_db"))
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, resources.JobKindBackup)).To(HaveLen(1), "the refused specs got no Job")
}

// TestBackupJobCreatedAfterAFailedCreate: the backup's start is recorded
// before its Job is created. When the create fails (a quota refuses Jobs
// here; an operator killed between the two writes leaves the same state),
// the backup is not failed as if its Job had vanished: it waits, and the
// Job is created once the API server accepts it.
func TestBackupJobCreatedAfterAFailedCreate(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	upgradeInstance(t, g, ns)
	ctx := context.Background()
	createBackupsClaim(g, ns)
	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "no-jobs", Namespace: ns},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/jobs.batch": resource.MustParse("0")}},
	}
	g.Expect(k8s.Create(ctx, quota)).To(Succeed())
	// No quota controller runs on envtest: the usage it would compute is
	// written here, which is what admission enforces.
	quota.Status = corev1.ResourceQuotaStatus{Hard: quota.Spec.Hard, Used: corev1.ResourceList{"count/jobs.batch": resource.MustParse("0")}}
	g.Expect(k8s.Status().Update(ctx, quota)).To(Succeed())
	createClaimBackup(g, ns, "blocked", nil)
	// The start is recorded, and the refused create is retried (the
	// reconcile errors), while the quota stands.
	g.Eventually(func(g Gomega) {
		got := backupJob(g, ns, "blocked")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobRunning))
		g.Expect(got.Status.ObjectKey).NotTo(BeEmpty())
		g.Expect(got.Status.JobName).To(BeEmpty(), "no Job was created")
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, resources.JobKindBackup)).To(BeEmpty(), "the quota refuses the Job")

	g.Expect(k8s.Delete(ctx, quota)).To(Succeed())
	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, resources.JobKindBackup) }, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		got := backupJob(g, ns, "blocked")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobRunning), got.Status.Message)
		g.Expect(got.Status.JobName).To(Equal(job.Name))
	}, eventually, poll).Should(Succeed())
}

// createClaimBackup creates an OdooBackupJob of instance "shop" to the claim
// "backups", without the filestore, changed by mod when it is not nil.
func createClaimBackup(g Gomega, ns, name string, mod func(*odoov1alpha2.OdooBackupJob)) {
	b := &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: odoov1alpha2.OdooBackupJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"}, WithFilestore: ptr.To(false),
			Destination: odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}},
		},
	}
	if mod != nil {
		mod(b)
	}
	g.Expect(k8s.Create(context.Background(), b)).To(Succeed())
}
