//go:build e2e

// Package e2e runs the operator against the sandbox cluster (hack/sandbox.sh):
// a real control plane with KWOK nodes, driven by the real kubectl.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

const wait = 2 * time.Minute

// jsonpath reads a field. `odoo/<name>` is read at v1alpha2: the short name
// resolves to the legacy v1 (kubectl prefers GA-looking versions), which
// keeps the hub's newer status fields in its conversion annotation.
func jsonpath(t *testing.T, ns, resource, path string) string {
	t.Helper()
	if name, ok := strings.CutPrefix(resource, "odoo/"); ok {
		resource = "odooinstances.v1alpha2.bemade.org/" + name
	}
	return framework.Kubectl(t, "get", "-n", ns, resource, "-o", "jsonpath="+path)
}

// TestSampleInstance: the README's sample (config/samples) on real Odoo:
// Ready with a real database, the roadmap's command and env, scaling and a
// configuration change.
func TestSampleInstance(t *testing.T) {
	ns := framework.Namespace(t, "e2e-sample")
	sample, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "config", "samples", "bemade_v1alpha2_odooinstance.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	framework.Apply(t, ns, string(sample))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=5m")

	// A real Odoo database, with the image's test add-on.
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	if got := framework.SandboxQuery(t, db, "SELECT name || '=' || state FROM ir_module_module WHERE name IN ('base', 'odoo_operator_shop') ORDER BY name"); strings.Join(got, ",") != "base=installed,odoo_operator_shop=installed" {
		t.Errorf("modules %v, want base and odoo_operator_shop installed", got)
	}

	// Web: 1 available replica (threaded) with the roadmap's command and env.
	if got := jsonpath(t, ns, "deploy/shop", "{.status.availableReplicas}"); got != "1" {
		t.Errorf("web available replicas = %q, want 1", got)
	}
	if got := jsonpath(t, ns, "deploy/shop", "{.spec.template.spec.containers[0].command}"); got != `["odoo","-c","/etc/odoo/odoo.conf"]` {
		t.Errorf("web command = %s", got)
	}
	env := jsonpath(t, ns, "deploy/shop", `{range .spec.template.spec.containers[0].env[*]}{.name}={.value};{end}`)
	for _, want := range []string{"MAX_CRON_THREADS=0;", "WORKERS=0;"} {
		if !strings.Contains(env, want) {
			t.Errorf("web env %q lacks %q", env, want)
		}
	}
	// Cron: 1 available replica, no HTTP.
	if got := jsonpath(t, ns, "deploy/shop-cron", "{.status.availableReplicas}"); got != "1" {
		t.Errorf("cron available replicas = %q, want 1", got)
	}
	if got := jsonpath(t, ns, "deploy/shop-cron", "{.spec.template.spec.containers[0].command}"); got != `["odoo","-c","/etc/odoo/odoo.conf","--no-http"]` {
		t.Errorf("cron command = %s", got)
	}
	env = jsonpath(t, ns, "deploy/shop-cron", `{range .spec.template.spec.containers[0].env[*]}{.name}={.value};{end}`)
	for _, want := range []string{"MAX_CRON_THREADS=1;", "HTTP_ENABLE=False;"} {
		if !strings.Contains(env, want) {
			t.Errorf("cron env %q lacks %q", env, want)
		}
	}
	// The other objects exist; odoo.conf is a Secret, and no ConfigMap holds it.
	framework.Kubectl(t, "get", "-n", ns, "service/shop", "ingress/shop",
		"pvc/shop-filestore-pvc", "secret/shop-odoo-conf", "secret/shop-odoo-user")
	if got := jsonpath(t, ns, "pvc/shop-filestore-pvc", "{.status.phase}"); got != "Bound" {
		t.Errorf("filestore claim phase = %q, want Bound", got)
	}
	if cms := framework.Kubectl(t, "get", "configmap", "-n", ns, "-o", "name"); strings.Contains(cms, "shop") {
		t.Errorf("a ConfigMap of the instance exists: %s", cms)
	}
	table := framework.Kubectl(t, "get", "odoo", "-n", ns)
	for _, want := range []string{"IMAGE", "READY", "PHASE", "URL", "odoo:18.0-v1", "True", "Running", "https://shop.example.com"} {
		if !strings.Contains(table, want) {
			t.Errorf("kubectl get odoo lacks %q:\n%s", want, table)
		}
	}

	// Scaling the instance (through its scale subresource) scales web only.
	cronVersion := jsonpath(t, ns, "deploy/shop-cron", "{.metadata.resourceVersion}")
	webHash := jsonpath(t, ns, "deploy/shop", `{.spec.template.metadata.annotations.bemade\.org/odoo-conf-hash}`)
	framework.Kubectl(t, "scale", "-n", ns, "odoo/shop", "--replicas=2")
	framework.Eventually(t, wait, "web scaled to 2", func() error {
		if got := jsonpath(t, ns, "deploy/shop", "{.status.availableReplicas}"); got != "2" {
			return fmt.Errorf("available replicas %q", got)
		}
		if got := jsonpath(t, ns, "odoo/shop", "{.status.readyReplicas}"); got != "2" {
			return fmt.Errorf("instance readyReplicas %q", got)
		}
		return nil
	})
	if got := jsonpath(t, ns, "deploy/shop-cron", "{.metadata.resourceVersion}"); got != cronVersion {
		t.Errorf("cron Deployment was written by a web scale: resourceVersion %s -> %s", cronVersion, got)
	}
	if got := jsonpath(t, ns, "deploy/shop", `{.spec.template.metadata.annotations.bemade\.org/odoo-conf-hash}`); got != webHash {
		t.Errorf("scaling rolled the web pods: hash %s -> %s", webHash, got)
	}

	// A configOptions change rolls both tiers.
	cronHash := jsonpath(t, ns, "deploy/shop-cron", `{.spec.template.metadata.annotations.bemade\.org/odoo-conf-hash}`)
	framework.Kubectl(t, "patch", "-n", ns, "odoo/shop", "--type=merge", "-p", `{"spec":{"configOptions":{"limit_time_real":"900"}}}`)
	framework.Eventually(t, wait, "both tiers rolled", func() error {
		for _, d := range []string{"deploy/shop", "deploy/shop-cron"} {
			h := jsonpath(t, ns, d, `{.spec.template.metadata.annotations.bemade\.org/odoo-conf-hash}`)
			if h == webHash || h == cronHash {
				return fmt.Errorf("%s still has the old configuration hash", d)
			}
		}
		return nil
	})
	for _, d := range []string{"deploy/shop", "deploy/shop-cron"} {
		framework.Kubectl(t, "rollout", "status", "-n", ns, d, "--timeout=5m")
	}
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=5m")
}

