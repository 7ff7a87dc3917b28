//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestTenantPolicyRefusesAndIsolates labels a tenant namespace, installs an
// OdooTenantPolicy for it, and checks with kubectl that an instance asking for
// what the policy does not allow is refused with the fields and the allowed
// values named, while an allowed one runs with its NetworkPolicies.
func TestTenantPolicyRefusesAndIsolates(t *testing.T) {
	ns := framework.Namespace(t, "e2e-tenant-policy")
	framework.Kubectl(t, "label", "namespace", ns, "e2e.bemade.org/tenant="+ns)
	policy := "e2e-" + ns
	framework.Apply(t, "", fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooTenantPolicy
metadata:
  name: %s
spec:
  namespaceSelector:
    matchLabels:
      e2e.bemade.org/tenant: %s
  databaseClusters: [sandbox]
  issuers: [letsencrypt]
  ingressClasses: [nginx]
  notificationHosts: []
  network:
    egress: Restricted
    egressDestinations:
    - cidr: 203.0.113.25/32
      ports: [587]
`, policy, ns))
	t.Cleanup(func() { _, _ = framework.KubectlE("delete", "odootenantpolicy", policy, "--ignore-not-found") })

	// The tenant asks for the administrators' cluster, an internal class and
	// issuer, and notifications to the kube-apiserver.
	apiserver := os.Getenv("SANDBOX_APISERVER_PORT")
	if apiserver == "" {
		apiserver = "6443"
	}
	bad := fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: greedy
spec:
  image: odoo-sim:18.0
  adminPassword: x
  database: {cluster: admin-only}
  ingress: {hosts: [greedy.example.com], class: internal, issuer: internal-ca}
  webhook: {url: "https://127.0.0.1:%s/api/v1/secrets"}
`, apiserver)
	// The webhook's cache may see the new policy a moment after its creation.
	var refusal error
	framework.Eventually(t, wait, "the policy refuses the instance", func() error {
		_, refusal = framework.KubectlStdin(bad, "apply", "-n", ns, "-f", "-")
		if refusal == nil {
			return fmt.Errorf("accepted")
		}
		if !strings.Contains(refusal.Error(), "OdooTenantPolicy") {
			return refusal
		}
		return nil
	})
	for _, want := range []string{
		`spec.database.cluster: Unsupported value: "admin-only": supported values: "sandbox"`,
		`spec.ingress.class: Unsupported value: "internal": supported values: "nginx"`,
		`spec.ingress.issuer: Unsupported value: "internal-ca": supported values: "letsencrypt"`,
		`spec.webhook.url: Unsupported value: "127.0.0.1": host not allowed; none allowed in this namespace (OdooTenantPolicy ` + policy + `)`,
	} {
		if !strings.Contains(refusal.Error(), want) {
			t.Errorf("refusal does not say %q:\n%v", want, refusal)
		}
	}
	if out, err := framework.KubectlE("get", "-n", ns, "odooinstances.v1alpha2.bemade.org", "greedy"); err == nil {
		t.Fatalf("the refused instance exists:\n%s", out)
	}

	// What the policy allows runs, isolated.
	framework.Apply(t, ns, `apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: modest
spec:
  image: odoo-sim:18.0
  adminPassword: x
  workers: 2
  ingress: {hosts: [modest.example.com], class: nginx, issuer: letsencrypt}
`)
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odooinstances.v1alpha2.bemade.org/modest", "--timeout=2m")
	if got := jsonpath(t, ns, "odooinstances.v1alpha2.bemade.org/modest", `{.status.conditions[?(@.type=="PolicyCompliant")].status}`); got != "True" {
		t.Errorf("PolicyCompliant = %q, want True", got)
	}
	framework.Eventually(t, wait, "the NetworkPolicies", func() error {
		web, err := framework.KubectlE("get", "-n", ns, "networkpolicy/modest-web", "-o",
			`jsonpath={.spec.podSelector.matchLabels.app} {.spec.ingress[0].from[1].namespaceSelector.matchExpressions[0].values} {.spec.ingress[0].ports[*].port}`)
		if err != nil {
			return err
		}
		if want := `modest ["ingress-nginx"] 8069 8072`; web != want {
			return fmt.Errorf("web policy %q, want %q", web, want)
		}
		iso, err := framework.KubectlE("get", "-n", ns, "networkpolicy/modest-isolation", "-o",
			`jsonpath={.spec.policyTypes} {.spec.ingress} {.spec.egress[1].to[0].ipBlock.cidr} {.spec.egress[2].to[0].ipBlock.cidr}`)
		if err != nil {
			return err
		}
		if want := `["Ingress","Egress"]  127.0.0.1/32 203.0.113.25/32`; iso != want {
			return fmt.Errorf("isolation policy %q, want %q", iso, want)
		}
		return nil
	})
}
