package resources

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestHTTPRoute: with gatewayRef the instance gets an HTTPRoute (and no
// Ingress) attached to the named Gateway, for its hosts; /websocket goes to
// the gevent port only in prefork mode, like the Ingress.
func TestHTTPRoute(t *testing.T) {
	prefix := ptr.To(gatewayv1.PathMatchPathPrefix)
	rule := func(path string, port int32) gatewayv1.HTTPRouteRule {
		return gatewayv1.HTTPRouteRule{
			Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: prefix, Value: ptr.To(path)}}},
			BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{
				Group: ptr.To(gatewayv1.Group("")), Kind: ptr.To(gatewayv1.Kind("Service")), Name: "shop", Port: ptr.To(port),
			}}}},
		}
	}
	tests := []struct {
		name          string
		workers       int32
		gatewayNS     string
		wantNamespace string
		wantRules     []gatewayv1.HTTPRouteRule
	}{
		{"threaded, Gateway in the instance's namespace", 0, "", testNamespace, []gatewayv1.HTTPRouteRule{rule("/", 8069)}},
		{"prefork, shared Gateway elsewhere", 4, "gateways", "gateways", []gatewayv1.HTTPRouteRule{rule("/websocket", 8072), rule("/", 8069)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(func(i *odoov1alpha2.OdooInstance) {
				i.Spec.Workers = ptr.To(intstr.FromInt32(tt.workers))
				i.Spec.Ingress = &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com", "www.shop.example.com"},
					Issuer: "letsencrypt", GatewayRef: &odoov1alpha2.GatewayRef{Name: "public", Namespace: tt.gatewayNS}}
			})
			g.Expect(Ingress(inst)).To(BeNil(), "the HTTPRoute replaces the Ingress")
			route := convert[gatewayv1.HTTPRoute](t, HTTPRoute(inst))
			g.Expect(route.Name).To(Equal("shop"))
			g.Expect(route.Namespace).To(Equal(testNamespace))
			expectOwnedBy(g, route.OwnerReferences, inst)
			g.Expect(route.Spec.ParentRefs).To(Equal([]gatewayv1.ParentReference{{
				Group: ptr.To(gatewayv1.Group("gateway.networking.k8s.io")), Kind: ptr.To(gatewayv1.Kind("Gateway")),
				Namespace: ptr.To(gatewayv1.Namespace(tt.wantNamespace)), Name: "public",
			}}))
			g.Expect(route.Spec.Hostnames).To(Equal([]gatewayv1.Hostname{"shop.example.com", "www.shop.example.com"}))
			g.Expect(route.Spec.Rules).To(Equal(tt.wantRules))
		})
	}
	g := NewWithT(t)
	g.Expect(HTTPRoute(newInstance())).To(BeNil())
	g.Expect(HTTPRoute(newInstance(func(i *odoov1alpha2.OdooInstance) {
		i.Spec.Ingress = &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com"}}
	}))).To(BeNil(), "no gatewayRef: an Ingress")
}
