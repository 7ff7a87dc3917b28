package odooinstance_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestSuspendPausesReconciliation: with bemade.org/suspend=true the operator
// records Suspended=True for the spec it saw and changes nothing else (a new
// replicas count and a new image do not reach the Deployment, no upgrade
// starts); once the annotation is removed both are applied and the condition
// goes.
func TestSuspendPausesReconciliation(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	inst := pneumacStaging(ns)
	converge(t, g, ns, inst)
	web := &appsv1.Deployment{}

	setSuspend := func(value string) {
		get(g, ns, inst.Name, inst)
		patch := client.MergeFrom(inst.DeepCopy())
		if value == "" {
			delete(inst.Annotations, odoov1alpha2.AnnotationSuspend)
		} else {
			if inst.Annotations == nil {
				inst.Annotations = map[string]string{}
			}
			inst.Annotations[odoov1alpha2.AnnotationSuspend] = value
		}
		g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	}
	setSuspend("true")
	get(g, ns, inst.Name, inst)
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Replicas = ptr.To[int32](5)
	inst.Spec.Image = "registry.bemade.org/pneumac/odoo:next"
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	gen := inst.Generation

	// The condition's observedGeneration says the operator saw the new spec.
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionSuspended)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonSuspended))
		g.Expect(c.ObservedGeneration).To(Equal(gen))
	}, eventually, poll).Should(Succeed())
	// A Deployment status change wakes the reconcile again: still nothing.
	markAvailable(g, ns, inst.Name)
	g.Consistently(func(g Gomega) {
		get(g, ns, inst.Name, web)
		g.Expect(*web.Spec.Replicas).To(Equal(int32(3)))
		g.Expect(container(web).Image).To(Equal("registry.bemade.org/pneumac/odoo:latest"))
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Upgrade).To(BeNil(), "no upgrade starts while suspended")
	}, "2s", poll).Should(Succeed())

	setSuspend("")
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, web)
		g.Expect(*web.Spec.Replicas).To(Equal(int32(5)))
		get(g, ns, inst.Name, inst)
		g.Expect(meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionSuspended)).To(BeNil())
		g.Expect(inst.Status.Upgrade).NotTo(BeNil(), "the image change starts its upgrade once resumed")
	}, eventually, poll).Should(Succeed())
}

// TestSuspendDoesNotSuspendNetworkIsolation performs the attack a tenant
// could try: suspend its own instance, then delete the NetworkPolicies the
// operator imposes. The operator still re-creates both while the instance
// stays suspended (its Deployment untouched).
func TestSuspendDoesNotSuspendNetworkIsolation(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	inst := pneumacStaging(ns)
	converge(t, g, ns, inst)
	iso, web := inst.Name+"-isolation", inst.Name+"-web"
	get(g, ns, iso, &networkingv1.NetworkPolicy{})
	get(g, ns, web, &networkingv1.NetworkPolicy{})

	get(g, ns, inst.Name, inst)
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Annotations = map[string]string{odoov1alpha2.AnnotationSuspend: "true"}
	inst.Spec.Replicas = ptr.To[int32](7)
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionSuspended)).To(BeTrue())
	}, eventually, poll).Should(Succeed())

	// The attack.
	for _, name := range []string{iso, web} {
		g.Expect(k8s.Delete(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}})).To(Succeed())
	}

	g.Eventually(func(g Gomega) {
		got := &networkingv1.NetworkPolicy{}
		get(g, ns, iso, got)
		g.Expect(got.Spec.Ingress).To(BeEmpty(), "the isolation policy admits nothing")
		get(g, ns, web, &networkingv1.NetworkPolicy{})
	}, eventually, poll).Should(Succeed())
	d := &appsv1.Deployment{}
	get(g, ns, inst.Name, d)
	g.Expect(*d.Spec.Replicas).To(Equal(int32(3)), "the instance itself stays suspended")
}
