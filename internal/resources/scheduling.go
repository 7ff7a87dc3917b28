package resources

import (
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// withScheduling applies the instance's scheduling fields (affinity,
// tolerations, nodeSelector, topology spread, priority class) to one of its
// pods. Every pod of the instance gets them, web, cron and Jobs alike: the
// Jobs mount the same filestore and reach the same database, so they belong
// on the nodes the instance was given. podLabels are the pod's own selector
// labels, used as the labelSelector of a topology spread constraint that has
// none (one without a selector counts no pod and spreads nothing).
func withScheduling(pod *corev1ac.PodSpecApplyConfiguration, inst *odoov1alpha2.OdooInstance, podLabels map[string]string) {
	s := &inst.Spec
	if s.Affinity != nil {
		pod.WithAffinity(viaJSON(s.Affinity, &corev1ac.AffinityApplyConfiguration{}))
	}
	for i := range s.Tolerations {
		pod.WithTolerations(viaJSON(&s.Tolerations[i], &corev1ac.TolerationApplyConfiguration{}))
	}
	if len(s.NodeSelector) > 0 {
		pod.WithNodeSelector(s.NodeSelector)
	}
	for _, c := range s.TopologySpreadConstraints {
		c = *c.DeepCopy()
		if c.LabelSelector == nil {
			c.LabelSelector = &metav1.LabelSelector{MatchLabels: maps.Clone(podLabels)}
		}
		pod.WithTopologySpreadConstraints(viaJSON(&c, &corev1ac.TopologySpreadConstraintApplyConfiguration{}))
	}
	if s.PriorityClassName != "" {
		pod.WithPriorityClassName(s.PriorityClassName)
	}
}
