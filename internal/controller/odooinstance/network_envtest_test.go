package odooinstance_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestNetworkPoliciesFollowTheInstanceAndItsPolicy checks the NetworkPolicies
// of an instance in a namespace an OdooTenantPolicy restricts: web open to
// its own pods only (the suite names no ingress namespace), every pod closed
// otherwise, egress to DNS, the instance's PostgreSQL and the listed
// destinations; and that a policy tightened later is reported on the
// instance without stopping or deleting anything.
func TestNetworkPoliciesFollowTheInstanceAndItsPolicy(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "odoo-tenant-", Labels: map[string]string{"test.bemade.org/network": t.Name()}}}
	g.Expect(k8s.Create(ctx, nsObj)).To(Succeed())
	ns := nsObj.Name
	smtp := odoov1alpha2.EgressDestination{CIDR: "203.0.113.25/32", Ports: []int32{587}}
	policy := &odoov1alpha2.OdooTenantPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "network-" + ns},
		Spec: odoov1alpha2.OdooTenantPolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: nsObj.Labels},
			StorageClasses:    []string{"fast", "standard"},
			Network: &odoov1alpha2.TenantNetworkSpec{
				Egress: odoov1alpha2.EgressRestricted, EgressDestinations: []odoov1alpha2.EgressDestination{smtp},
			},
		},
	}
	g.Expect(k8s.Create(ctx, policy)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(ctx, policy) })

	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: odoov1alpha2.OdooInstanceSpec{
			Image: "odoo:18.0", AdminPassword: "x", Workers: ptr.To(intstr.FromInt32(2)),
			Filestore: odoov1alpha2.FilestoreSpec{StorageClass: "standard"},
		},
	}
	g.Expect(k8s.Create(ctx, inst)).To(Succeed())

	tcp, udp := ptr.To(corev1.ProtocolTCP), ptr.To(corev1.ProtocolUDP)
	g.Eventually(func(g Gomega) {
		web := &networkingv1.NetworkPolicy{}
		get(g, ns, "shop-web", web)
		g.Expect(web.OwnerReferences).To(ContainElement(HaveField("Name", "shop")))
		g.Expect(web.Spec.PodSelector.MatchLabels).To(Equal(map[string]string{"app": "shop"}))
		g.Expect(web.Spec.Ingress).To(HaveLen(1))
		g.Expect(web.Spec.Ingress[0].From).To(Equal([]networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
			"app.kubernetes.io/instance": "shop", "app.kubernetes.io/managed-by": "odoo-operator"}}}}))
		g.Expect(web.Spec.Ingress[0].Ports).To(Equal([]networkingv1.NetworkPolicyPort{
			{Protocol: tcp, Port: ptr.To(intstr.FromInt32(8069))}, {Protocol: tcp, Port: ptr.To(intstr.FromInt32(8072))}}))

		iso := &networkingv1.NetworkPolicy{}
		get(g, ns, "shop-isolation", iso)
		g.Expect(iso.OwnerReferences).To(ContainElement(HaveField("Name", "shop")))
		g.Expect(iso.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))
		g.Expect(iso.Spec.Ingress).To(BeEmpty())
		g.Expect(iso.Spec.Egress).To(HaveLen(3))
		g.Expect(iso.Spec.Egress[0].Ports).To(ConsistOf(
			networkingv1.NetworkPolicyPort{Protocol: udp, Port: ptr.To(intstr.FromInt32(53))},
			networkingv1.NetworkPolicyPort{Protocol: tcp, Port: ptr.To(intstr.FromInt32(53))}))
		// The suite's PostgreSQL, reached by the legacy connection's address.
		g.Expect(iso.Spec.Egress[1].To).To(Equal([]networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: pg.Host + "/32"}}}))
		g.Expect(iso.Spec.Egress[1].Ports).To(Equal([]networkingv1.NetworkPolicyPort{{Protocol: tcp, Port: ptr.To(intstr.FromInt32(int32(pg.Port)))}}))
		g.Expect(iso.Spec.Egress[2].To).To(Equal([]networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.25/32"}}}))

		got := &odoov1alpha2.OdooInstance{}
		get(g, ns, "shop", got)
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, odoov1alpha2.ConditionPolicyCompliant)).To(BeTrue())
	}).WithTimeout(eventually).WithPolling(poll).Should(Succeed())

	// The administrator tightens the policy: the instance is reported, and
	// keeps everything it has.
	g.Expect(k8s.Get(ctx, key("", policy.Name), policy)).To(Succeed())
	policy.Spec.StorageClasses = []string{"fast"}
	g.Expect(k8s.Update(ctx, policy)).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := &odoov1alpha2.OdooInstance{}
		get(g, ns, "shop", got)
		c := meta.FindStatusCondition(got.Status.Conditions, odoov1alpha2.ConditionPolicyCompliant)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonPolicyViolation))
		g.Expect(c.Message).To(ContainSubstring(`spec.filestore.storageClass: Unsupported value: "standard": supported values: "fast"`))
	}).WithTimeout(eventually).WithPolling(poll).Should(Succeed())
	for _, name := range []string{"shop", "shop-cron"} {
		get(g, ns, name, &appsv1.Deployment{})
	}
	get(g, ns, "shop-filestore-pvc", &corev1.PersistentVolumeClaim{})

	// Egress back to Unrestricted: the isolation policy stops limiting egress.
	g.Expect(k8s.Get(ctx, key("", policy.Name), policy)).To(Succeed())
	policy.Spec.Network = nil
	g.Expect(k8s.Update(ctx, policy)).To(Succeed())
	g.Eventually(func(g Gomega) {
		iso := &networkingv1.NetworkPolicy{}
		get(g, ns, "shop-isolation", iso)
		g.Expect(iso.Spec.PolicyTypes).To(Equal([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress}))
		g.Expect(iso.Spec.Egress).To(BeEmpty())
	}).WithTimeout(eventually).WithPolling(poll).Should(Succeed())
}
