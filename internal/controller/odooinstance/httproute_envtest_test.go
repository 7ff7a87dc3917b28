package odooinstance_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/testutil/operatorenv"
)

// TestGatewayRefRendersHTTPRoute: an instance with spec.ingress.gatewayRef
// in a cluster without the Gateway API runs (Deployments, Service) and says
// Degraded, reason GatewayAPIMissing, naming the field and the fix; once the
// Gateway API CRDs (from the sigs.k8s.io/gateway-api module) are installed,
// it gets an HTTPRoute on the named Gateway for its hosts, /websocket to the
// gevent port, and no Ingress; without gatewayRef the route goes and the
// Ingress comes back.
func TestGatewayRefRendersHTTPRoute(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: odoov1alpha2.OdooInstanceSpec{
			Image: "odoo:18.0", AdminPassword: "x", Workers: ptr.To(intstr.FromInt32(2)),
			Ingress: &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com"},
				GatewayRef: &odoov1alpha2.GatewayRef{Name: "public", Namespace: "gateways"}},
		},
	}
	g.Expect(k8s.Create(ctx, inst)).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := &odoov1alpha2.OdooInstance{}
		get(g, ns, "shop", got)
		c := meta.FindStatusCondition(got.Status.Conditions, odoov1alpha2.ConditionDegraded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonGatewayAPIMissing))
		g.Expect(c.Message).To(ContainSubstring("spec.ingress.gatewayRef"))
		g.Expect(c.Message).To(ContainSubstring("install the Gateway API CRDs"))
		get(g, ns, "shop", &appsv1.Deployment{})
		get(g, ns, "shop", &corev1.Service{})
	}, eventually, poll).Should(Succeed())
	g.Expect(apierrors.IsNotFound(k8s.Get(ctx, key(ns, "shop"), &networkingv1.Ingress{}))).To(BeTrue(), "gatewayRef: no Ingress")

	g.Expect(operatorenv.InstallGatewayAPI(ctx)).To(Succeed())
	// The operator was started without the Gateway API, so it does not watch
	// routes; the instance's own reconciles (the Degraded retry, or any
	// change) create it.
	touch(g, ns, "shop", 1)
	g.Eventually(func(g Gomega) {
		route := &gatewayv1.HTTPRoute{}
		get(g, ns, "shop", route)
		g.Expect(route.OwnerReferences).To(ContainElement(HaveField("Name", "shop")))
		g.Expect(route.Spec.ParentRefs).To(HaveLen(1))
		g.Expect(route.Spec.ParentRefs[0].Name).To(Equal(gatewayv1.ObjectName("public")))
		g.Expect(route.Spec.ParentRefs[0].Namespace).To(Equal(ptr.To(gatewayv1.Namespace("gateways"))))
		g.Expect(route.Spec.Hostnames).To(Equal([]gatewayv1.Hostname{"shop.example.com"}))
		g.Expect(route.Spec.Rules).To(HaveLen(2))
		g.Expect(*route.Spec.Rules[0].Matches[0].Path.Value).To(Equal("/websocket"))
		g.Expect(*route.Spec.Rules[0].BackendRefs[0].Port).To(Equal(gatewayv1.PortNumber(8072)))
		g.Expect(*route.Spec.Rules[1].Matches[0].Path.Value).To(Equal("/"))
		g.Expect(*route.Spec.Rules[1].BackendRefs[0].Port).To(Equal(gatewayv1.PortNumber(8069)))
		g.Expect(string(route.Spec.Rules[1].BackendRefs[0].Name)).To(Equal("shop"))

		got := &odoov1alpha2.OdooInstance{}
		get(g, ns, "shop", got)
		c := meta.FindStatusCondition(got.Status.Conditions, odoov1alpha2.ConditionDegraded)
		g.Expect(c == nil || c.Reason != odoov1alpha2.ReasonGatewayAPIMissing).To(BeTrue(), "the GatewayAPIMissing problem is gone")
	}, eventually, poll).Should(Succeed())

	// Back to an Ingress.
	got := &odoov1alpha2.OdooInstance{}
	get(g, ns, "shop", got)
	patch := client.MergeFrom(got.DeepCopy())
	got.Spec.Ingress.GatewayRef = nil
	g.Expect(k8s.Patch(ctx, got, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, "shop", &networkingv1.Ingress{})
		g.Expect(apierrors.IsNotFound(k8s.Get(ctx, key(ns, "shop"), &gatewayv1.HTTPRoute{}))).To(BeTrue(), "the route is deleted")
	}, eventually, poll).Should(Succeed())
}
