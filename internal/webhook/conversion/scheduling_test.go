package conversion

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	odoov1 "github.com/odoo-operator/odoo-operator/api/v1"
	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestLegacySchedulingConverts: the reference operator's affinity and
// tolerations (opaque JSON in the legacy schemas) become the hub's typed
// fields, which the operator renders into the pods, and come back as written.
func TestLegacySchedulingConverts(t *testing.T) {
	affinity := `{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"pool","operator":"In","values":["odoo"]}]}]}}}`
	tolerations := []string{
		`{"effect":"NoSchedule","key":"dedicated","operator":"Equal","value":"odoo"}`,
		`{"effect":"NoExecute","key":"node.kubernetes.io/unreachable","operator":"Exists","tolerationSeconds":30}`,
	}
	wantAffinity := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "pool", Operator: corev1.NodeSelectorOpIn, Values: []string{"odoo"}}},
		}}},
	}}
	wantTolerations := []corev1.Toleration{
		{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "odoo", Effect: corev1.TaintEffectNoSchedule},
		{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](30)},
	}
	raws := make([]runtime.RawExtension, len(tolerations))
	for i, s := range tolerations {
		raws[i] = runtime.RawExtension{Raw: []byte(s)}
	}

	for _, tt := range []struct {
		name  string
		spoke runtime.Object
	}{
		{"v1alpha1", &odoov1alpha1.OdooInstance{Spec: odoov1alpha1.OdooInstanceSpec{Image: "odoo:18.0",
			Affinity: &runtime.RawExtension{Raw: []byte(affinity)}, Tolerations: raws}}},
		{"v1", &odoov1.OdooInstance{Spec: odoov1.OdooInstanceSpec{Image: "odoo:18.0",
			Affinity: &runtime.RawExtension{Raw: []byte(affinity)}, Tolerations: raws}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			hub := toHub(t, tt.spoke)
			expectSemanticEqual(g, hub.Spec.Affinity, wantAffinity)
			expectSemanticEqual(g, hub.Spec.Tolerations, wantTolerations)

			// Read back through the spoke: the same JSON.
			var back runtime.Object
			switch tt.spoke.(type) {
			case *odoov1alpha1.OdooInstance:
				b := toV1alpha1(t, hub)
				g.Expect(string(b.Spec.Affinity.Raw)).To(MatchJSON(affinity))
				g.Expect(b.Spec.Tolerations).To(HaveLen(2))
				for i := range tolerations {
					g.Expect(string(b.Spec.Tolerations[i].Raw)).To(MatchJSON(tolerations[i]))
				}
				back = b
			case *odoov1.OdooInstance:
				b := toV1(t, hub)
				g.Expect(string(b.Spec.Affinity.Raw)).To(MatchJSON(affinity))
				g.Expect(b.Spec.Tolerations).To(HaveLen(2))
				back = b
			}
			g.Expect(back).NotTo(BeNil())

			// Edited through the hub (a new toleration), read through the
			// spoke: the spoke sees the edit.
			hub.Spec.Tolerations = append(hub.Spec.Tolerations, corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpExists})
			b := toV1alpha1(t, hub)
			g.Expect(b.Spec.Tolerations).To(HaveLen(3))
			g.Expect(string(b.Spec.Tolerations[2].Raw)).To(MatchJSON(`{"key":"gpu","operator":"Exists"}`))
		})
	}
}

// TestLegacySchedulingThatDoesNotDecode: a legacy value the hub cannot read
// is not applied (no partial toleration list), and still reads back as written.
func TestLegacySchedulingThatDoesNotDecode(t *testing.T) {
	g := NewWithT(t)
	good := runtime.RawExtension{Raw: []byte(`{"key":"dedicated","operator":"Exists"}`)}
	bad := runtime.RawExtension{Raw: []byte(`{"key":"other","tolerationSeconds":"soon"}`)}
	spoke := &odoov1alpha1.OdooInstance{Spec: odoov1alpha1.OdooInstanceSpec{Image: "odoo:18.0",
		Affinity:    &runtime.RawExtension{Raw: []byte(`{"nodeAffinity":"everywhere"}`)},
		Tolerations: []runtime.RawExtension{good, bad}}}
	hub := toHub(t, spoke)
	g.Expect(hub.Spec.Affinity).To(BeNil())
	g.Expect(hub.Spec.Tolerations).To(BeNil())

	back := toV1alpha1(t, hub)
	g.Expect(string(back.Spec.Affinity.Raw)).To(MatchJSON(`{"nodeAffinity":"everywhere"}`))
	g.Expect(back.Spec.Tolerations).To(HaveLen(2))
	g.Expect(string(back.Spec.Tolerations[1].Raw)).To(MatchJSON(string(bad.Raw)))
}

