package resources

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestWebNetworkPolicy(t *testing.T) {
	tcp := ptr.To(corev1.ProtocolTCP)
	httpPort := networkingv1.NetworkPolicyPort{Protocol: tcp, Port: ptr.To(intstr.FromInt32(8069))}
	wsPort := networkingv1.NetworkPolicyPort{Protocol: tcp, Port: ptr.To(intstr.FromInt32(8072))}
	ownPods := networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
		InstanceLabel: "shop", ManagedByLabel: ManagedByValue}}}
	ingressNS := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: []string{"ingress-nginx", "traefik"}}}}}
	tests := []struct {
		name      string
		mutate    func(*odoov1alpha2.OdooInstance)
		ingressNS []string
		wantFrom  []networkingv1.NetworkPolicyPeer
		wantPorts []networkingv1.NetworkPolicyPort
	}{
		{name: "threaded: HTTP from the ingress namespaces and the instance's pods", ingressNS: []string{"ingress-nginx", "traefik"},
			wantFrom: []networkingv1.NetworkPolicyPeer{ownPods, ingressNS}, wantPorts: []networkingv1.NetworkPolicyPort{httpPort}},
		{name: "workers: websocket too", mutate: withWorkers(2), ingressNS: []string{"ingress-nginx", "traefik"},
			wantFrom: []networkingv1.NetworkPolicyPeer{ownPods, ingressNS}, wantPorts: []networkingv1.NetworkPolicyPort{httpPort, wsPort}},
		{name: "no ingress namespace: the instance's own pods only",
			wantFrom: []networkingv1.NetworkPolicyPeer{ownPods}, wantPorts: []networkingv1.NetworkPolicyPort{httpPort}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(tt.mutate)
			np := convert[networkingv1.NetworkPolicy](t, WebNetworkPolicy(NetworkInputs{Instance: inst, IngressNamespaces: tt.ingressNS}))
			g.Expect(np.Name).To(Equal("shop-web"))
			g.Expect(np.Namespace).To(Equal("prod"))
			expectOwnedBy(g, np.OwnerReferences, inst)
			g.Expect(np.Spec.PodSelector.MatchLabels).To(Equal(map[string]string{"app": "shop"}), "web pods only, never cron")
			g.Expect(np.Spec.PolicyTypes).To(Equal([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress}))
			g.Expect(np.Spec.Ingress).To(HaveLen(1))
			g.Expect(np.Spec.Ingress[0].From).To(Equal(tt.wantFrom))
			g.Expect(np.Spec.Ingress[0].Ports).To(Equal(tt.wantPorts))
		})
	}
}

