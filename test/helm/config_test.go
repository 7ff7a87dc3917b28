//go:build helm

package helm

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// regenerate is what every drift failure says: the chart's generated parts
// come from config/, and one command writes them again.
const regenerate = "the chart is generated from config/: run `make manifests` (hack/helm-chart.sh) and commit charts/odoo-operator"

// legacyVersions are the reference operator's versions, served only with
// legacyVersions.served=true.
var legacyVersions = []string{"v1", "v1alpha1"}

// TestCRDsFollowConfig: each CRD the chart renders is config/crd/bases' CRD
// with only the documented changes: labels, the keep annotation, the
// conversion webhook behind the chart's Service (kinds with legacy versions,
// as config/crd/patches/conversion.yaml does), and `served` of the legacy
// versions from legacyVersions.served. Every CRD of config/ is rendered.
func TestCRDsFollowConfig(t *testing.T) {
	bases, err := filepath.Glob(filepath.Join(repoRoot(t), "config", "crd", "bases", "*.yaml"))
	if err != nil || len(bases) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	for _, served := range []bool{false, true} {
		out := mustTemplate(t, chartDir(t), "--set", "legacyVersions.served="+boolString(served))
		docs := split(t, out)
		var rendered int
		for _, d := range docs {
			if d.kind() == "CustomResourceDefinition" {
				rendered++
			}
		}
		if rendered != len(bases) {
			t.Errorf("served=%v: %d CRDs rendered, config/crd/bases has %d: %s", served, rendered, len(bases), regenerate)
		}
		for _, path := range bases {
			base := readYAML(t, path)
			name := str(base, "metadata", "name")
			got := find(t, docs, "CustomResourceDefinition", name).obj

			if str(got, "metadata", "annotations", "helm.sh/resource-policy") != "keep" {
				t.Errorf("%s: no helm.sh/resource-policy: keep annotation (helm uninstall would delete every object of the kind)", name)
			}
			if str(got, "metadata", "labels", "app.kubernetes.io/instance") != release {
				t.Errorf("%s: labels %v", name, field(got, "metadata", "labels"))
			}

			want := deepCopy(t, base)
			versions, _ := field(want, "spec", "versions").([]any)
			for _, v := range versions {
				vm := v.(map[string]any)
				if slices.Contains(legacyVersions, vm["name"].(string)) {
					vm["served"] = served
				}
			}
			if len(versions) > 1 {
				want["spec"].(map[string]any)["conversion"] = map[string]any{
					"strategy": "Webhook",
					"webhook": map[string]any{
						"conversionReviewVersions": []any{"v1"},
						"clientConfig": map[string]any{"service": map[string]any{
							"namespace": namespace, "name": release + "-webhook", "path": "/convert", "port": float64(443),
						}},
					},
				}
			}
			want["metadata"].(map[string]any)["labels"] = field(got, "metadata", "labels")
			want["metadata"].(map[string]any)["annotations"].(map[string]any)["helm.sh/resource-policy"] = "keep"
			if !reflect.DeepEqual(normalize(t, got), normalize(t, want)) {
				t.Errorf("served=%v: %s differs from config/crd/bases beyond labels, keep, conversion and legacy served: %s", served, name, regenerate)
			}
		}
	}
}

// TestLegacyVersionsSwitch: by default only v1alpha2 is served (a fresh
// install: kubectl picks v1alpha2, no deprecation warning); with
// legacyVersions.served=true the reference operator's v1 and v1alpha1 are
// served too. The storage version stays v1alpha2 either way. Serving legacy
// versions without the conversion webhook is refused.
func TestLegacyVersionsSwitch(t *testing.T) {
	for _, served := range []bool{false, true} {
		docs := split(t, mustTemplate(t, chartDir(t), "--set", "legacyVersions.served="+boolString(served)))
		instances := find(t, docs, "CustomResourceDefinition", "odooinstances.bemade.org").obj
		got := map[string]bool{}
		for _, v := range field(instances, "spec", "versions").([]any) {
			vm := v.(map[string]any)
			got[vm["name"].(string)] = vm["served"].(bool)
			if vm["storage"].(bool) != (vm["name"] == "v1alpha2") {
				t.Errorf("served=%v: version %s storage=%v", served, vm["name"], vm["storage"])
			}
		}
		want := map[string]bool{"v1": served, "v1alpha1": served, "v1alpha2": true}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("legacyVersions.served=%v: served versions %v, want %v", served, got, want)
		}
	}
	_, err := helmTemplate(t, chartDir(t), "--set", "legacyVersions.served=true", "--set", "webhook.enabled=false")
	if err == nil || !contains(err.Error(), "legacyVersions.served=true needs webhook.enabled=true") {
		t.Errorf("legacy versions served without webhooks: %v, want a refusal naming webhook.enabled", err)
	}
	// crds.install=false: the CRDs are applied by other means.
	if docs := split(t, mustTemplate(t, chartDir(t), "--set", "crds.install=false")); has(docs, "CustomResourceDefinition") {
		t.Error("crds.install=false rendered CRDs")
	}
}

