package resources

import (
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// namespaceNameLabel is set by the API server on every namespace (1.21+), so
// a NetworkPolicy can select a namespace by its name.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// DNSNamespace holds the cluster DNS; Restricted egress allows port 53 to it.
const DNSNamespace = "kube-system"

// IsolationPolicyName is the NetworkPolicy that selects every pod of the
// instance (web, cron, Jobs).
func IsolationPolicyName(inst *odoov1alpha2.OdooInstance) string { return inst.Name + "-isolation" }

// WebPolicyName is the NetworkPolicy that opens the web pods to the
// ingress controller and to the instance's own pods.
func WebPolicyName(inst *odoov1alpha2.OdooInstance) string { return inst.Name + "-web" }

// DatabasePeer is where the instance's PostgreSQL cluster can be reached, as
// a NetworkPolicy sees it: by address, or by the pods behind an in-cluster
// Service. Nil when the host is a DNS name outside the cluster, which a
// NetworkPolicy cannot name (the administrator lists its address range as
// an egressDestination).
type DatabasePeer struct {
	Peer *networkingv1ac.NetworkPolicyPeerApplyConfiguration
	Port intstr.IntOrString
}

// NetworkInputs are what an instance's NetworkPolicies depend on.
type NetworkInputs struct {
	Instance *odoov1alpha2.OdooInstance
	// IngressNamespaces are the namespaces whose pods (the ingress
	// controller) may open connections to the web pods.
	IngressNamespaces []string
	// Egress is Restricted to limit outbound connections.
	Egress odoov1alpha2.EgressMode
	// Database is the PostgreSQL cluster's peer; nil when not expressible.
	Database *DatabasePeer
	// Destinations are the other allowed destinations of Restricted egress.
	Destinations []odoov1alpha2.EgressDestination
}

// instancePodSelector selects every pod the operator runs for the instance:
// web, cron and Jobs all carry these labels.
func instancePodSelector(inst *odoov1alpha2.OdooInstance) *metav1ac.LabelSelectorApplyConfiguration {
	return metav1ac.LabelSelector().WithMatchLabels(map[string]string{
		InstanceLabel: inst.Name, ManagedByLabel: ManagedByValue,
	})
}

// IsolationNetworkPolicy selects every pod of the instance and accepts no
// inbound connection (NetworkPolicies add up: the web policy opens the web
// pods). With Restricted egress it also allows only DNS, PostgreSQL and the
// listed destinations out.
func IsolationNetworkPolicy(in NetworkInputs) *networkingv1ac.NetworkPolicyApplyConfiguration {
	inst := in.Instance
	spec := networkingv1ac.NetworkPolicySpec().
		WithPodSelector(instancePodSelector(inst)).
		WithPolicyTypes(networkingv1.PolicyTypeIngress)
	if in.Egress == odoov1alpha2.EgressRestricted {
		spec.WithPolicyTypes(networkingv1.PolicyTypeEgress).WithEgress(egressRules(in)...)
	}
	return networkingv1ac.NetworkPolicy(IsolationPolicyName(inst), inst.Namespace).
		WithLabels(Labels(inst, "")).
		WithOwnerReferences(OwnerReference(inst)).
		WithSpec(spec)
}

func egressRules(in NetworkInputs) []*networkingv1ac.NetworkPolicyEgressRuleApplyConfiguration {
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dns := intstr.FromInt32(53)
	rules := []*networkingv1ac.NetworkPolicyEgressRuleApplyConfiguration{
		networkingv1ac.NetworkPolicyEgressRule().
			WithTo(networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(
				metav1ac.LabelSelector().WithMatchLabels(map[string]string{namespaceNameLabel: DNSNamespace}))).
			WithPorts(
				networkingv1ac.NetworkPolicyPort().WithProtocol(udp).WithPort(dns),
				networkingv1ac.NetworkPolicyPort().WithProtocol(tcp).WithPort(dns)),
	}
	if db := in.Database; db != nil {
		rules = append(rules, networkingv1ac.NetworkPolicyEgressRule().WithTo(db.Peer).
			WithPorts(networkingv1ac.NetworkPolicyPort().WithProtocol(tcp).WithPort(db.Port)))
	}
	for _, d := range in.Destinations {
		r := networkingv1ac.NetworkPolicyEgressRule().
			WithTo(networkingv1ac.NetworkPolicyPeer().WithIPBlock(networkingv1ac.IPBlock().WithCIDR(d.CIDR)))
		for _, p := range d.Ports {
			port := intstr.FromInt32(p)
			r.WithPorts(networkingv1ac.NetworkPolicyPort().WithProtocol(tcp).WithPort(port),
				networkingv1ac.NetworkPolicyPort().WithProtocol(udp).WithPort(port))
		}
		rules = append(rules, r)
	}
	return rules
}

// WebNetworkPolicy opens the web ports of the web pods to the ingress
// controller's namespaces and to the instance's own pods, nothing else.
func WebNetworkPolicy(in NetworkInputs) *networkingv1ac.NetworkPolicyApplyConfiguration {
	inst := in.Instance
	tcp := corev1.ProtocolTCP
	from := []*networkingv1ac.NetworkPolicyPeerApplyConfiguration{
		networkingv1ac.NetworkPolicyPeer().WithPodSelector(instancePodSelector(inst)),
	}
	if len(in.IngressNamespaces) > 0 {
		from = append(from, networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(
			metav1ac.LabelSelector().WithMatchExpressions(metav1ac.LabelSelectorRequirement().
				WithKey(namespaceNameLabel).WithOperator("In").WithValues(in.IngressNamespaces...))))
	}
	ports := []*networkingv1ac.NetworkPolicyPortApplyConfiguration{
		networkingv1ac.NetworkPolicyPort().WithProtocol(tcp).WithPort(intstr.FromInt32(HTTPPort)),
	}
	if inst.Workers() > 0 {
		ports = append(ports, networkingv1ac.NetworkPolicyPort().WithProtocol(tcp).WithPort(intstr.FromInt32(WebsocketPort)))
	}
	return networkingv1ac.NetworkPolicy(WebPolicyName(inst), inst.Namespace).
		WithLabels(Labels(inst, ComponentWeb)).
		WithOwnerReferences(OwnerReference(inst)).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(SelectorLabels(inst, ComponentWeb))).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(networkingv1ac.NetworkPolicyIngressRule().WithFrom(from...).WithPorts(ports...)))
}

