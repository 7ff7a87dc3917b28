//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/internal/notify"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// serveOdooLog makes kwok serve Odoo log lines as the log of the pod's odoo
// container. kwok honours sinceTime and the operator reads each pod's log
// since its previous sample, so lines stamped before kwok serves this file
// could be skipped for good: kwok first serves a placeholder line, and only
// once `kubectl logs` shows it are the lines written, stamped then.
func serveOdooLog(t *testing.T, ns, pod string, lines ...string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "odoo.log")
	write := func(lines ...string) {
		now := time.Now().UTC()
		var b strings.Builder
		for _, line := range lines {
			line = strings.ReplaceAll(line, "{ts}", now.Format("2006-01-02 15:04:05,000"))
			for _, l := range strings.Split(line, "\n") {
				fmt.Fprintf(&b, "%s stderr F %s\n", now.Format(time.RFC3339Nano), l)
			}
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const placeholder = "{ts} 12 INFO ? odoo.service.server: e2e log file served"
	write(placeholder)
	framework.Apply(t, ns, fmt.Sprintf(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata:
  name: %s
spec:
  logs:
  - containers: [odoo]
    logsFile: %s
    previousLogsFile: %s
    follow: false
`, pod, file, file))
	framework.Eventually(t, 30*time.Second, "kwok serves the pod's log file", func() error {
		out, err := framework.KubectlE("logs", "-n", ns, pod, "-c", "odoo")
		if err != nil {
			return fmt.Errorf("kubectl logs: %w", err)
		}
		if !strings.Contains(out, "e2e log file served") {
			return fmt.Errorf("kubectl logs shows %q", out)
		}
		return nil
	})
	write(lines...)
}

func webPods(t *testing.T, ns, instance, image string) []string {
	t.Helper()
	out := framework.Kubectl(t, "get", "pods", "-n", ns, "-l", "app.kubernetes.io/instance="+instance+",app.kubernetes.io/component=web",
		"-o", `jsonpath={range .items[*]}{.metadata.name}={.spec.containers[0].image}{"\n"}{end}`)
	var pods []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if name, img, ok := strings.Cut(line, "="); ok && img == image {
			pods = append(pods, name)
		}
	}
	return pods
}

const missingColumn = `{ts} 12 ERROR shop odoo.sql_db: bad query: SELECT "res_lang"."short_date_format" FROM "res_lang"
ERROR: column res_lang.short_date_format does not exist
LINE 1: SELECT "res_lang"."short_date_format" FROM "res_lang"`

const failedInit = "{ts} 12 CRITICAL shop odoo.service.server: Failed to initialize database `shop`."

// TestLogErrorsAppearInHealth: Odoo error lines served as a web pod's log
// appear in status.health, classified, within one sampling interval.
func TestLogErrorsAppearInHealth(t *testing.T) {
	ns := framework.Namespace(t, "e2e-health")
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")
	pods := webPods(t, ns, "shop", "odoo-sim:18.0")
	if len(pods) == 0 {
		t.Fatal("no web pod")
	}
	serveOdooLog(t, ns, pods[0], "{ts} 12 INFO shop odoo.modules.loading: Modules loaded.", missingColumn, failedInit)
	served := time.Now()

	// The e2e sandbox samples every 5 s (OPERATOR_ARGS in the Makefile).
	framework.Eventually(t, 30*time.Second, "status.health lists the errors", func() error {
		categories := jsonpath(t, ns, "odoo/shop", "{.status.health.errors[*].category}")
		if !strings.Contains(categories, "DatabaseSchema") || !strings.Contains(categories, "ModuleLoading") {
			// The sampler's own counts tell a read that fails from a
			// status that is not written.
			m := framework.OperatorMetrics(t)
			served, _ := framework.KubectlE("logs", "-n", ns, pods[0], "-c", "odoo")
			return fmt.Errorf("categories %q (the operator's pod log reads so far: %v ok, %v failed; status.health %s; the pod's log: %q)", categories,
				framework.Metrics(m, "odoo_operator_log_samples_total", `result="ok"`), framework.Metrics(m, "odoo_operator_log_samples_total", `result="error"`),
				jsonpath(t, ns, "odoo/shop", "{.status.health}"), served)
		}
		return nil
	})
	t.Logf("the errors reached status.health %s after the log was served", time.Since(served).Round(time.Millisecond))
	if got := jsonpath(t, ns, "odoo/shop", "{.status.health.status}"); got != "Degraded" {
		t.Errorf("health status = %q, want Degraded", got)
	}
	if got := jsonpath(t, ns, "odoo/shop", "{.status.health.errorCount}"); got != "2" {
		t.Errorf("errorCount = %q, want 2", got)
	}
	msgs := jsonpath(t, ns, "odoo/shop", "{.status.health.errors[*].message}")
	if !strings.Contains(msgs, "Failed to initialize database") || !strings.Contains(msgs, "bad query") {
		t.Errorf("messages = %s", msgs)
	}
	if got := jsonpath(t, ns, "odoo/shop", `{.status.conditions[?(@.type=="Healthy")].status}`); got != "False" {
		t.Errorf("Healthy = %q, want False", got)
	}
	framework.Eventually(t, 30*time.Second, "a Warning event for the CRITICAL line", func() error {
		events := framework.Kubectl(t, "get", "events", "-n", ns, "--field-selector", "reason=OdooCritical", "-o", "jsonpath={.items[*].note}{.items[*].message}")
		if !strings.Contains(events, "Failed to initialize database") {
			return fmt.Errorf("OdooCritical events: %q", events)
		}
		if errs := framework.Kubectl(t, "get", "events", "-n", ns, "--field-selector", "reason=OdooError", "-o", "jsonpath={.items[*].message}"); !strings.Contains(errs, "new error") {
			return fmt.Errorf("OdooError events: %q", errs)
		}
		return nil
	})
	if got := jsonpath(t, ns, "odoo/shop", "{.status.phase}"); got != "Running" {
		t.Errorf("phase = %q: errors in the logs do not stop the instance", got)
	}
}

// receiver records the notifications the operator posts.
type receiver struct {
	mu    sync.Mutex
	posts []post
}

type post struct {
	body      []byte
	signature string
	event     string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.posts = append(rc.posts, post{body: body, signature: r.Header.Get(notify.HeaderSignature), event: r.Header.Get(notify.HeaderEvent)})
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// tenantServer serves h on a port a tenant's URL may reach in the sandbox
// (framework.TenantListener): other loopback ports are refused by the
// operator's egress policy.
func tenantServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	_ = srv.Listener.Close()
	srv.Listener = framework.TenantListener(t)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func (rc *receiver) find(event string) (post, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, p := range rc.posts {
		if p.event == event {
			return p, true
		}
	}
	return post{}, false
}

// TestErroringImageIsRolledBack: a new image whose pods log errors above
// spec.rollback.errorThreshold is rolled back to the previous one, with the
// RolledBack condition, a Warning event and a signed notification.
func TestErroringImageIsRolledBack(t *testing.T) {
	ns := framework.Namespace(t, "e2e-rollback")
	rc := &receiver{}
	srv := tenantServer(t, rc)
	key := "notify-key-" + ns
	framework.Kubectl(t, "create", "secret", "generic", "hooks", "-n", ns, "--from-literal=key="+key)
	framework.Apply(t, ns, instanceManifest("shop")+fmt.Sprintf(`  autoUpgrade:
    enabled: false
  rollback:
    errorThreshold: 2
  webhook:
    url: %s/odoo
    secretRef: {name: hooks, key: key}
`, srv.URL))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")
	framework.Kubectl(t, "patch", "-n", ns, "odooinstances.v1alpha2.bemade.org/shop", "--type=merge", "-p", `{"spec":{"image":"odoo-sim:18.1"}}`)

	served := map[string]bool{}
	framework.Eventually(t, 90*time.Second, "rolled back to odoo-sim:18.0", func() error {
		for _, pod := range webPods(t, ns, "shop", "odoo-sim:18.1") {
			if !served[pod] {
				serveOdooLog(t, ns, pod, missingColumn, missingColumn, missingColumn, failedInit, failedInit)
				served[pod] = true
			}
		}
		if reason := jsonpath(t, ns, "odoo/shop", `{.status.conditions[?(@.type=="RolledBack")].reason}`); reason != "ErrorRateExceeded" {
			return fmt.Errorf("RolledBack reason %q", reason)
		}
		return nil
	})
	framework.Eventually(t, time.Minute, "web back on odoo-sim:18.0", func() error {
		if got := jsonpath(t, ns, "deploy/shop", "{.spec.template.spec.containers[0].image}"); got != "odoo-sim:18.0" {
			return fmt.Errorf("web image %s", got)
		}
		if got := jsonpath(t, ns, "deploy/shop-cron", "{.spec.template.spec.containers[0].image}"); got != "odoo-sim:18.0" {
			return fmt.Errorf("cron image %s", got)
		}
		return nil
	})
	if got := jsonpath(t, ns, "odoo/shop", "{.status.deployment.rollback.fromImage}"); got != "odoo-sim:18.1" {
		t.Errorf("rollback.fromImage = %q", got)
	}
	if jobs := framework.Kubectl(t, "get", "jobs", "-n", ns, "-l", "bemade.org/job=upgrade", "-o", "name"); strings.TrimSpace(jobs) != "" {
		t.Errorf("autoUpgrade is disabled, yet upgrade Jobs ran: %s", jobs)
	}
	events := framework.Kubectl(t, "get", "events", "-n", ns, "--field-selector", "reason=RolledBack,type=Warning", "-o", "name")
	if strings.TrimSpace(events) == "" {
		t.Error("no RolledBack Warning event")
	}
	framework.Eventually(t, 30*time.Second, "a signed RolledBack notification", func() error {
		p, ok := rc.find(string(notify.EventRolledBack))
		if !ok {
			return fmt.Errorf("no RolledBack notification among %d", len(rc.posts))
		}
		if !notify.Verify(p.body, p.signature, []byte(key)) {
			return fmt.Errorf("signature %q does not verify", p.signature)
		}
		if !strings.Contains(string(p.body), `"previousImage":"odoo-sim:18.1"`) || strings.Contains(string(p.body), key) {
			return fmt.Errorf("body %s", p.body)
		}
		return nil
	})
	// The rollback holds: the erroring image is not rolled out again.
	time.Sleep(10 * time.Second)
	if got := jsonpath(t, ns, "deploy/shop", "{.spec.template.spec.containers[0].image}"); got != "odoo-sim:18.0" {
		t.Errorf("after the rollback, web image %s", got)
	}
}