// TestRBACFollowsConfig: the chart's ClusterRole has exactly the rules of
// config/rbac/role.yaml (generated from the operator's markers), its Roles
// those of the leader election and webhook certificate Roles, the latter
// naming the Secret the Deployment's --webhook-cert-secret names.
func TestRBACFollowsConfig(t *testing.T) {
	rbac := filepath.Join(repoRoot(t), "config", "rbac")
	docs := split(t, mustTemplate(t, chartDir(t)))
	cases := []struct {
		kind, name, file string
	}{
		{"ClusterRole", release, "role.yaml"},
		{"Role", release + "-leader-election", "leader_election_role.yaml"},
		{"Role", release + "-webhook-certs", "webhook_certs_role.yaml"},
	}
	for _, c := range cases {
		want := normalize(t, field(readYAML(t, filepath.Join(rbac, c.file)), "rules"))
		got := normalize(t, field(find(t, docs, c.kind, c.name).obj, "rules"))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s rules differ from config/rbac/%s: %s\n got %v\nwant %v", c.kind, c.name, c.file, regenerate, got, want)
		}
	}
	// The names the kustomize install uses are the default release's names.
	if secret := flagValue(t, deploymentArgs(t, docs), "webhook-cert-secret"); secret != "odoo-operator-webhook-certs" {
		t.Errorf("--webhook-cert-secret=%q, want the Role's odoo-operator-webhook-certs", secret)
	}
	if vwc := flagValue(t, deploymentArgs(t, docs), "validating-webhook-config"); vwc != "odoo-operator-validating" {
		t.Errorf("--validating-webhook-config=%q, want odoo-operator-validating (granted by name in role.yaml)", vwc)
	}
	find(t, docs, "ValidatingWebhookConfiguration", "odoo-operator-validating")

	// Another release name: the certificate Role grants the Secret the
	// Deployment is told to use, whatever its name.
	docs = split(t, mustTemplate(t, chartDir(t), "--set", "fullnameOverride=odoo-ops"))
	secret := flagValue(t, deploymentArgs(t, docs), "webhook-cert-secret")
	if secret != "odoo-ops-webhook-certs" {
		t.Errorf("fullnameOverride=odoo-ops: --webhook-cert-secret=%q", secret)
	}
	rules := field(find(t, docs, "Role", "odoo-ops-webhook-certs").obj, "rules").([]any)
	if len(rules) != 1 || !reflect.DeepEqual(field(rules[0], "resourceNames"), []any{secret}) {
		t.Errorf("fullnameOverride=odoo-ops: certificate Role rules %v, want update on %s only", rules, secret)
	}
}

// TestWebhooksFollowConfig: the ValidatingWebhookConfiguration's webhooks are
// those of config/webhook/manifests.yaml (generated from the webhook markers),
// calling the chart's Service instead of kustomize's placeholder; with
// cert-manager too.
func TestWebhooksFollowConfig(t *testing.T) {
	base := readYAML(t, filepath.Join(repoRoot(t), "config", "webhook", "manifests.yaml"))
	want := normalize(t, field(base, "webhooks")).([]any)
	if len(want) == 0 {
		t.Fatal("config/webhook/manifests.yaml has no webhooks")
	}
	for _, w := range want {
		svc := field(w, "clientConfig", "service").(map[string]any)
		svc["name"], svc["namespace"] = release+"-webhook", namespace
	}
	for _, certManager := range []bool{false, true} {
		docs := split(t, mustTemplate(t, chartDir(t), "--set", "webhook.certManager.enabled="+boolString(certManager)))
		got := normalize(t, field(find(t, docs, "ValidatingWebhookConfiguration", "odoo-operator-validating").obj, "webhooks"))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("certManager=%v: webhooks differ from config/webhook/manifests.yaml: %s\n got %v\nwant %v", certManager, regenerate, got, want)
		}
	}
}

// TestMonitoringFilesFollowConfig: files/prometheus and files/grafana hold
// exactly the alert and dashboard files of config/ (kustomize's own
// kustomization.yaml excepted), byte for byte.
func TestMonitoringFilesFollowConfig(t *testing.T) {
	for _, c := range []struct{ dir, ext string }{{"prometheus", "yaml"}, {"grafana", "json"}} {
		want := readDir(t, filepath.Join(repoRoot(t), "config", c.dir), c.ext)
		delete(want, "kustomization.yaml")
		got := readDir(t, filepath.Join(chartDir(t), "files", c.dir), c.ext)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("charts/odoo-operator/files/%s differs from config/%s/*.%s (files %v, want %v): %s", c.dir, c.dir, c.ext, keys(got), keys(want), regenerate)
		}
	}
}

// readDir maps the names of dir/*.ext to their contents (none when dir is
// missing).
func readDir(t *testing.T, dir, ext string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*."+ext))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = string(b)
	}
	return files
}

func keys(m map[string]string) []string {
	out := slices.Collect(maps.Keys(m))
	slices.Sort(out)
	return out
}

// normalize decodes v again through JSON so that ints and floats compare.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func deepCopy(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	return normalize(t, m).(map[string]any)
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
