//go:build helm

package helm

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/odoo-operator/odoo-operator/internal/manager"
)

// notSetByChart are the operator's flags the chart does not render, and why.
// A new operator flag fails TestDeploymentFlags until the chart sets it (a
// value in values.yaml) or it is listed here.
var notSetByChart = map[string]string{
	"webhook-host":           "binds all addresses in a pod",
	"webhook-url":            "for an operator run outside the cluster; the chart uses the Service",
	"webhook-cert-dir":       "the default path is where the chart mounts the certificates",
	"operator-namespace":     "POD_NAMESPACE from the downward API",
	"db-admin-password-file": "rendered only with legacyDatabase.passwordSecretRef (options case)",
	"kubeconfig":             "in-cluster configuration",
	"zap-devel":              "extraArgs",
	"zap-encoder":            "extraArgs (options case)",
	"zap-stacktrace-level":   "extraArgs",
	"zap-time-encoding":      "extraArgs",
	"otlp-endpoint":          "extraArgs (tracing is off by default; docs/monitoring.md)",
	"modules-interval":       "extraArgs (the default 10m fits; docs/modules.md)",
	"upgrade-preflight":      "extraArgs (on by default; docs/modules.md)",
	"preflight-pull-timeout": "extraArgs (the default 2m fits; docs/modules.md)",
	"staging-mail-catcher":   "extraArgs (none by default; docs/staging.md)",
	"pprof-bind-address":     "extraArgs (off by default; a heap profile when measuring, docs/performance.md)",
}

// deploymentArgs are the manager container's args.
func deploymentArgs(t *testing.T, docs []doc) []string {
	t.Helper()
	containers, _ := field(find(t, docs, "Deployment", "").obj, "spec", "template", "spec", "containers").([]any)
	if len(containers) != 1 {
		t.Fatalf("%d containers, want the manager only", len(containers))
	}
	var args []string
	for _, a := range field(containers[0], "args").([]any) {
		args = append(args, a.(string))
	}
	return args
}

// flagValue is the value of --name=value in args ("" when absent).
func flagValue(t *testing.T, args []string, name string) string {
	t.Helper()
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// parse parses args with the operator's own command line.
func parse(args []string) (*pflag.FlagSet, error) {
	cmd := manager.NewRootCommand()
	err := cmd.ParseFlags(args)
	return cmd.Flags(), err
}

// TestDeploymentFlags: for every value set, the operator's command line
// accepts the args the chart renders (names and values: a duration rendered
// as a float would fail here), and every flag of the operator is rendered in
// at least one case or listed in notSetByChart.
func TestDeploymentFlags(t *testing.T) {
	rendered := map[string]bool{}
	for name, values := range valueCases(t) {
		docs := split(t, mustTemplate(t, chartDir(t), "-f", values))
		args := deploymentArgs(t, docs)
		flags, err := parse(args)
		if err != nil {
			t.Errorf("%s: the operator refuses the chart's args: %v\nargs: %q", name, err, args)
			continue
		}
		flags.Visit(func(f *pflag.Flag) { rendered[f.Name] = true })
	}
	flags, _ := parse(nil)
	flags.VisitAll(func(f *pflag.Flag) {
		if _, ok := notSetByChart[f.Name]; !ok && !rendered[f.Name] {
			t.Errorf("operator flag --%s is not set by the chart in any case: add a value (values.yaml, docs/helm.md) or list it in notSetByChart", f.Name)
		}
	})
	for name := range notSetByChart {
		if flags.Lookup(name) == nil {
			t.Errorf("notSetByChart lists --%s, which the operator does not have", name)
		}
	}
}

// TestDeploymentDefaults: the defaults the docs promise (docs/helm.md):
// two replicas with leader election, a PodDisruptionBudget keeping one,
// built-in certificates, the operator's own image for data Jobs, and the
// names the flags give matching the objects rendered.
func TestDeploymentDefaults(t *testing.T) {
	docs := split(t, mustTemplate(t, chartDir(t)))
	deploy := find(t, docs, "Deployment", release).obj
	if r := field(deploy, "spec", "replicas"); r != float64(2) {
		t.Errorf("replicas %v, want 2", r)
	}
	args := deploymentArgs(t, docs)
	flags, err := parse(args)
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) string { return flags.Lookup(name).Value.String() }
	for name, want := range map[string]string{
		"leader-elect":              "true",
		"leader-election-namespace": namespace,
		"manage-webhook-certs":      "true",
		"enable-webhooks":           "true",
		"webhook-service":           namespace + "/" + release + "-webhook",
		"postgres-clusters-secret":  "postgres-clusters",
		"network-policies":          "true",
		"egress-allow":              "[]",
	} {
		if got := get(name); got != want {
			t.Errorf("--%s=%q, want %q", name, got, want)
		}
	}
	image := str(field(deploy, "spec", "template", "spec", "containers").([]any)[0], "image")
	if got := get("operator-image"); got != image || image != "ghcr.io/odoo-operator/odoo-operator:latest" {
		t.Errorf("--operator-image=%q, container image %q: data Jobs must copy the binary of the running image", got, image)
	}
	pdb := find(t, docs, "PodDisruptionBudget", release).obj
	if field(pdb, "spec", "minAvailable") != float64(1) {
		t.Errorf("PodDisruptionBudget minAvailable %v, want 1", field(pdb, "spec", "minAvailable"))
	}
	// The Service, the webhook's clientConfig and the CRDs' conversion name
	// the same Service.
	find(t, docs, "Service", release+"-webhook")
	vwc := find(t, docs, "ValidatingWebhookConfiguration", "odoo-operator-validating").obj
	for _, w := range field(vwc, "webhooks").([]any) {
		if svc := str(w, "clientConfig", "service", "name") + "/" + str(w, "clientConfig", "service", "namespace"); svc != release+"-webhook/"+namespace {
			t.Errorf("webhook %s calls %s", str(w, "name"), svc)
		}
		if fp := str(w, "failurePolicy"); fp != "Fail" {
			t.Errorf("webhook %s failurePolicy %s: the admission checks are the tenants' guard, never skipped", str(w, "name"), fp)
		}
	}
	// The ServiceAccount the bindings name is the pod's.
	sa := str(deploy, "spec", "template", "spec", "serviceAccountName")
	find(t, docs, "ServiceAccount", sa)
	for _, d := range docs {
		if d.kind() != "ClusterRoleBinding" && d.kind() != "RoleBinding" {
			continue
		}
		subjects := field(d.obj, "subjects").([]any)
		if len(subjects) != 1 || str(subjects[0], "name") != sa || str(subjects[0], "namespace") != namespace {
			t.Errorf("%s %s subjects %v, want the ServiceAccount %s/%s", d.kind(), d.name(), subjects, namespace, sa)
		}
	}
	// No cert-manager object, no monitoring object by default.
	for _, kind := range []string{"Certificate", "Issuer", "PodMonitor", "ServiceMonitor", "PrometheusRule", "ConfigMap"} {
		if has(docs, kind) {
			t.Errorf("a %s is rendered by default", kind)
		}
	}
}

