package restorejob_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// TestRestoreJobFromALiveOdoo: a legacy source.type odoo with a plain-text
// masterPassword. The operator copies the password into a Secret the
// OdooRestoreJob owns, and the Job gets it only by secretKeyRef. The played
// Job downloads the zip from the source's /web/database/backup (a stand-in
// for Odoo's database manager serving a zip made by the real backup code),
// and the backup ends up under the live name.
func TestRestoreJobFromALiveOdoo(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	inst := upgradeInstance(t, g, ns)
	db := inst.Status.Database.Name
	ctx := context.Background()
	dir := t.TempDir()
	backupSums, _ := restoreFixture(t, g, db, "file://"+dir+"/source.zip")
	zipBytes, err := os.ReadFile(filepath.Join(dir, "source.zip"))
	g.Expect(err).NotTo(HaveOccurred())
	const master = "source-Master-pw-1"
	odoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/web/database/backup" || r.ParseForm() != nil || r.PostForm.Get("name") != "prod" || r.PostForm.Get("master_pwd") != master {
			_, _ = w.Write([]byte(`<html><div>Database backup error: Access Denied</div></html>`))
			return
		}
		_, _ = w.Write(zipBytes)
	}))
	defer odoo.Close()

	g.Expect(k8s.Create(ctx, &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: "copy", Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Neutralize:      ptr.To(false),
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourceOdoo,
				Odoo: &odoov1alpha2.OdooSource{URL: odoo.URL, SourceDatabase: "prod", MasterPassword: master}},
		},
	})).To(Succeed())

	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, resources.JobKindRestoreBackup) }, eventually, poll).Should(Succeed())
	secret := &corev1.Secret{}
	get(g, ns, "copy-odoo-source", secret)
	g.Expect(string(secret.Data[resources.OdooSourcePasswordKey])).To(Equal(master))
	g.Expect(secret.OwnerReferences).To(ConsistOf(HaveField("Kind", "OdooRestoreJob")))
	c := job.Spec.Template.Spec.Containers[0]
	g.Expect(c.Command).To(ContainElements("restore-backup", "--from", odoo.URL))
	g.Expect(jobEnv(job, resources.EnvOdooSourceDatabase)).To(Equal("prod"))
	for _, e := range c.Env {
		g.Expect(e.Value).NotTo(ContainSubstring(master), "the password reaches the Job only by secretKeyRef")
		if e.Name == resources.EnvOdooMasterPassword {
			g.Expect(e.ValueFrom.SecretKeyRef.Name).To(Equal("copy-odoo-source"))
		}
	}

	root := t.TempDir()
	g.Expect(playDataJob(t, g, job, root)).To(Succeed())
	var fsJob *batchv1.Job
	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, "shop")
		fsJob = oneJob(g, ns, resources.JobKindRestoreFilestore)
	}, eventually, poll).Should(Succeed())
	g.Expect(playDataJob(t, g, fsJob, root)).To(Succeed())
	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, "shop")
		got := restoreJob(g, ns, "copy")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobCompleted), got.Status.Message)
		g.Expect(got.Status.SHA256).To(Equal(sha256Hex(zipBytes)))
		g.Expect(got.Status.FilestoreMoved).To(Equal(ptr.To(true)), "the source's filestore took the live place")
	}, eventually, poll).Should(Succeed())
	g.Expect(checksums(g, db)).To(Equal(backupSums), "the live name holds the source's database")
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
