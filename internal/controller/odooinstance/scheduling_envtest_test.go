package odooinstance_test

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// schedulingSpec sets every scheduling field an instance has.
func schedulingSpec() odoov1alpha2.OdooInstanceSpec {
	return odoov1alpha2.OdooInstanceSpec{
		Image: oldImage, AdminPassword: "pw", Replicas: ptr.To[int32](2),
		Cron: odoov1alpha2.CronSpec{Replicas: ptr.To[int32](1)},
		Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "pool", Operator: corev1.NodeSelectorOpIn, Values: []string{"odoo"}}},
			}}},
		}},
		Tolerations: []corev1.Toleration{
			{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "odoo", Effect: corev1.TaintEffectNoSchedule},
		},
		NodeSelector: map[string]string{"disk": "ssd"},
		TopologySpreadConstraints: []corev1.TopologySpreadConstraint{
			{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.ScheduleAnyway},
		},
		PriorityClassName: "odoo-high",
	}
}

// TestSchedulingFieldsRenderIntoEveryPod: affinity, tolerations,
// nodeSelector, topology spread and the priority class of the instance are
// in the pod template of the web and cron Deployments and of every Job the
// instance runs (init, the upgrade's restore point backup, upgrade), each
// topology spread constraint selecting the pods of its own tier.
func TestSchedulingFieldsRenderIntoEveryPod(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	spec := schedulingSpec()
	inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns}, Spec: spec}

	templates := map[string]*corev1.PodTemplateSpec{}
	g.Expect(k8s.Create(t.Context(), inst)).To(Succeed())
	g.Eventually(func(g Gomega) {
		templates["init Job"] = &oneJob(g, ns, resources.JobKindInit).Spec.Template
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) { completeInit(g, ns, "shop") }, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, "shop")
		markAvailable(g, ns, "shop-cron")
		get(g, ns, "shop", inst)
		g.Expect(inst.Status.Database).NotTo(BeNil())
		g.Expect(inst.Status.Database.Initialized).To(BeTrue())
	}, eventually, poll).Should(Succeed())
	moduleSQL(g, inst.Status.Database.Name, `CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL, state varchar, latest_version varchar);
		INSERT INTO ir_module_module (name, state, latest_version) VALUES ('base', 'installed', '18.0.1.3')`)
	for _, name := range []string{"shop", "shop-cron"} {
		g.Eventually(func(g Gomega) {
			d := &appsv1.Deployment{}
			get(g, ns, name, d)
			templates[name+" Deployment"] = &d.Spec.Template
		}, eventually, poll).Should(Succeed())
	}
	// The upgrade's restore point (a data Job) and the upgrade Job.
	job := runUpgradeToJob(g, ns)
	templates["upgrade Job"] = &job.Spec.Template
	_, dump := restorePoint(g, ns)
	templates["restore point backup Job"] = &dump.Spec.Template

	tier := map[string]string{
		"shop Deployment": resources.ComponentWeb, "shop-cron Deployment": resources.ComponentCron,
	}
	for name, tpl := range templates {
		t.Run(name, func(t *testing.T) {
			pod := tpl.Spec
			for _, tt := range []struct {
				field string
				check func(g Gomega)
			}{
				{"affinity", func(g Gomega) { g.Expect(pod.Affinity).To(Equal(spec.Affinity)) }},
				{"tolerations", func(g Gomega) { g.Expect(pod.Tolerations).To(Equal(spec.Tolerations)) }},
				{"nodeSelector", func(g Gomega) { g.Expect(pod.NodeSelector).To(Equal(spec.NodeSelector)) }},
				{"priorityClassName", func(g Gomega) { g.Expect(pod.PriorityClassName).To(Equal("odoo-high")) }},
				{"topologySpreadConstraints", func(g Gomega) {
					g.Expect(pod.TopologySpreadConstraints).To(HaveLen(1))
					c := pod.TopologySpreadConstraints[0]
					g.Expect(c.TopologyKey).To(Equal("topology.kubernetes.io/zone"))
					g.Expect(c.MaxSkew).To(Equal(int32(1)))
					g.Expect(c.WhenUnsatisfiable).To(Equal(corev1.ScheduleAnyway))
					g.Expect(c.LabelSelector).NotTo(BeNil())
					// The selector picks the pod's own tier: it matches the
					// template's labels.
					g.Expect(c.LabelSelector.MatchLabels).NotTo(BeEmpty())
					for k, v := range c.LabelSelector.MatchLabels {
						g.Expect(tpl.Labels).To(HaveKeyWithValue(k, v))
					}
					if component, ok := tier[name]; ok {
						g.Expect(c.LabelSelector.MatchLabels).To(Equal(resources.SelectorLabels(inst, component)))
					}
				}},
			} {
				t.Run(tt.field, func(t *testing.T) { tt.check(NewWithT(t)) })
			}
		})
	}
}
