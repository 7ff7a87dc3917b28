package backupjob_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/testutil/s3harness"
)

// dumpSQLOf reads dump.sql of the zip stored at key.
func dumpSQLOf(g Gomega, store objectstore.Store, key string) string {
	r, err := store.Get(context.Background(), key)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = r.Close() }()
	b, err := io.ReadAll(r)
	g.Expect(err).NotTo(HaveOccurred())
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range zr.File {
		if f.Name == "dump.sql" {
			rc, err := f.Open()
			g.Expect(err).NotTo(HaveOccurred())
			sql, err := io.ReadAll(rc)
			g.Expect(err).NotTo(HaveOccurred())
			return string(sql)
		}
	}
	g.Expect("dump.sql").To(BeEmpty(), "the zip holds no dump.sql")
	return ""
}

// TestHostileBackupsInASharedBucket: two tenants, each with an instance
// "shop", back up to the same bucket and objectKey (a hosting company's
// shared bucket). Each backup's object holds its own tenant's rows only;
// a second backup to the same objectKey gets an object of its own; and a
// backup whose object someone else wrote first (a planted backup at its
// key) fails instead of completing with that object.
func TestHostileBackupsInASharedBucket(t *testing.T) {
	g := NewWithT(t)
	playDataJobsOnTestPostgres(t)
	s3 := s3harness.Start(t)
	ctx := context.Background()
	store, err := objectstore.NewS3(s3.Config(""))
	g.Expect(err).NotTo(HaveOccurred())

	backup := func(ns, name string) {
		b := &odoov1alpha2.OdooBackupJob{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: odoov1alpha2.OdooBackupJobSpec{
				OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"}, WithFilestore: ptr.To(false),
				Destination: odoov1alpha2.BackupDestination{S3Location: odoov1alpha2.S3Location{
					Bucket: s3.Bucket, ObjectKey: "shared/shop/nightly.zip", Endpoint: s3.Endpoint, Region: s3harness.Region, Insecure: true,
					S3CredentialsSecretRef: &odoov1alpha2.S3CredentialsSecretRef{Name: "s3"},
				}},
			},
		}
		g.Expect(k8s.Create(ctx, b)).To(Succeed())
	}
	jobOf := func(ns, name string) *batchv1.Job {
		job := &batchv1.Job{}
		g.Eventually(func(g Gomega) { get(g, ns, name+"-backup", job) }, eventually, poll).Should(Succeed())
		return job
	}
	finished := func(ns, name string) *odoov1alpha2.OdooBackupJob {
		var got *odoov1alpha2.OdooBackupJob
		g.Eventually(func(g Gomega) {
			got = backupJob(g, ns, name)
			g.Expect(got.Status.Phase.Finished()).To(BeTrue())
		}, eventually, poll).Should(Succeed())
		return got
	}

	tenants := map[string]string{} // namespace -> its own row
	var namespaces []string
	for _, who := range []string{"victim", "rival"} {
		ns := newNamespace(t)
		inst := upgradeInstance(t, g, ns)
		moduleSQL(g, inst.Status.Database.Name, `CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar);
			INSERT INTO res_partner (name) VALUES ('only-`+who+`')`)
		g.Expect(k8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "s3", Namespace: ns},
			Data:       map[string][]byte{"accessKey": []byte(s3.AccessKey), "secretKey": []byte(s3.SecretKey)},
		})).To(Succeed())
		tenants[ns] = "only-" + who
		namespaces = append(namespaces, ns)
	}
	// The victim backs up first, then the rival to the same bucket and key.
	for _, ns := range namespaces {
		backup(ns, "nightly")
		g.Expect(playDataJob(t, g, jobOf(ns, "nightly"), t.TempDir())).To(Succeed())
	}
	keys := map[string]bool{}
	for _, ns := range namespaces {
		got := finished(ns, "nightly")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobCompleted), got.Status.Message)
		g.Expect(got.Status.ObjectKey).To(HavePrefix("shared/shop/"+ns+"/shop-"), "under the tenant's namespace and instance uid")
		keys[got.Status.ObjectKey] = true
		sql := dumpSQLOf(g, store, got.Status.ObjectKey)
		for other, row := range tenants {
			if other == ns {
				g.Expect(sql).To(ContainSubstring(row), "the backup holds its own tenant's rows")
			} else {
				g.Expect(sql).NotTo(ContainSubstring(row), "the backup holds another tenant's rows")
			}
		}
		sum, err := objectstore.ReadChecksum(ctx, store, got.Status.ObjectKey)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got.Status.SHA256).To(Equal(sum))
	}
	g.Expect(keys).To(HaveLen(2), "two tenants, two objects")

	// A second backup of the victim to the same objectKey: an object of its own.
	victim := namespaces[0]
	first := backupJob(g, victim, "nightly")
	backup(victim, "again")
	g.Expect(playDataJob(t, g, jobOf(victim, "again"), t.TempDir())).To(Succeed())
	again := finished(victim, "again")
	g.Expect(again.Status.Phase).To(Equal(odoov1alpha2.JobCompleted), again.Status.Message)
	g.Expect(again.Status.ObjectKey).NotTo(Equal(first.Status.ObjectKey))

	// A complete backup planted at the key of a backup before its Job runs
	// (the key is in status once the Job exists): the Job refuses it, and
	// the OdooBackupJob fails instead of completing with the planted file.
	backup(victim, "planted")
	job := jobOf(victim, "planted")
	var key string
	g.Eventually(func(g Gomega) { key = backupJob(g, victim, "planted").Status.ObjectKey; g.Expect(key).NotTo(BeEmpty()) }, eventually, poll).Should(Succeed())
	planted := []byte("PK\x03\x04 not the victim's data")
	_, err = store.Put(ctx, key, bytes.NewReader(planted))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(objectstore.WriteChecksum(ctx, store, key, strings.Repeat("0", 64))).To(Succeed())
	g.Expect(playDataJob(t, g, job, t.TempDir())).NotTo(Succeed())
	got := finished(victim, "planted")
	g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
	g.Expect(got.Status.Message).To(ContainSubstring("not by this run"))
	g.Expect(got.Status.SHA256).To(BeEmpty())
	g.Expect(jobsOfKind(g, victim, resources.JobKindBackup)).To(HaveLen(3))
}
