package tenantpolicy

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func policy(name string, selector map[string]string, spec odoov1alpha2.OdooTenantPolicySpec) odoov1alpha2.OdooTenantPolicy {
	spec.NamespaceSelector = metav1.LabelSelector{MatchLabels: selector}
	return odoov1alpha2.OdooTenantPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}

func TestFor(t *testing.T) {
	tenants := map[string]string{"tier": "tenant"}
	restricted := func(dests ...odoov1alpha2.EgressDestination) *odoov1alpha2.TenantNetworkSpec {
		return &odoov1alpha2.TenantNetworkSpec{Egress: odoov1alpha2.EgressRestricted, EgressDestinations: dests}
	}
	smtp := odoov1alpha2.EgressDestination{CIDR: "203.0.113.25/32", Ports: []int32{587}}
	s3 := odoov1alpha2.EgressDestination{CIDR: "198.51.100.0/24", Ports: []int32{443}}
	tests := []struct {
		name     string
		policies []odoov1alpha2.OdooTenantPolicy
		labels   map[string]string
		want     Allowed
		wantErr  string
	}{
		{name: "no policy: unrestricted", labels: tenants,
			want: Allowed{Egress: odoov1alpha2.EgressUnrestricted}},
		{name: "a policy for other namespaces does not apply", labels: tenants,
			policies: []odoov1alpha2.OdooTenantPolicy{policy("other", map[string]string{"tier": "internal"}, odoov1alpha2.OdooTenantPolicySpec{DatabaseClusters: []string{"a"}})},
			want:     Allowed{Egress: odoov1alpha2.EgressUnrestricted}},
		{name: "an empty selector selects every namespace", labels: nil,
			policies: []odoov1alpha2.OdooTenantPolicy{policy("all", nil, odoov1alpha2.OdooTenantPolicySpec{DatabaseClusters: []string{"a"}})},
			want:     Allowed{Policies: []string{"all"}, DatabaseClusters: []string{"a"}, Egress: odoov1alpha2.EgressUnrestricted}},
		{name: "several policies intersect; unset lists do not narrow", labels: tenants,
			policies: []odoov1alpha2.OdooTenantPolicy{
				policy("b", tenants, odoov1alpha2.OdooTenantPolicySpec{DatabaseClusters: []string{"shared-2", "shared-1"}, Issuers: []string{"le"}}),
				policy("a", nil, odoov1alpha2.OdooTenantPolicySpec{DatabaseClusters: []string{"shared-1", "internal"}}),
			},
			want: Allowed{Policies: []string{"a", "b"}, DatabaseClusters: []string{"shared-1"}, Issuers: []string{"le"}, Egress: odoov1alpha2.EgressUnrestricted}},
		{name: "an empty list allows nothing, and stays so", labels: tenants,
			policies: []odoov1alpha2.OdooTenantPolicy{
				policy("a", nil, odoov1alpha2.OdooTenantPolicySpec{NotificationHosts: []string{}}),
				policy("b", nil, odoov1alpha2.OdooTenantPolicySpec{NotificationHosts: []string{"hooks.example.com"}}),
			},
			want: Allowed{Policies: []string{"a", "b"}, NotificationHosts: []string{}, Egress: odoov1alpha2.EgressUnrestricted}},
		{name: "Restricted wins and destinations intersect", labels: tenants,
			policies: []odoov1alpha2.OdooTenantPolicy{
				policy("a", nil, odoov1alpha2.OdooTenantPolicySpec{Network: restricted(smtp, s3)}),
				policy("b", nil, odoov1alpha2.OdooTenantPolicySpec{Network: restricted(s3)}),
				policy("c", nil, odoov1alpha2.OdooTenantPolicySpec{Network: &odoov1alpha2.TenantNetworkSpec{Egress: odoov1alpha2.EgressUnrestricted, EgressDestinations: []odoov1alpha2.EgressDestination{smtp}}}),
			},
			want: Allowed{Policies: []string{"a", "b", "c"}, Egress: odoov1alpha2.EgressRestricted, EgressDestinations: []odoov1alpha2.EgressDestination{s3}}},
		{name: "Restricted without destinations allows none", labels: tenants,
			policies: []odoov1alpha2.OdooTenantPolicy{policy("a", nil, odoov1alpha2.OdooTenantPolicySpec{Network: restricted()})},
			want:     Allowed{Policies: []string{"a"}, Egress: odoov1alpha2.EgressRestricted, EgressDestinations: []odoov1alpha2.EgressDestination{}}},
		{name: "a broken selector is reported and selects nothing; the others apply", labels: tenants,
			policies: []odoov1alpha2.OdooTenantPolicy{
				{ObjectMeta: metav1.ObjectMeta{Name: "broken"}, Spec: odoov1alpha2.OdooTenantPolicySpec{
					NamespaceSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Bogus"}}},
					DatabaseClusters:  []string{}}},
				policy("a", nil, odoov1alpha2.OdooTenantPolicySpec{DatabaseClusters: []string{"x"}}),
			},
			want:    Allowed{Policies: []string{"a"}, DatabaseClusters: []string{"x"}, Egress: odoov1alpha2.EgressUnrestricted},
			wantErr: "OdooTenantPolicy broken: spec.namespaceSelector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := For(tt.policies, tt.labels)
			if tt.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.wantErr)))
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestCheck(t *testing.T) {
	allowed := Allowed{
		Policies:          []string{"tenants"},
		DatabaseClusters:  []string{"shared-1", "shared-2"},
		Issuers:           []string{"letsencrypt"},
		IngressClasses:    []string{"nginx"},
		StorageClasses:    []string{"fast"},
		NotificationHosts: []string{"hooks.example.com", "*.tenant.example.net"},
	}
	inst := func(mut func(*odoov1alpha2.OdooInstanceSpec)) *odoov1alpha2.OdooInstance {
		i := &odoov1alpha2.OdooInstance{}
		i.Spec.Database.Cluster = "shared-1"
		mut(&i.Spec)
		return i
	}
	tests := []struct {
		name     string
		allowed  Allowed
		instance *odoov1alpha2.OdooInstance
		resolved string
		wantErrs []string
	}{
		{name: "everything allowed", allowed: allowed, instance: inst(func(s *odoov1alpha2.OdooInstanceSpec) {
			s.Ingress = &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"a.example.com"}, Issuer: "letsencrypt", Class: "nginx"}
			s.Filestore.StorageClass = "fast"
			s.Webhook = &odoov1alpha2.WebhookSpec{URL: "https://x.tenant.example.net/hook"}
		})},
		{name: "empty values (cluster defaults, no TLS, no webhook) are allowed", allowed: allowed,
			instance: inst(func(s *odoov1alpha2.OdooInstanceSpec) {
				s.Ingress = &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"a.example.com"}}
			})},
		{name: "an unlisted cluster names the allowed ones and the policy", allowed: allowed,
			instance: inst(func(s *odoov1alpha2.OdooInstanceSpec) { s.Database.Cluster = "admin-only" }),
			wantErrs: []string{`spec.database.cluster: Unsupported value: "admin-only": supported values: "shared-1", "shared-2" (OdooTenantPolicy tenants)`}},
		{name: "an empty cluster is checked as the default it resolves to", allowed: allowed,
			instance: inst(func(s *odoov1alpha2.OdooInstanceSpec) { s.Database.Cluster = "" }), resolved: "internal",
			wantErrs: []string{`spec.database.cluster: Unsupported value: "internal": supported values: "shared-1", "shared-2"`}},
		{name: "every refused field is named", allowed: allowed, instance: inst(func(s *odoov1alpha2.OdooInstanceSpec) {
			s.Ingress = &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"a.example.com"}, Issuer: "internal-ca", Class: "internal"}
			s.Filestore.StorageClass = "local-nvme"
			s.Webhook = &odoov1alpha2.WebhookSpec{URL: "http://10.0.0.1:6443/api"}
		}), wantErrs: []string{
			`spec.ingress.issuer: Unsupported value: "internal-ca": supported values: "letsencrypt"`,
			`spec.ingress.class: Unsupported value: "internal": supported values: "nginx"`,
			`spec.filestore.storageClass: Unsupported value: "local-nvme": supported values: "fast"`,
			`spec.webhook.url: Unsupported value: "10.0.0.1": host not allowed; supported values: "hooks.example.com", "*.tenant.example.net"`,
		}},
		{name: "a wildcard does not match the bare suffix nor a look-alike", allowed: allowed, instance: inst(func(s *odoov1alpha2.OdooInstanceSpec) {
			s.Webhook = &odoov1alpha2.WebhookSpec{URL: "https://tenant.example.net/"}
		}), wantErrs: []string{`Unsupported value: "tenant.example.net": host not allowed`}},
		{name: "a look-alike host is refused", allowed: allowed, instance: inst(func(s *odoov1alpha2.OdooInstanceSpec) {
			s.Webhook = &odoov1alpha2.WebhookSpec{URL: "https://hooks.example.com.evil.io/"}
		}), wantErrs: []string{`Unsupported value: "hooks.example.com.evil.io": host not allowed`}},
		{name: "an empty list refuses every value", allowed: Allowed{Policies: []string{"p"}, NotificationHosts: []string{}},
			instance: inst(func(s *odoov1alpha2.OdooInstanceSpec) {
				s.Webhook = &odoov1alpha2.WebhookSpec{URL: "https://hooks.example.com/?token=s3cret"}
			}),
			wantErrs: []string{`spec.webhook.url: Unsupported value: "hooks.example.com": host not allowed; none allowed in this namespace (OdooTenantPolicy p)`}},
		{name: "no policy: nothing is checked", allowed: Allowed{},
			instance: inst(func(s *odoov1alpha2.OdooInstanceSpec) { s.Database.Cluster = "anything" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			errs := tt.allowed.Check(tt.instance, tt.resolved)
			g.Expect(errs).To(HaveLen(len(tt.wantErrs)), "%v", errs)
			for i, want := range tt.wantErrs {
				g.Expect(errs[i].Error()).To(ContainSubstring(want))
				g.Expect(errs[i].Error()).NotTo(ContainSubstring("s3cret"), "a URL's token is never echoed")
			}
		})
	}
}

