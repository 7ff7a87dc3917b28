package resources

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func withWorkers(n int32) func(*odoov1alpha2.OdooInstance) {
	return func(i *odoov1alpha2.OdooInstance) { i.Spec.Workers = ptr.To(intstr.FromInt32(n)) }
}

func TestService(t *testing.T) {
	http := corev1.ServicePort{Name: "http", Port: 8069, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}
	websocket := corev1.ServicePort{Name: "websocket", Port: 8072, TargetPort: intstr.FromString("websocket"), Protocol: corev1.ProtocolTCP}
	tests := []struct {
		name   string
		mutate func(*odoov1alpha2.OdooInstance)
		want   []corev1.ServicePort
	}{
		{name: "threaded mode: HTTP only", want: []corev1.ServicePort{http}},
		{name: "workers 0: HTTP only", mutate: withWorkers(0), want: []corev1.ServicePort{http}},
		{name: "workers 4: HTTP and websocket", mutate: withWorkers(4), want: []corev1.ServicePort{http, websocket}},
		{name: "configOptions.workers: HTTP and websocket", mutate: func(i *odoov1alpha2.OdooInstance) {
			i.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"workers": "3"}
		}, want: []corev1.ServicePort{http, websocket}},
		{name: "web scaled to 0 keeps its ports", mutate: func(i *odoov1alpha2.OdooInstance) {
			i.Spec.Replicas = ptr.To[int32](0)
			i.Spec.Workers = ptr.To(intstr.FromString("2"))
		}, want: []corev1.ServicePort{http, websocket}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(tt.mutate)
			svc := convert[corev1.Service](t, Service(inst))
			g.Expect(svc.Name).To(Equal("shop"))
			g.Expect(svc.Namespace).To(Equal("prod"))
			g.Expect(svc.Labels).To(Equal(Labels(inst, ComponentWeb)))
			expectOwnedBy(g, svc.OwnerReferences, inst)
			g.Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
			g.Expect(svc.Spec.Selector).To(Equal(map[string]string{"app": "shop"}), "selects web pods only, never cron")
			g.Expect(svc.Spec.Ports).To(Equal(tt.want))

			// Every named target port exists on the web container.
			c := odooContainerOf(g, webDeployment(t, inst))
			for _, p := range svc.Spec.Ports {
				g.Expect(c.Ports).To(ContainElement(HaveField("Name", p.TargetPort.StrVal)), "target port %s", p.TargetPort.StrVal)
			}
		})
	}
}

func TestIngress(t *testing.T) {
	prefix := ptr.To(networkingv1.PathTypePrefix)
	path := func(p, port string) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, PathType: prefix, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "shop", Port: networkingv1.ServiceBackendPort{Name: port}},
		}}
	}
	rule := func(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
		return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths},
		}}
	}
	tests := []struct {
		name            string
		ingress         *odoov1alpha2.IngressSpec
		workers         int32
		wantNil         bool
		wantRules       []networkingv1.IngressRule
		wantTLS         []networkingv1.IngressTLS
		wantAnnotations map[string]string
		wantClass       *string
	}{
		{name: "no ingress", wantNil: true},
		{name: "no hosts", ingress: &odoov1alpha2.IngressSpec{Issuer: "letsencrypt", Class: "nginx"}, wantNil: true},
		{
			name:      "one host, threaded, no TLS, default class",
			ingress:   &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com"}},
			wantRules: []networkingv1.IngressRule{rule("shop.example.com", path("/", "http"))},
		},
		{
			name:    "two hosts in prefork mode: /websocket first",
			ingress: &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com", "www.shop.example.com"}},
			workers: 2,
			wantRules: []networkingv1.IngressRule{
				rule("shop.example.com", path("/websocket", "websocket"), path("/", "http")),
				rule("www.shop.example.com", path("/websocket", "websocket"), path("/", "http")),
			},
		},
		{
			name:            "issuer: cert-manager annotation and TLS for every host",
			ingress:         &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com", "*.shop.example.com"}, Issuer: "letsencrypt"},
			wantRules:       []networkingv1.IngressRule{rule("shop.example.com", path("/", "http")), rule("*.shop.example.com", path("/", "http"))},
			wantTLS:         []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com", "*.shop.example.com"}, SecretName: "shop-tls"}},
			wantAnnotations: map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"},
		},
		{
			name:      "class",
			ingress:   &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com"}, Class: "traefik"},
			wantRules: []networkingv1.IngressRule{rule("shop.example.com", path("/", "http"))},
			wantClass: ptr.To("traefik"),
		},
		{
			name:            "everything",
			ingress:         &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com"}, Issuer: "prod", Class: "nginx"},
			workers:         4,
			wantRules:       []networkingv1.IngressRule{rule("shop.example.com", path("/websocket", "websocket"), path("/", "http"))},
			wantTLS:         []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com"}, SecretName: "shop-tls"}},
			wantAnnotations: map[string]string{"cert-manager.io/cluster-issuer": "prod"},
			wantClass:       ptr.To("nginx"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(withWorkers(tt.workers), func(i *odoov1alpha2.OdooInstance) { i.Spec.Ingress = tt.ingress })
			ac := Ingress(inst)
			if tt.wantNil {
				g.Expect(ac).To(BeNil())
				return
			}
			g.Expect(ac).NotTo(BeNil())
			ing := convert[networkingv1.Ingress](t, ac)
			g.Expect(ing.Name).To(Equal("shop"))
			g.Expect(ing.Namespace).To(Equal("prod"))
			g.Expect(ing.Labels).To(Equal(Labels(inst, ComponentWeb)))
			expectOwnedBy(g, ing.OwnerReferences, inst)
			g.Expect(ing.Spec.Rules).To(Equal(tt.wantRules))
			g.Expect(ing.Spec.Rules).To(HaveLen(len(tt.ingress.Hosts)), "one rule per host")
			g.Expect(ing.Spec.TLS).To(Equal(tt.wantTLS))
			if tt.wantAnnotations == nil {
				g.Expect(ing.Annotations).NotTo(HaveKey("cert-manager.io/cluster-issuer"))
			} else {
				g.Expect(ing.Annotations).To(Equal(tt.wantAnnotations))
			}
			g.Expect(ing.Spec.IngressClassName).To(Equal(tt.wantClass))
			g.Expect(ing.Spec.DefaultBackend).To(BeNil())
		})
	}
}
