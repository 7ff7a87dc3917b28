package v1alpha2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// OdooTenantPolicySpec says what the OdooInstances of the namespaces it
// selects may use. Each allowed list has three states: unset (the policy
// does not restrict that kind), a list (only those values), and an empty
// list `[]` (none: the field must stay empty). When several policies select
// a namespace, a value must be allowed by every one of them (intersection).
//
// The lists have no omitempty, on purpose: a Go client must send an empty
// list as `[]` ("none"), never drop it (which would mean "anything"). A nil
// list is sent as null, which the API server drops.
type OdooTenantPolicySpec struct {
	// namespaceSelector selects the namespaces this policy applies to, by
	// their labels. An empty selector ({}) selects every namespace.
	// +required
	NamespaceSelector metav1.LabelSelector `json:"namespaceSelector"`

	// databaseClusters are the entries of the clusters Secret that
	// spec.database.cluster may name. An empty spec.database.cluster is
	// checked as the name of the default cluster it resolves to.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	// +listType=set
	DatabaseClusters []string `json:"databaseClusters"`

	// issuers are the cert-manager ClusterIssuers spec.ingress.issuer may
	// name. An empty issuer (no TLS configuration) is always allowed.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	Issuers []string `json:"issuers"`

	// ingressClasses are the IngressClasses spec.ingress.class may name. An
	// empty class (the cluster's default, which the administrator chooses) is
	// always allowed.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	IngressClasses []string `json:"ingressClasses"`

	// storageClasses are the StorageClasses spec.filestore.storageClass may
	// name. An empty class (the cluster's default, which the administrator
	// chooses) is always allowed.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	StorageClasses []string `json:"storageClasses"`

	// notificationHosts are the host names spec.webhook.url may point at. A
	// leading "*." matches any subdomain (not the name itself), e.g.
	// "*.hooks.example.com". No webhook is always allowed.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +listType=set
	NotificationHosts []string `json:"notificationHosts"`

	// network sets the NetworkPolicies of the selected namespaces' instances.
	// +optional
	Network *TenantNetworkSpec `json:"network,omitempty"`

	// stagingMailCatcher is host:port of an SMTP server that keeps what it
	// receives (Mailpit, MailHog), e.g. mailpit.mail.svc:1025. A restore or
	// staging refresh into a Staging instance of the selected namespaces
	// points the neutralized copy's mail server at it (no credentials, no
	// TLS), so staging's mail can be read there and reaches nobody. It
	// overrides the operator's --staging-mail-catcher for these namespaces;
	// when several policies select a namespace and set different catchers,
	// its staging restores are refused, naming the policies, until they
	// agree. Unset: the operator's flag applies (and without it, staging
	// sends no mail at all).
	// +optional
	// +kubebuilder:validation:MaxLength=262
	// +kubebuilder:validation:XValidation:rule="self.matches('^([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?|\\\\[[0-9A-Fa-f:.]+\\\\]):([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$')",message="must be host:port of an SMTP server, e.g. mailpit.mail.svc:1025 or [fd00::5]:2525 (a DNS name or address, and a TCP port from 1 to 65535)"
	StagingMailCatcher string `json:"stagingMailCatcher,omitempty"`
}

// EgressMode says which outbound connections an instance's pods may open.
// +kubebuilder:validation:Enum=Unrestricted;Restricted
type EgressMode string

const (
	// EgressUnrestricted leaves outbound connections open (Odoo calls mail
	// servers, payment providers and Odoo's own services).
	EgressUnrestricted EgressMode = "Unrestricted"
	// EgressRestricted allows DNS, the instance's PostgreSQL cluster and the
	// listed egressDestinations only.
	EgressRestricted EgressMode = "Restricted"
)

// TenantNetworkSpec restricts the network of the selected instances.
type TenantNetworkSpec struct {
	// egress is Unrestricted (the default) or Restricted: DNS, the
	// instance's PostgreSQL cluster and egressDestinations only. When several
	// policies select a namespace, Restricted wins.
	// +optional
	Egress EgressMode `json:"egress,omitempty"`

	// egressDestinations are the other destinations (SMTP relays, HTTP APIs,
	// S3 endpoints, a PostgreSQL server known by a DNS name) that Restricted
	// egress allows. NetworkPolicies match addresses, not names: give the
	// destination's address range. With several Restricted policies, only
	// the destinations every one of them lists are allowed.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	EgressDestinations []EgressDestination `json:"egressDestinations,omitempty"`
}

// EgressDestination is an address range and, optionally, its ports.
type EgressDestination struct {
	// cidr is the address range, e.g. 203.0.113.25/32.
	// +required
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="must be a CIDR such as 203.0.113.25/32"
	CIDR string `json:"cidr"`

	// ports are the ports allowed (TCP and UDP); empty allows every port.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:Minimum=1
	// +kubebuilder:validation:items:Maximum=65535
	// +listType=set
	Ports []int32 `json:"ports,omitempty"`
}

// OdooTenantPolicy is the administrator's word on what the OdooInstances of
// some namespaces may use: PostgreSQL clusters, certificate issuers,
// IngressClasses, StorageClasses, notification hosts and outbound network,
// and where staging's mail goes. Anything else is refused at admission with the allowed values named.
// Namespaces no policy selects are not restricted (see docs/security.md).
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=tenantpolicy,categories=odoo-all
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OdooTenantPolicy struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// spec is the policy.
	// +required
	Spec OdooTenantPolicySpec `json:"spec"`
}

// OdooTenantPolicyList is a list of OdooTenantPolicy.
//
// +kubebuilder:object:root=true
type OdooTenantPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the policies.
	Items []OdooTenantPolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, &OdooTenantPolicy{}, &OdooTenantPolicyList{})
		return nil
	})
}

// The condition an OdooTenantPolicy puts on the instances it selects.
const (
	// ConditionPolicyCompliant is True when the instance uses only what the
	// OdooTenantPolicies of its namespace allow, False (reason
	// PolicyViolation) when a policy tightened after the instance was
	// admitted no longer allows something it uses. Nothing is stopped or
	// deleted: the administrator decides. Absent when no policy selects the
	// namespace.
	ConditionPolicyCompliant = "PolicyCompliant"
	// ReasonPolicyViolation means a policy no longer allows a spec value.
	ReasonPolicyViolation = "PolicyViolation"
	// ReasonPolicyAllowed means every policy allows the spec.
	ReasonPolicyAllowed = "Allowed"
	// EventPolicyViolation is emitted when an instance starts violating a policy.
	EventPolicyViolation = "PolicyViolation"
)