func TestStagingMailCatcher(t *testing.T) {
	tenants := map[string]string{"tier": "tenant"}
	catcher := func(name string, sel map[string]string, c string) odoov1alpha2.OdooTenantPolicy {
		return policy(name, sel, odoov1alpha2.OdooTenantPolicySpec{StagingMailCatcher: c})
	}
	for _, tc := range []struct {
		name     string
		policies []odoov1alpha2.OdooTenantPolicy
		want     string
		wantErr  string
	}{
		{name: "no policy: the operator's flag applies"},
		{name: "a policy without a catcher", policies: []odoov1alpha2.OdooTenantPolicy{catcher("p", tenants, "")}},
		{name: "one policy's catcher", policies: []odoov1alpha2.OdooTenantPolicy{catcher("p", tenants, "mailpit.mail.svc:1025"), catcher("q", tenants, "")},
			want: "mailpit.mail.svc:1025"},
		{name: "two policies agreeing", policies: []odoov1alpha2.OdooTenantPolicy{catcher("p", tenants, "mailpit.mail.svc:1025"), catcher("q", nil, "mailpit.mail.svc:1025")},
			want: "mailpit.mail.svc:1025"},
		{name: "a policy for other namespaces does not count",
			policies: []odoov1alpha2.OdooTenantPolicy{catcher("p", tenants, "mailpit.mail.svc:1025"), catcher("q", map[string]string{"tier": "internal"}, "other:25")},
			want:     "mailpit.mail.svc:1025"},
		{name: "two policies disagreeing: refused, naming both",
			policies: []odoov1alpha2.OdooTenantPolicy{catcher("zeta", tenants, "b.mail.svc:25"), catcher("alpha", tenants, "a.mail.svc:1025"), catcher("beta", nil, "b.mail.svc:25")},
			wantErr:  "different spec.stagingMailCatcher values: a.mail.svc:1025 (OdooTenantPolicy alpha), b.mail.svc:25 (OdooTenantPolicy beta, zeta)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := For(tc.policies, tenants)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.StagingMailCatcher()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("%q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
