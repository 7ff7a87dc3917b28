package resources

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestNoCredentialOnOdooCommandLine: every container running Odoo reads
// odoo.conf itself (`odoo -c /etc/odoo/odoo.conf`), never through the
// official image's /entrypoint.sh, which copies db_password into the
// arguments (visible in /proc/<pid>/cmdline); and no credential the
// instance holds is in a command, an argument or a literal env value.
func TestNoCredentialOnOdooCommandLine(t *testing.T) {
	const master, dbPassword = "master-Secret-1", "db-Secret-2"
	inst := newInstance(func(i *odoov1alpha2.OdooInstance) {
		i.Spec.AdminPassword = master
		i.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"smtp_password": "smtp-Secret-3"}
	})
	conf := RenderOdooConf(ConfInputs{Instance: inst, AdminPassword: master,
		Database: DatabaseConnection{Host: "pg", Port: 5432, Name: "prod_shop", User: "u", Password: dbPassword}})
	hash := ConfHash(conf)
	in := WorkloadInputs{Instance: inst, WebImage: testImage, CronImage: testImage, ConfHash: hash}
	podOf := func(d *appsv1.Deployment) corev1.PodSpec { return d.Spec.Template.Spec }
	jobPod := func(j *batchv1.Job) corev1.PodSpec { return j.Spec.Template.Spec }
	pods := map[string]struct {
		pod     corev1.PodSpec
		command []string
	}{
		"web":  {podOf(convert[appsv1.Deployment](t, WebDeployment(in))), []string{"odoo", "-c", "/etc/odoo/odoo.conf"}},
		"cron": {podOf(convert[appsv1.Deployment](t, CronDeployment(in))), []string{"odoo", "-c", "/etc/odoo/odoo.conf", "--no-http"}},
		"init": {jobPod(convert[batchv1.Job](t, InitJob(InitInputs{Instance: inst, Image: testImage, Database: "prod_shop", ConfHash: hash}))),
			[]string{"odoo", "-c", "/etc/odoo/odoo.conf"}},
		"upgrade": {jobPod(convert[batchv1.Job](t, UpgradeJob(UpgradeInputs{Instance: inst, Database: "prod_shop", ConfHash: hash,
			Upgrade: &odoov1alpha2.UpgradeStatus{JobName: "shop-upgrade-1", ImageAttempted: "odoo:18.1"}}))),
			[]string{"odoo", "-c", "/etc/odoo/odoo.conf"}},
		"neutralize": {jobPod(convert[batchv1.Job](t, NeutralizeJob(NeutralizeInputs{Instance: inst, Restore: testRestore(), Database: "prod_shop_restore_1"}))),
			[]string{"odoo", "neutralize", "-c", "/etc/odoo/odoo.conf"}},
	}
	for name, tt := range pods {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			c := tt.pod.Containers[0]
			g.Expect(c.Command).To(Equal(tt.command))
			line := append(append([]string{}, c.Command...), c.Args...)
			for _, e := range c.Env {
				line = append(line, e.Value)
			}
			for _, word := range line {
				g.Expect(word).NotTo(ContainSubstring("entrypoint"))
				for _, secret := range []string{master, dbPassword, "smtp-Secret-3"} {
					g.Expect(strings.Contains(word, secret)).To(BeFalse(), "%q holds a credential", word)
				}
			}
			// The file named by -c is the conf Secret's mount.
			g.Expect(c.VolumeMounts).To(ContainElement(And(HaveField("Name", "odoo-conf"), HaveField("MountPath", ConfMountPath))))
		})
	}
}
