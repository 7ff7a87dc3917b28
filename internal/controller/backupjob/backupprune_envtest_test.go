package backupjob_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/testutil/s3harness"
)

// TestFailedPruneKeepsTheBackup: a prune Job that fails (S3 refuses the
// credentials) leaves the OdooBackupJob and its files, with the reason and
// the fix in status.prune and a Warning event; once the Job is deleted it
// runs again and, the credentials fixed, the files and the object go.
func TestFailedPruneKeepsTheBackup(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	s3 := s3harness.Start(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s3", Namespace: ns},
		Data:       map[string][]byte{"accessKey": []byte(s3.AccessKey), "secretKey": []byte("wrong")},
	}
	g.Expect(k8s.Create(ctx, secret)).To(Succeed())
	store, err := objectstore.NewS3(s3.Config("shop"))
	g.Expect(err).NotTo(HaveOccurred())
	for _, k := range []string{"old.zip", "old.zip.sha256"} {
		_, err := store.Put(ctx, k, strings.NewReader("data of "+k))
		g.Expect(err).NotTo(HaveOccurred())
	}
	// No instance is needed: the prune touches only the storage.
	b := &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: ns},
		Spec: odoov1alpha2.OdooBackupJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "gone"},
			Destination: odoov1alpha2.BackupDestination{S3Location: odoov1alpha2.S3Location{
				Bucket: s3.Bucket, ObjectKey: "shop/old.zip", Endpoint: s3.Endpoint, Region: s3harness.Region, Insecure: true,
				S3CredentialsSecretRef: &odoov1alpha2.S3CredentialsSecretRef{Name: "s3"},
			}},
		},
	}
	createFinishedBackup(g, b, odoov1alpha2.JobCompleted, "")
	get(g, ns, "old", b)
	patch := client.MergeFrom(b.DeepCopy())
	b.Annotations = map[string]string{odoov1alpha2.AnnotationPrune: odoov1alpha2.PruneRetention}
	g.Expect(k8s.Patch(ctx, b, patch)).To(Succeed())

	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, resources.JobKindPrune) }, eventually, poll).Should(Succeed())
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		if strings.HasPrefix(e.Name, "AWS_") {
			g.Expect(e.Value).To(BeEmpty(), "credentials reach the Job only by secretKeyRef")
			g.Expect(e.ValueFrom.SecretKeyRef.Name).To(Equal("s3"))
		}
	}
	g.Expect(playDataJob(t, g, job, t.TempDir())).NotTo(Succeed())
	g.Eventually(func(g Gomega) {
		got := backupJob(g, ns, "old")
		g.Expect(got.Status.Prune).NotTo(BeNil())
		g.Expect(got.Status.Prune.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(got.Status.Prune.Message).To(And(
			HavePrefix("the prune Job old-prune failed (BackoffLimitExceeded, exit code 1): "),
			ContainSubstring("delete Job old-prune to run it again")))
		g.Expect(got.Status.Prune.Message).NotTo(ContainSubstring(s3.SecretKey))
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobCompleted), "the backup's own result stays")
		g.Expect(eventReasons(g, ns)).To(HaveKeyWithValue(odoov1alpha2.EventBackupPruneFailed, HavePrefix("Warning: the prune Job old-prune failed")))
	}, eventually, poll).Should(Succeed())
	_, err = store.Stat(ctx, "old.zip")
	g.Expect(err).NotTo(HaveOccurred(), "the files stay")

	// The fix: right credentials, then the failed Job deleted.
	secret.Data["secretKey"] = []byte(s3.SecretKey)
	g.Expect(k8s.Update(ctx, secret)).To(Succeed())
	g.Expect(k8s.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-pod", Namespace: ns}})).To(Succeed())
	g.Expect(k8s.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
	g.Eventually(func(g Gomega) {
		again := oneJob(g, ns, resources.JobKindPrune)
		g.Expect(again.UID).NotTo(Equal(job.UID))
		job = again
	}, eventually, poll).Should(Succeed())
	g.Expect(playDataJob(t, g, job, t.TempDir())).To(Succeed())
	g.Eventually(func(g Gomega) { backupGone(g, ns, "old") }, eventually, poll).Should(Succeed())
	for _, k := range []string{"old.zip", "old.zip.sha256"} {
		_, err := store.Stat(ctx, k)
		g.Expect(err).To(MatchError(objectstore.ErrNotFound), fmt.Sprint(k, " deleted"))
	}
}
