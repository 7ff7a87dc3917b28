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

// TestSchedulingReachesEveryPod: the instance's affinity, tolerations,
// nodeSelector, topology spread and priority class are in every pod it runs
// (web, cron, the Odoo Jobs, the data Jobs, the filestore copy); a topology
// spread constraint without a selector selects the pod's own labels, one with
// a selector keeps it; without the fields the pods have none.
func TestSchedulingReachesEveryPod(t *testing.T) {
	own := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}
	set := func(i *odoov1alpha2.OdooInstance) {
		i.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 10,
				PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname"}}},
		}}
		i.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
		i.Spec.NodeSelector = map[string]string{"pool": "odoo"}
		i.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{
			{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule},
			{MaxSkew: 2, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: own},
		}
		i.Spec.PriorityClassName = "odoo-high"
	}
	pods := func(inst *odoov1alpha2.OdooInstance) map[string]corev1.PodTemplateSpec {
		restore := &odoov1alpha2.OdooRestoreJob{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: testNamespace, UID: "r-uid"}}
		backup := backupOf("nightly", "b-uid", odoov1alpha2.BackupFormatZip,
			odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}})
		work := WorkloadInputs{Instance: inst, WebImage: "odoo:18.0", CronImage: "odoo:18.0"}
		data := DataJobInputs{Instance: inst, Host: "pg", Port: 5432}
		return map[string]corev1.PodTemplateSpec{
			"web":  convert[appsv1.Deployment](t, WebDeployment(work)).Spec.Template,
			"cron": convert[appsv1.Deployment](t, CronDeployment(work)).Spec.Template,
			"init": convert[batchv1.Job](t, InitJob(InitInputs{Instance: inst, Image: "odoo:18.0", Database: "prod_shop"})).Spec.Template,
			"upgrade": convert[batchv1.Job](t, UpgradeJob(UpgradeInputs{Instance: inst, Database: "prod_shop",
				Upgrade: &odoov1alpha2.UpgradeStatus{JobName: "shop-upgrade-1", ImageAttempted: "odoo:18.1"}})).Spec.Template,
			"neutralize": convert[batchv1.Job](t, NeutralizeJob(NeutralizeInputs{Instance: inst, Restore: restore, Database: "x"})).Spec.Template,
			"backup":     convert[batchv1.Job](t, BackupJob(BackupJobInputs{Backup: backup, Location: NewBackupLocation(backup, inst), Data: data})).Spec.Template,
			"restore filestore": convert[batchv1.Job](t, RestoreFilestoreJob(RestoreFilestoreJobInputs{Restore: restore, Target: "t", Kept: "k",
				FilestoreClaim: "shop-filestore-pvc", Data: data})).Spec.Template,
			"filestore copy": convert[batchv1.Job](t, FilestoreCopyJob(CopyInputs{Instance: inst, Name: "shop-fsmigrate-1", Image: "odoo:18.0",
				Source: "a", Target: "b"})).Spec.Template,
		}
	}
	inst := newInstance(set)
	for name, tpl := range pods(inst) {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			pod := tpl.Spec
			g.Expect(pod.Affinity).To(Equal(inst.Spec.Affinity))
			g.Expect(pod.Tolerations).To(Equal(inst.Spec.Tolerations))
			g.Expect(pod.NodeSelector).To(Equal(inst.Spec.NodeSelector))
			g.Expect(pod.PriorityClassName).To(Equal("odoo-high"))
			g.Expect(pod.TopologySpreadConstraints).To(HaveLen(2))
			zone := pod.TopologySpreadConstraints[0]
			g.Expect(zone.TopologyKey).To(Equal("topology.kubernetes.io/zone"))
			g.Expect(zone.WhenUnsatisfiable).To(Equal(corev1.DoNotSchedule))
			g.Expect(zone.LabelSelector).NotTo(BeNil())
			g.Expect(zone.LabelSelector.MatchLabels).NotTo(BeEmpty())
			for k, v := range zone.LabelSelector.MatchLabels {
				g.Expect(tpl.Labels).To(HaveKeyWithValue(k, v), "the default selector picks the pod's own labels")
			}
			g.Expect(pod.TopologySpreadConstraints[1].LabelSelector).To(Equal(own))
		})
	}
	g := NewWithT(t)
	web := pods(inst)["web"].Spec.TopologySpreadConstraints[0].LabelSelector.MatchLabels
	cron := pods(inst)["cron"].Spec.TopologySpreadConstraints[0].LabelSelector.MatchLabels
	g.Expect(web).To(Equal(SelectorLabels(inst, ComponentWeb)))
	g.Expect(cron).To(Equal(SelectorLabels(inst, ComponentCron)))
	g.Expect(inst.Spec.TopologySpreadConstraints[0].LabelSelector).To(BeNil(), "the instance is not modified")

	for name, tpl := range pods(newInstance()) {
		t.Run(name+" without scheduling", func(t *testing.T) {
			g := NewWithT(t)
			pod := tpl.Spec
			g.Expect(pod.Affinity).To(BeNil())
			g.Expect(pod.Tolerations).To(BeEmpty())
			g.Expect(pod.NodeSelector).To(BeEmpty())
			g.Expect(pod.TopologySpreadConstraints).To(BeEmpty())
			g.Expect(pod.PriorityClassName).To(BeEmpty())
		})
	}
}
