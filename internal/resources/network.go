package resources

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// AnnotationClusterIssuer asks cert-manager's ingress-shim for a certificate.
const AnnotationClusterIssuer = "cert-manager.io/cluster-issuer"

// Service fronts the web pods: HTTP always, websocket only in prefork mode,
// where Odoo serves it from a separate gevent process on 8072.
func Service(inst *odoov1alpha2.OdooInstance) *corev1ac.ServiceApplyConfiguration {
	ports := []*corev1ac.ServicePortApplyConfiguration{
		corev1ac.ServicePort().WithName("http").WithPort(HTTPPort).
			WithTargetPort(intstr.FromString("http")).WithProtocol(corev1.ProtocolTCP),
	}
	if inst.Workers() > 0 {
		ports = append(ports, corev1ac.ServicePort().WithName("websocket").WithPort(WebsocketPort).
			WithTargetPort(intstr.FromString("websocket")).WithProtocol(corev1.ProtocolTCP))
	}
	return corev1ac.Service(WebName(inst), inst.Namespace).
		WithLabels(Labels(inst, ComponentWeb)).
		WithOwnerReferences(OwnerReference(inst)).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(SelectorLabels(inst, ComponentWeb)).
			WithPorts(ports...))
}

// Ingress routes every host to the Service; /websocket goes to the gevent port
// only when workers > 0, because in threaded mode 8069 serves websockets
// itself and nothing listens on 8072. It returns nil when spec.ingress is
// unset or names a Gateway (an HTTPRoute serves the hosts then).
func Ingress(inst *odoov1alpha2.OdooInstance) *networkingv1ac.IngressApplyConfiguration {
	spec := inst.Spec.Ingress
	if spec == nil || len(spec.Hosts) == 0 || spec.GatewayRef != nil {
		return nil
	}
	pathType := networkingv1.PathTypePrefix
	backend := func(port string) *networkingv1ac.IngressBackendApplyConfiguration {
		return networkingv1ac.IngressBackend().WithService(networkingv1ac.IngressServiceBackend().
			WithName(WebName(inst)).WithPort(networkingv1ac.ServiceBackendPort().WithName(port)))
	}
	hosts := make([]string, 0, len(spec.Hosts))
	rules := make([]*networkingv1ac.IngressRuleApplyConfiguration, 0, len(spec.Hosts))
	for _, h := range spec.Hosts {
		paths := []*networkingv1ac.HTTPIngressPathApplyConfiguration{}
		if inst.Workers() > 0 {
			paths = append(paths, networkingv1ac.HTTPIngressPath().WithPath("/websocket").WithPathType(pathType).WithBackend(backend("websocket")))
		}
		paths = append(paths, networkingv1ac.HTTPIngressPath().WithPath("/").WithPathType(pathType).WithBackend(backend("http")))
		rules = append(rules, networkingv1ac.IngressRule().WithHost(string(h)).
			WithHTTP(networkingv1ac.HTTPIngressRuleValue().WithPaths(paths...)))
		hosts = append(hosts, string(h))
	}
	ingressSpec := networkingv1ac.IngressSpec().WithRules(rules...)
	if spec.Class != "" {
		ingressSpec.WithIngressClassName(spec.Class)
	}
	ing := networkingv1ac.Ingress(WebName(inst), inst.Namespace).
		WithLabels(Labels(inst, ComponentWeb)).
		WithOwnerReferences(OwnerReference(inst))
	if spec.Issuer != "" {
		ing.WithAnnotations(map[string]string{AnnotationClusterIssuer: spec.Issuer})
		ingressSpec.WithTLS(networkingv1ac.IngressTLS().WithHosts(hosts...).WithSecretName(TLSSecretName(inst)))
	}
	return ing.WithSpec(ingressSpec)
}