// TestCertManager: with cert-manager the operator does not manage
// certificates, mounts the Certificate's Secret, and cert-manager injects
// the CA into the webhook configuration and the converting CRDs.
func TestCertManager(t *testing.T) {
	docs := split(t, mustTemplate(t, chartDir(t), "--set", "webhook.certManager.enabled=true"))
	args := deploymentArgs(t, docs)
	if v := flagValue(t, args, "manage-webhook-certs"); v != "false" {
		t.Errorf("--manage-webhook-certs=%q, want false", v)
	}
	cert := find(t, docs, "Certificate", release+"-webhook").obj
	secret := str(cert, "spec", "secretName")
	volumes := field(find(t, docs, "Deployment", release).obj, "spec", "template", "spec", "volumes").([]any)
	if !slices.ContainsFunc(volumes, func(v any) bool { return str(v, "secret", "secretName") == secret }) {
		t.Errorf("the Certificate's Secret %s is not mounted: volumes %v", secret, volumes)
	}
	dns := field(cert, "spec", "dnsNames").([]any)
	if len(dns) == 0 || dns[0] != release+"-webhook."+namespace+".svc" {
		t.Errorf("certificate DNS names %v", dns)
	}
	inject := namespace + "/" + release + "-webhook"
	if got := str(find(t, docs, "ValidatingWebhookConfiguration", "").obj, "metadata", "annotations", "cert-manager.io/inject-ca-from"); got != inject {
		t.Errorf("webhook configuration inject-ca-from %q, want %q", got, inject)
	}
	if got := str(find(t, docs, "CustomResourceDefinition", "odooinstances.bemade.org").obj, "metadata", "annotations", "cert-manager.io/inject-ca-from"); got != inject {
		t.Errorf("CRD inject-ca-from %q, want %q", got, inject)
	}
	// No Role to update the built-in certificate Secret.
	for _, d := range docs {
		if d.kind() == "Role" && strings.HasSuffix(d.name(), "-webhook-certs") {
			t.Errorf("Role %s rendered with cert-manager", d.name())
		}
	}
	find(t, docs, "Issuer", release+"-selfsigned")
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
