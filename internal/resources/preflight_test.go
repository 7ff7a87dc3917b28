package resources

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestPreflightJobHoldsNoCredential: the preflight lists manifests with the
// new image and never needs the database, so its Job mounts no Secret, no
// claim and no token, and its environment has no reference to a Secret,
// not even through the instance's extraEnv/extraEnvFrom.
func TestPreflightJobHoldsNoCredential(t *testing.T) {
	g := NewWithT(t)
	inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "tenant"}}
	inst.Spec.Image = "odoo:18.0-v1"
	inst.Spec.ImagePullSecret = "registry-credentials"
	inst.Spec.ExtraEnv = []corev1.EnvVar{{Name: "API_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "api"}, Key: "key"}}}}
	inst.Spec.ExtraEnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "all"}}}}
	inst.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"addons_path": "/mnt/extra-addons,/opt/addons"}
	st := &odoov1alpha2.UpgradeStatus{ImageAttempted: "odoo:18.0-v2", FromImage: "odoo:18.0-v1"}
	job := PreflightJob(PreflightInputs{Instance: inst, Upgrade: st, Installed: []string{"web", "base"}})

	g.Expect(*job.Name).To(Equal(PreflightJobName(inst, st)))
	spec := job.Spec.Template.Spec
	g.Expect(*job.Spec.BackoffLimit).To(BeZero())
	g.Expect(*job.Spec.ActiveDeadlineSeconds).To(BeEquivalentTo(PreflightDeadlineSeconds))
	g.Expect(*spec.AutomountServiceAccountToken).To(BeFalse())
	g.Expect(spec.ImagePullSecrets).To(HaveLen(1), "the new image may be private")
	for _, v := range spec.Volumes {
		g.Expect(v.Secret).To(BeNil(), "volume %s", *v.Name)
		g.Expect(v.PersistentVolumeClaim).To(BeNil(), "volume %s", *v.Name)
	}
	g.Expect(spec.Containers).To(HaveLen(1))
	c := spec.Containers[0]
	g.Expect(*c.Image).To(Equal("odoo:18.0-v2"))
	g.Expect(c.EnvFrom).To(BeEmpty())
	env := map[string]string{}
	for _, e := range c.Env {
		g.Expect(e.ValueFrom).To(BeNil(), "env %s", *e.Name)
		env[*e.Name] = *e.Value
	}
	g.Expect(env).To(Equal(map[string]string{PreflightModulesEnv: "base,web", preflightAddonsEnv: "/mnt/extra-addons,/opt/addons"}))
	script := strings.Join(c.Command, " ")
	g.Expect(script).To(ContainSubstring("odoo shell -c /tmp/odoo-operator-preflight.conf --no-http"))
	g.Expect(script).NotTo(ContainSubstring(" -d "), "no database")
	g.Expect(script).NotTo(ContainSubstring(ConfPath), "not the instance's odoo.conf, which holds the database password")
}
