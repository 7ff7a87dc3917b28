package restorejob

import (
	"strings"
	"testing"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/egress"
)

func TestEgressRefusal(t *testing.T) {
	odoo := func(url string) *odoov1alpha2.OdooRestoreJob {
		return &odoov1alpha2.OdooRestoreJob{Spec: odoov1alpha2.OdooRestoreJobSpec{Source: odoov1alpha2.RestoreSource{
			Type: odoov1alpha2.RestoreSourceOdoo, Odoo: &odoov1alpha2.OdooSource{URL: url, SourceDatabase: "prod"}}}}
	}
	sandbox, err := egress.Parse([]string{"127.0.0.1/32:31000-31999"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	httpOK := sandbox
	httpOK.AllowHTTPCredentials = true
	for _, tc := range []struct {
		name string
		rj   *odoov1alpha2.OdooRestoreJob
		p    egress.Policy
		want string // "" = accepted
	}{
		{"public https", odoo("https://erp.example.com"), egress.Policy{}, ""},
		{"plain http with a master password", odoo("http://erp.example.com"), egress.Policy{}, "source.odoo.url: use https"},
		{"plain http, allowed", odoo("http://erp.example.com"), egress.Policy{AllowHTTPCredentials: true}, ""},
		{"the kube-apiserver", odoo("https://127.0.0.1:6443"), sandbox, "source.odoo.url: 127.0.0.1:6443 is a loopback address"},
		{"metadata service", odoo("https://169.254.169.254"), egress.Policy{}, "link-local"},
		{"allowed sandbox port", odoo("http://127.0.0.1:31001"), httpOK, ""},
		{"not an odoo source", &odoov1alpha2.OdooRestoreJob{}, egress.Policy{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := egressRefusal(tc.rj, tc.p)
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("egressRefusal = %q, want %q", got, tc.want)
			}
		})
	}
	// The Job gets the policy, by plain environment (nothing secret).
	loc := withEgress(Location(odoo("http://127.0.0.1:31001")), odoo("http://127.0.0.1:31001"), httpOK)
	env := map[string]string{}
	for _, e := range loc.Env {
		if e.Value != nil {
			env[*e.Name] = *e.Value
		}
	}
	if env[egress.EnvAllow] != "127.0.0.1/32:31000-31999" || env[egress.EnvAllowHTTPCredentials] != "true" {
		t.Errorf("the Job's environment %v lacks the policy", env)
	}
}