// ServiceHost splits an in-cluster Service DNS name,
// <service>.<namespace>.svc[.<cluster domain>], into its parts.
func ServiceHost(host string) (namespace, name string, ok bool) {
	parts := strings.Split(strings.TrimSuffix(strings.ToLower(host), "."), ".")
	if len(parts) < 3 || parts[2] != "svc" || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[1], parts[0], true
}

// DatabasePeerFor is the peer of a PostgreSQL cluster at host:port. svc is
// the Service that ServiceHost(host) names, when the caller found it. A
// Service without a selector (an ExternalName or hand-made Endpoints) gives
// nil, like a DNS name outside the cluster.
func DatabasePeerFor(host string, port int32, svc *corev1.Service) *DatabasePeer {
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		cidr := ip.String() + "/32"
		if ip.To4() == nil {
			cidr = ip.String() + "/128"
		}
		return &DatabasePeer{Peer: networkingv1ac.NetworkPolicyPeer().WithIPBlock(networkingv1ac.IPBlock().WithCIDR(cidr)), Port: intstr.FromInt32(port)}
	}
	if svc == nil || len(svc.Spec.Selector) == 0 {
		return nil
	}
	// NetworkPolicies see the pod's port, after the Service's translation.
	target := intstr.FromInt32(port)
	for _, p := range svc.Spec.Ports {
		if p.Port == port && (p.Protocol == "" || p.Protocol == corev1.ProtocolTCP) {
			target = p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(port)
			}
		}
	}
	return &DatabasePeer{
		Peer: networkingv1ac.NetworkPolicyPeer().
			WithNamespaceSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{namespaceNameLabel: svc.Namespace})).
			WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(svc.Spec.Selector)),
		Port: target,
	}
}
