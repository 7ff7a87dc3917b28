//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

// legacyExample is the reference operator's example, apiVersion bemade.org/v1
// (a verbatim copy kept with the conversion tests).
func legacyExample(t *testing.T) (string, map[string]any) {
	t.Helper()
	path := filepath.Join(framework.RepoRoot(), "internal", "webhook", "conversion", "testdata", "example-odooinstance-v1.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("legacy example: %v", err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	return string(b), obj["spec"].(map[string]any)
}

// contains reports whether every field of want is in got with the same value.
func contains(got, want map[string]any) []string {
	var missing []string
	for k, w := range want {
		g, ok := got[k]
		if wm, isMap := w.(map[string]any); isMap {
			gm, _ := g.(map[string]any)
			for _, m := range contains(gm, wm) {
				missing = append(missing, k+"."+m)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(normalize(g), normalize(w)) {
			missing = append(missing, fmt.Sprintf("%s (wrote %v, read %v)", k, w, g))
		}
	}
	return missing
}

func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// serveLegacyVersions serves the deprecated versions (OdooInstance v1 and
// v1alpha1, the jobs' v1alpha1) for the test, as a cluster migrating from the
// reference operator does (config/components/legacy-versions, the same
// patches), and stops serving them when it ends: a fresh install serves
// v1alpha2 only.
func serveLegacyVersions(t *testing.T) {
	t.Helper()
	setLegacyServed(t, true)
	t.Cleanup(func() { setLegacyServed(t, false) })
}

func setLegacyServed(t *testing.T, served bool) {
	t.Helper()
	framework.Kubectl(t, "patch", "crd/odooinstances.bemade.org", "--type=json", "-p", fmt.Sprintf(`[
		{"op":"test","path":"/spec/versions/0/name","value":"v1"},{"op":"replace","path":"/spec/versions/0/served","value":%[1]t},
		{"op":"test","path":"/spec/versions/1/name","value":"v1alpha1"},{"op":"replace","path":"/spec/versions/1/served","value":%[1]t}]`, served))
	for _, kind := range []string{"initjobs", "upgradejobs", "backupjobs", "restorejobs", "stagingrefreshjobs"} {
		framework.Kubectl(t, "patch", "crd/odoo"+kind+".bemade.org", "--type=json", "-p", fmt.Sprintf(`[
			{"op":"test","path":"/spec/versions/0/name","value":"v1alpha1"},{"op":"replace","path":"/spec/versions/0/served","value":%t}]`, served))
	}
	// Until discovery shows the change (and kubectl's cache is refreshed),
	// kubectl would resolve the short name to the version served before.
	want := "bemade.org/v1alpha2"
	if served {
		want = "bemade.org/v1"
	}
	framework.Eventually(t, time.Minute, "discovery prefers "+want+" for odooinstances", func() error {
		out, err := framework.KubectlE("api-resources", "--cached=false", "--api-group=bemade.org", "--no-headers")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "odooinstances" {
				if f[2] != want {
					return fmt.Errorf("odooinstances at %s", f[2])
				}
				return nil
			}
		}
		return fmt.Errorf("no odooinstances in %q", out)
	})
}

func getSpec(t *testing.T, ns, resource string) map[string]any {
	t.Helper()
	out := framework.Kubectl(t, "get", "-n", ns, resource, "-o", "json")
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatal(err)
	}
	return obj["spec"].(map[string]any)
}

// TestLegacyV1ObjectKeepsWorking: the reference operator's example, applied
// as bemade.org/v1, is served at every version and runs.
func TestLegacyV1ObjectKeepsWorking(t *testing.T) {
	ns := framework.Namespace(t, "e2e-legacy")
	serveLegacyVersions(t)
	manifest, written := legacyExample(t)
	out, err := framework.KubectlStdin(manifest, "apply", "-n", ns, "-f", "-", "--warnings-as-errors=false")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	// kubectl prints warnings on stderr; ask again to capture them.
	_, err = framework.KubectlStdin(manifest, "apply", "-n", ns, "-f", "-", "--warnings-as-errors")
	if err == nil || !strings.Contains(err.Error(), "bemade.org/v1 OdooInstance is deprecated") {
		t.Errorf("no deprecation warning for bemade.org/v1: %v", err)
	}

	// The hub shows the three defaults the conversion fills.
	hub := getSpec(t, ns, "odooinstances.v1alpha2.bemade.org/my-odoo")
	for path, want := range map[string]string{"database.cluster": "default", "filestore.storageClass": "cephfs", "probes.endpoint": "/web/health"} {
		parts := strings.Split(path, ".")
		got, _ := hub[parts[0]].(map[string]any)[parts[1]].(string)
		if got != want {
			t.Errorf("v1alpha2 spec.%s = %q, want %q", path, got, want)
		}
	}
	// Read back through the legacy versions: what was written, and none of
	// the hub's defaults.
	for _, version := range []string{"v1", "v1alpha1"} {
		spoke := getSpec(t, ns, "odooinstances."+version+".bemade.org/my-odoo")
		if missing := contains(spoke, written); len(missing) > 0 {
			t.Errorf("%s lost what was written: %v", version, missing)
		}
		if db, ok := spoke["database"].(map[string]any); ok && db["cluster"] != nil {
			t.Errorf("%s shows the filled default database.cluster=%v", version, db["cluster"])
		}
		if fs, _ := spoke["filestore"].(map[string]any); fs["storageClass"] != nil {
			t.Errorf("%s shows the filled default filestore.storageClass=%v", version, fs["storageClass"])
		}
	}
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odooinstances.v1alpha2.bemade.org/my-odoo", "--timeout=2m")
	if got := jsonpath(t, ns, "deploy/my-odoo", "{.spec.template.spec.containers[0].image}"); got != "docker.bemade.org/bemade/odoo18.0e" {
		t.Errorf("web image = %q", got)
	}
}

// TestStoredV1ObjectsAreMigrated: objects written while v1 was the storage
// version are rewritten at v1alpha2 after the operator starts, and
// storedVersions ends as [v1alpha2].
func TestStoredV1ObjectsAreMigrated(t *testing.T) {
	ns := framework.Namespace(t, "e2e-migration")
	serveLegacyVersions(t)
	crd := "crd/odooinstances.bemade.org"
	storage := func(v1, v1alpha2 bool) {
		framework.Kubectl(t, "patch", crd, "--type=json", "-p", fmt.Sprintf(`[
			{"op":"replace","path":"/spec/versions/0/storage","value":%t},
			{"op":"replace","path":"/spec/versions/2/storage","value":%t}]`, v1, v1alpha2))
	}
	if names := jsonpath(t, "", crd, "{.spec.versions[*].name}"); names != "v1 v1alpha1 v1alpha2" {
		t.Fatalf("unexpected CRD versions %q", names)
	}
	// Before the upgrade: the CRD stores v1.
	storage(true, false)
	restored := false
	t.Cleanup(func() {
		if !restored {
			storage(false, true)
		}
	})
	manifest, _ := legacyExample(t)
	for i := range 3 {
		framework.Apply(t, ns, strings.Replace(manifest, "name: my-odoo", fmt.Sprintf("name: stored-v1-%d", i), 1))
	}
	if got := jsonpath(t, "", crd, "{.status.storedVersions}"); !strings.Contains(got, `"v1"`) {
		t.Fatalf("storedVersions %s does not list v1", got)
	}
	// The upgrade: v1alpha2 is the storage version again, and the operator
	// (re)starts and migrates.
	storage(false, true)
	restored = true
	restartOperator(t)
	framework.Eventually(t, 2*time.Minute, "storedVersions trimmed", func() error {
		if got := jsonpath(t, "", crd, "{.status.storedVersions}"); got != `["v1alpha2"]` {
			return fmt.Errorf("storedVersions %s", got)
		}
		return nil
	})
	for i := range 3 {
		name := fmt.Sprintf("odooinstances.v1alpha2.bemade.org/stored-v1-%d", i)
		if got := jsonpath(t, ns, name, "{.spec.database.cluster}"); got != "default" {
			t.Errorf("%s database.cluster = %q after migration", name, got)
		}
	}
	events := framework.Kubectl(t, "get", "events", "-A", "--field-selector", "involvedObject.name=odooinstances.bemade.org", "-o", "jsonpath={range .items[*]}{.note}{.message}{\"\\n\"}{end}")
	if !strings.Contains(events, "storedVersions trimmed") {
		t.Errorf("no storage migration event on the CRD: %q", events)
	}
}

func restartOperator(t *testing.T) {
	t.Helper()
	cmd := filepath.Join(framework.RepoRoot(), "hack", "sandbox.sh")
	if out, err := framework.Run(cmd, "restart-operator"); err != nil {
		t.Fatalf("restart-operator: %v\n%s", err, out)
	}
}

// TestAdmissionWebhookRules: the rules CEL cannot see.
func TestAdmissionWebhookRules(t *testing.T) {
	ns := framework.Namespace(t, "e2e-webhook")
	framework.Apply(t, ns, instanceManifest("guarded"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/guarded", "--timeout=2m")
	cases := []struct{ name, patch, want string }{
		{"unknown cluster", `{"spec":{"database":{"cluster":"nope"}}}`, `spec.database.cluster: Invalid value: "nope": no such cluster in the clusters Secret; known clusters: sandbox`},
		{"filestore shrink", `{"spec":{"filestore":{"storageSize":"1Gi"}}}`, "spec.filestore.storageSize: Forbidden: cannot shrink from 2Gi to 1Gi"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := framework.KubectlE("patch", "-n", ns, "odooinstances.v1alpha2.bemade.org/guarded", "--type=merge", "-p", tc.patch)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("patch %s: got %v, want an error containing %q", tc.patch, err, tc.want)
			}
		})
	}
	// A new object naming an unknown cluster is refused too.
	bad := strings.Replace(instanceManifest("elsewhere"), "  replicas: 1\n", "  replicas: 1\n  database: {cluster: nope}\n", 1)
	if _, err := framework.KubectlStdin(bad, "apply", "-n", ns, "-f", "-"); err == nil || !strings.Contains(err.Error(), "known clusters: sandbox") {
		t.Errorf("create with an unknown cluster: %v", err)
	}
}