func TestBadInputIsRefusedAtAdmission(t *testing.T) {
	ns := framework.Namespace(t, "e2e-admission")
	cases := []struct {
		name, spec string
		want       []string
	}{
		{"negative replicas", `replicas: -1`, []string{"spec.replicas", "greater than or equal to 0"}},
		{"empty image", `image: ""`, []string{"spec.image"}},
		{"host that is not a DNS name", "ingress:\n    hosts: [\"shop_example com\"]", []string{"spec.ingress.hosts[0]", "DNS name"}},
		{"workers not a number", `workers: "five"`, []string{"spec.workers", "whole number"}},
		{"configOptions.workers not a number", "configOptions:\n    workers: five", []string{"spec.configOptions", "workers must be a whole number"}},
		{"unknown accessMode", "filestore:\n    accessMode: ReadWriteSometimes", []string{"spec.filestore.accessMode", "Unsupported value"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			manifest := fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: bad-%d
spec:
  image: odoo-sim:18.0
  adminPassword: x
  %s
`, i, tc.spec)
			out, err := framework.KubectlStdin(manifest, "apply", "-n", ns, "-f", "-")
			if err == nil {
				t.Fatalf("accepted:\n%s\n%s", manifest, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %q: %v", w, err)
				}
			}
		})
	}
}

func instanceManifest(name string) string {
	return fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: %[1]s
spec:
  image: odoo-sim:18.0
  adminPassword: master-%[1]s
  replicas: 1
  workers: 2
  ingress:
    hosts: [%[1]s.example.com]
`, name)
}

// TestSteadyStateIsQuiet converges 20 instances, then checks for 60 s that no
// object changes and the operator makes no write request.
func TestSteadyStateIsQuiet(t *testing.T) {
	ns := framework.Namespace(t, "e2e-steady")
	var all strings.Builder
	for i := range 20 {
		all.WriteString("---\n" + instanceManifest(fmt.Sprintf("steady-%02d", i)))
	}
	framework.Apply(t, ns, all.String())
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo", "--all", "--timeout=3m")

	kinds := "odooinstances,deployments,replicasets,services,ingresses,secrets,persistentvolumeclaims"
	versions := func() string {
		return framework.Kubectl(t, "get", "-n", ns, kinds, "-o",
			`jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{"\n"}{end}`)
	}
	// Wait until nothing moves for 5 s (the last status writes settle), then
	// watch for 60 s.
	var before string
	framework.Eventually(t, wait, "objects settle", func() error {
		first := versions()
		time.Sleep(5 * time.Second)
		if before = versions(); before != first {
			return fmt.Errorf("still changing")
		}
		return nil
	})
	if n := strings.Count(before, "\n"); n < 20*8 {
		t.Fatalf("expected at least 160 objects, got %d:\n%s", n, before)
	}
	writesBefore := managedWrites(t)
	opBefore := framework.OperatorWrites(t)
	time.Sleep(60 * time.Second)
	if after := versions(); after != before {
		t.Errorf("objects changed during 60 s of steady state:\n%s", diffLines(before, after))
	}
	// Write requests on the kinds the operator manages, counted by the API
	// server. (The operator's own client counter also includes Events, whose
	// series the event library closes on a timer minutes after an earlier
	// transition; they are logged, not asserted.)
	for key, n := range managedWrites(t) {
		if d := n - writesBefore[key]; d != 0 {
			t.Errorf("%v %s requests during 60 s of steady state", d, key)
		}
	}
	for verb, n := range framework.OperatorWrites(t) {
		if d := n - opBefore[verb]; d != 0 {
			t.Logf("operator client: %v %s requests (Events included) during the window", d, verb)
		}
	}
}

// managedWrites counts the API server's write requests per verb and resource
// for the kinds the operator writes.
func managedWrites(t *testing.T) map[string]float64 {
	m := framework.APIServerMetrics(t)
	out := map[string]float64{}
	for _, resource := range []string{"odooinstances", "odooinitjobs", "odooupgradejobs", "odoobackupjobs", "odoorestorejobs", "deployments", "services", "ingresses", "secrets", "persistentvolumeclaims", "jobs"} {
		for _, verb := range []string{"APPLY", "PATCH", "POST", "PUT", "DELETE"} {
			out[verb+" "+resource] = framework.Metrics(m, "apiserver_request_total", `resource="`+resource+`"`, `verb="`+verb+`"`)
		}
	}
	return out
}

func diffLines(a, b string) string {
	seen := map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		seen[l] = true
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if !seen[l] {
			out = append(out, "changed: "+l)
		}
	}
	return strings.Join(out, "\n")
}