// TestHubOnlySchedulingSurvivesSpoke: nodeSelector, topology spread and the
// priority class, which the legacy schemas lack, survive a write through the
// spoke.
func TestHubOnlySchedulingSurvivesSpoke(t *testing.T) {
	g := NewWithT(t)
	hub := &odoov1alpha2.OdooInstance{Spec: odoov1alpha2.OdooInstanceSpec{Image: "odoo:18.0",
		NodeSelector:      map[string]string{"pool": "odoo"},
		PriorityClassName: "odoo-high",
		TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.ScheduleAnyway,
		}},
	}}
	spoke := toV1(t, hub)
	spoke.Spec.Image = "odoo:18.1" // an edit through the spoke
	back := toHub(t, spoke)
	g.Expect(back.Spec.Image).To(Equal("odoo:18.1"))
	g.Expect(back.Spec.NodeSelector).To(Equal(hub.Spec.NodeSelector))
	g.Expect(back.Spec.PriorityClassName).To(Equal("odoo-high"))
	expectSemanticEqual(g, back.Spec.TopologySpreadConstraints, hub.Spec.TopologySpreadConstraints)
}

// TestLegacyGatewayRefConverts: the reference operator's ingress.gatewayRef
// is the hub's, both ways; one without a name (the legacy schema allows it
// here) is not applied and reads back as written.
func TestLegacyGatewayRefConverts(t *testing.T) {
	g := NewWithT(t)
	spoke := &odoov1alpha1.OdooInstance{Spec: odoov1alpha1.OdooInstanceSpec{Image: "odoo:18.0",
		Ingress: &odoov1alpha1.IngressSpec{Hosts: []string{"shop.example.com"},
			GatewayRef: &odoov1alpha1.GatewayRef{Name: "public", Namespace: "gateways"}}}}
	hub := toHub(t, spoke)
	g.Expect(hub.Spec.Ingress.GatewayRef).To(Equal(&odoov1alpha2.GatewayRef{Name: "public", Namespace: "gateways"}))
	back := toV1alpha1(t, hub)
	g.Expect(back.Spec.Ingress.GatewayRef).To(Equal(spoke.Spec.Ingress.GatewayRef))

	spoke.Spec.Ingress.GatewayRef = &odoov1alpha1.GatewayRef{Namespace: "gateways"}
	hub = toHub(t, spoke)
	g.Expect(hub.Spec.Ingress.GatewayRef).To(BeNil())
	g.Expect(toV1alpha1(t, hub).Spec.Ingress.GatewayRef).To(Equal(spoke.Spec.Ingress.GatewayRef))
}

// TestLegacyReadOnlySQLAccessConverts: the reference operator's
// readOnlySqlAccess is the hub's, both ways, as written (no default added).
func TestLegacyReadOnlySQLAccessConverts(t *testing.T) {
	g := NewWithT(t)
	spoke := &odoov1.OdooInstance{Spec: odoov1.OdooInstanceSpec{Image: "odoo:18.0",
		ReadOnlySQLAccess: &odoov1.ReadOnlySQLAccessSpec{Enabled: ptr.To(true), ConnectionLimit: ptr.To[int32](8)}}}
	hub := toHub(t, spoke)
	g.Expect(hub.Spec.ReadOnlySQLAccess).To(Equal(&odoov1alpha2.ReadOnlySQLAccessSpec{Enabled: ptr.To(true), ConnectionLimit: ptr.To[int32](8)}))
	g.Expect(toV1(t, hub).Spec.ReadOnlySQLAccess).To(Equal(spoke.Spec.ReadOnlySQLAccess))
}
