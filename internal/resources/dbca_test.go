package resources

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestDBCAReachesEveryPodThatConnects: with the cluster's CA, every pod
// that talks to the database (web, cron, the init, upgrade and neutralize
// Jobs, the data Jobs) mounts <name>-db-ca read-only and gets PGSSLROOTCERT
// pointing at it, after spec.extraEnv so a tenant's own value does not
// replace it; without a CA nothing changes.
func TestDBCAReachesEveryPodThatConnects(t *testing.T) {
	inst := newInstance(func(i *odoov1alpha2.OdooInstance) {
		i.Spec.ExtraEnv = []corev1.EnvVar{{Name: "PGSSLROOTCERT", Value: "/tmp/mine"}}
	})
	restore := &odoov1alpha2.OdooRestoreJob{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: testNamespace, UID: "r-uid"}}
	backup := backupOf("nightly", "b-uid", odoov1alpha2.BackupFormatZip,
		odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}})
	pods := func(ca bool) map[string]corev1.PodSpec {
		work := WorkloadInputs{Instance: inst, WebImage: "odoo:18.0", CronImage: "odoo:18.0", DBCA: ca}
		return map[string]corev1.PodSpec{
			"web":  convert[appsv1.Deployment](t, WebDeployment(work)).Spec.Template.Spec,
			"cron": convert[appsv1.Deployment](t, CronDeployment(work)).Spec.Template.Spec,
			"init": convert[batchv1.Job](t, InitJob(InitInputs{Instance: inst, Image: "odoo:18.0", Database: "prod_shop", DBCA: ca})).Spec.Template.Spec,
			"upgrade": convert[batchv1.Job](t, UpgradeJob(UpgradeInputs{Instance: inst, Database: "prod_shop", DBCA: ca,
				Upgrade: &odoov1alpha2.UpgradeStatus{JobName: "shop-upgrade-1", ImageAttempted: "odoo:18.1"}})).Spec.Template.Spec,
			"neutralize": convert[batchv1.Job](t, NeutralizeJob(NeutralizeInputs{Instance: inst, Restore: restore, Database: "x", DBCA: ca})).Spec.Template.Spec,
			"backup": convert[batchv1.Job](t, BackupJob(BackupJobInputs{Backup: backup, Location: NewBackupLocation(backup, inst),
				Data: DataJobInputs{Instance: inst, Host: "pg", Port: 5432, SSLMode: "verify-full", DBCA: ca}})).Spec.Template.Spec,
		}
	}
	for name, pod := range pods(true) {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(pod.Volumes).To(ContainElement(And(HaveField("Name", "db-ca"),
				HaveField("Secret.SecretName", "shop-db-ca"))))
			c := pod.Containers[0]
			g.Expect(c.VolumeMounts).To(ContainElement(And(HaveField("Name", "db-ca"), HaveField("MountPath", DBCAMountPath), HaveField("ReadOnly", true))))
			var last string
			for _, e := range c.Env {
				if e.Name == "PGSSLROOTCERT" {
					last = e.Value
				}
			}
			g.Expect(last).To(Equal(DBCAFile), "the operator's PGSSLROOTCERT is the one in force")
		})
	}
	for name, pod := range pods(false) {
		t.Run(name+" without CA", func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(pod.Volumes).NotTo(ContainElement(HaveField("Name", "db-ca")))
			g.Expect(pod.Containers[0].VolumeMounts).NotTo(ContainElement(HaveField("Name", "db-ca")))
		})
	}

	g := NewWithT(t)
	s := convert[corev1.Secret](t, DBCASecret(inst, "-----BEGIN CERTIFICATE-----\n"))
	g.Expect(s.Name).To(Equal("shop-db-ca"))
	g.Expect(s.Data).To(HaveKeyWithValue(DBCAKey, []byte("-----BEGIN CERTIFICATE-----\n")))
	g.Expect(s.OwnerReferences).To(ConsistOf(HaveField("UID", testUID)))
	// The backup Job gets the sslmode too.
	env := pods(true)["backup"].Containers[0].Env
	g.Expect(env).To(ContainElement(And(HaveField("Name", "PGSSLMODE"), HaveField("Value", "verify-full"))))
}