func TestIsolationNetworkPolicy(t *testing.T) {
	tcp, udp := ptr.To(corev1.ProtocolTCP), ptr.To(corev1.ProtocolUDP)
	dns := networkingv1.NetworkPolicyEgressRule{
		To:    []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}}},
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: udp, Port: ptr.To(intstr.FromInt32(53))}, {Protocol: tcp, Port: ptr.To(intstr.FromInt32(53))}},
	}
	pgByIP := DatabasePeerFor("10.20.30.40", 5432, nil)
	smtp := odoov1alpha2.EgressDestination{CIDR: "203.0.113.25/32", Ports: []int32{587}}
	tests := []struct {
		name       string
		in         NetworkInputs
		wantTypes  []networkingv1.PolicyType
		wantEgress []networkingv1.NetworkPolicyEgressRule
	}{
		{name: "unrestricted egress: inbound closed, outbound untouched",
			in:        NetworkInputs{Egress: odoov1alpha2.EgressUnrestricted, Database: pgByIP},
			wantTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
		{name: "restricted egress: DNS, PostgreSQL and the destinations",
			in:        NetworkInputs{Egress: odoov1alpha2.EgressRestricted, Database: pgByIP, Destinations: []odoov1alpha2.EgressDestination{smtp, {CIDR: "198.51.100.0/24"}}},
			wantTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			wantEgress: []networkingv1.NetworkPolicyEgressRule{dns,
				{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.20.30.40/32"}}}, Ports: []networkingv1.NetworkPolicyPort{{Protocol: tcp, Port: ptr.To(intstr.FromInt32(5432))}}},
				{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.25/32"}}}, Ports: []networkingv1.NetworkPolicyPort{{Protocol: tcp, Port: ptr.To(intstr.FromInt32(587))}, {Protocol: udp, Port: ptr.To(intstr.FromInt32(587))}}},
				{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "198.51.100.0/24"}}}},
			}},
		{name: "restricted egress, database by a DNS name: DNS only until the administrator lists it",
			in:         NetworkInputs{Egress: odoov1alpha2.EgressRestricted},
			wantTypes:  []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			wantEgress: []networkingv1.NetworkPolicyEgressRule{dns}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance()
			tt.in.Instance = inst
			np := convert[networkingv1.NetworkPolicy](t, IsolationNetworkPolicy(tt.in))
			g.Expect(np.Name).To(Equal("shop-isolation"))
			expectOwnedBy(g, np.OwnerReferences, inst)
			g.Expect(np.Spec.PodSelector.MatchLabels).To(Equal(map[string]string{InstanceLabel: "shop", ManagedByLabel: ManagedByValue}), "web, cron and Job pods")
			g.Expect(np.Spec.PolicyTypes).To(Equal(tt.wantTypes))
			g.Expect(np.Spec.Ingress).To(BeEmpty(), "no inbound connection besides the web policy's")
			g.Expect(np.Spec.Egress).To(Equal(tt.wantEgress))
		})
	}
	// Every pod the operator runs for the instance carries the labels the
	// isolation policy selects.
	g := NewWithT(t)
	inst := newInstance()
	for _, labels := range []map[string]string{PodLabels(inst, ComponentWeb), PodLabels(inst, ComponentCron), Labels(inst, JobKindUpgrade)} {
		g.Expect(labels).To(HaveKeyWithValue(InstanceLabel, "shop"))
		g.Expect(labels).To(HaveKeyWithValue(ManagedByLabel, ManagedByValue))
	}
}

func TestDatabasePeerFor(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "databases", Name: "pg"}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"cnpg.io/cluster": "pg"},
		Ports:    []corev1.ServicePort{{Port: 5432, TargetPort: intstr.FromString("postgresql")}},
	}}
	tests := []struct {
		name     string
		host     string
		svc      *corev1.Service
		wantPeer *networkingv1.NetworkPolicyPeer
		wantPort intstr.IntOrString
	}{
		{name: "IPv4", host: "10.0.0.5", wantPeer: &networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.5/32"}}, wantPort: intstr.FromInt32(5432)},
		{name: "IPv6", host: "fd00::5", wantPeer: &networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "fd00::5/128"}}, wantPort: intstr.FromInt32(5432)},
		{name: "in-cluster Service: its pods and target port", host: "pg.databases.svc.cluster.local", svc: svc,
			wantPeer: &networkingv1.NetworkPolicyPeer{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "databases"}},
				PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"cnpg.io/cluster": "pg"}}},
			wantPort: intstr.FromString("postgresql")},
		{name: "a DNS name outside the cluster cannot be named", host: "pg.example.com"},
		{name: "a Service without selector cannot be named", host: "pg.databases.svc", svc: &corev1.Service{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got := DatabasePeerFor(tt.host, 5432, tt.svc)
			if tt.wantPeer == nil {
				g.Expect(got).To(BeNil())
				return
			}
			g.Expect(got).NotTo(BeNil())
			peer := convert[networkingv1.NetworkPolicyPeer](t, got.Peer)
			g.Expect(peer).To(Equal(tt.wantPeer))
			g.Expect(got.Port).To(Equal(tt.wantPort))
		})
	}
	g := NewWithT(t)
	ns, name, ok := ServiceHost("pg.databases.svc.cluster.local")
	g.Expect([]any{ns, name, ok}).To(Equal([]any{"databases", "pg", true}))
	_, _, ok = ServiceHost("pg.example.com")
	g.Expect(ok).To(BeFalse())
}
