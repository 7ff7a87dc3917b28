//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// Real Odoo 18.0 under the operator: the sandbox runs pods of the image
// repository `odoo` as real Odoo processes (hack/sandbox-jobplayer), so
// these tests assert on Odoo's own tables in the sandbox's PostgreSQL, its
// real HTTP health endpoint and its real log. A real init takes 15-30 s on
// 2 cores: the upgrade scenario runs once and serves two tests.

const realWait = 5 * time.Minute

// realRun makes the instance names of one test run unique: an instance
// keeps its database when deleted, and these tests need Odoo's own init.
var realRun = strconv.FormatInt(time.Now().Unix()%46656, 36)

// realInstanceManifest is an instance sized for the sandbox: one web pod
// in threaded mode, one cron pod.
func realInstanceManifest(name, image string) string {
	return fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: %[1]s
spec:
  image: %[2]s
  adminPassword: master-%[1]s-Zq7
  replicas: 1
  workers: 0
  cron:
    replicas: 1
`, name, image)
}

// webPodPort is the 127.0.0.1 port the instance's (one, ready) web pod's
// real Odoo serves HTTP on, and that pod's name.
func webPodPort(t *testing.T, ns, name string) (pod, port string) {
	t.Helper()
	framework.Eventually(t, time.Minute, "one ready web pod with its port", func() error {
		out := framework.Kubectl(t, "get", "pods", "-n", ns, "-l", "app.kubernetes.io/instance="+name+",app.kubernetes.io/component=web",
			"-o", `jsonpath={range .items[*]}{.metadata.name} {.metadata.annotations.sandbox\.odoo-operator\.dev/http-port} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if f := strings.Fields(lines[0]); len(lines) == 1 && len(f) == 3 && f[2] == "True" {
			pod, port = f[0], f[1]
			return nil
		}
		return fmt.Errorf("web pods: %q", out)
	})
	return pod, port
}

// TestRealOdooInit: an instance on odoo:18.0 gets a real Odoo database
// (Odoo's own init Job), its web pod serves Odoo's /web/health, and
// `kubectl logs` shows Odoo's own startup lines.
func TestRealOdooInit(t *testing.T) {
	ns := framework.Namespace(t, "e2e-real-init")
	name := "plain-" + realRun
	framework.Apply(t, ns, realInstanceManifest(name, "odoo:18.0"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef(name), "--timeout="+realWait.String())
	db := jsonpath(t, ns, "odoo/"+name, "{.status.database.name}")

	if got := framework.SandboxQuery(t, db, "SELECT state FROM ir_module_module WHERE name = 'base'"); !slices.Equal(got, []string{"installed"}) {
		t.Errorf("base module state %v, want [installed]", got)
	}
	if got := framework.SandboxQuery(t, db, "SELECT login FROM res_users WHERE login = 'admin'"); !slices.Equal(got, []string{"admin"}) {
		t.Errorf("res_users admin login %v", got)
	}
	// odoo:18.0 has Odoo's add-ons only: no test add-on.
	if got := framework.SandboxQuery(t, db, "SELECT name FROM ir_module_module WHERE name LIKE 'odoo_operator%'"); len(got) != 0 {
		t.Errorf("odoo:18.0 knows the test add-ons %v", got)
	}

	pod, port := webPodPort(t, ns, name)
	resp, err := http.Get("http://127.0.0.1:" + port + "/web/health") //nolint:noctx // a test's one request
	if err != nil {
		t.Fatalf("GET /web/health of %s: %v", pod, err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"pass"`) {
		t.Errorf("GET /web/health: %d %s", resp.StatusCode, body)
	}
	logs := framework.Kubectl(t, "logs", "-n", ns, pod)
	for _, want := range []string{"odoo: Odoo version 18.0", "HTTP service (werkzeug) running on localhost:" + port, "odoo.modules.loading: Modules loaded."} {
		if !strings.Contains(logs, want) {
			t.Errorf("kubectl logs %s lacks %q:\n%s", pod, want, logs)
		}
	}
	// The init Job ran Odoo for real, and ended with its exit code.
	if got := framework.Kubectl(t, "get", "pods", "-n", ns, "-l", "bemade.org/job=init",
		"-o", "jsonpath={.items[*].status.phase} {.items[*].status.containerStatuses[0].state.terminated.exitCode}"); got != "Succeeded 0" {
		t.Errorf("init pod phase and exit code %q, want \"Succeeded 0\"", got)
	}
}

// realUpgrade is the one run of the guarded upgrade odoo:18.0-v1 ->
// odoo:18.0-v2 on real Odoo, shared by the tests that look at it.
type realUpgrade struct {
	ns, name, db string
	st           *odoov1alpha2.UpgradeStatus
	samples      []sample
	// podsSeen: every web and cron pod a watch saw during the upgrade.
	podsSeen map[string]corev1.Pod
	cmdlines []string // every sandbox process's command line seen
	secrets  []string // the instance's database and master passwords
}

var (
	realUpgradeOnce sync.Once
	realUpgradeRun  *realUpgrade
)

const (
	realFrom = "odoo:18.0-v1"
	realTo   = "odoo:18.0-v2"
)

// upgradedShop runs (once) an instance "shop-<run>" on odoo:18.0-v1 to Ready,
// then its guarded upgrade to odoo:18.0-v2, recording the Deployments,
// pods and Jobs throughout and every sandbox process's command line.
func upgradedShop(t *testing.T) *realUpgrade {
	t.Helper()
	realUpgradeOnce.Do(func() {
		r := &realUpgrade{ns: framework.Namespace(t, "e2e-real-upgrade"), name: "shop-" + realRun}
		name := r.name
		c := framework.NewClients(t)
		scan := framework.ScanSandboxProcesses(t)
		defer func() { r.cmdlines = scan.Stop() }()
		framework.Apply(t, r.ns, realInstanceManifest(name, realFrom))
		framework.Kubectl(t, "wait", "-n", r.ns, "--for=condition=Ready", odooRef(name), "--timeout="+realWait.String())
		r.db = jsonpath(t, r.ns, "odoo/"+name, "{.status.database.name}")
		pw, err := base64.StdEncoding.DecodeString(framework.Kubectl(t, "get", "secret", "-n", r.ns, name+"-odoo-user", "-o", "jsonpath={.data.password}"))
		if err != nil || len(pw) == 0 {
			t.Fatalf("the instance's database password: %v", err)
		}
		r.secrets = []string{"master-" + name + "-Zq7", string(pw)}
		if got := framework.SandboxQuery(t, r.db, "SELECT latest_version FROM ir_module_module WHERE name = 'odoo_operator_shop' AND state = 'installed'"); !slices.Equal(got, []string{"18.0.1.0.0"}) {
			t.Fatalf("before the upgrade: odoo_operator_shop %v, want installed at 18.0.1.0.0", got)
		}
		rec := startRecorder(t, c, r.ns, name)
		w, err := c.Kube.CoreV1().Pods(r.ns).Watch(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r.podsSeen = map[string]corev1.Pod{}
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			for ev := range w.ResultChan() {
				if pod, ok := ev.Object.(*corev1.Pod); ok && pod.Labels["app.kubernetes.io/component"] != "" {
					r.podsSeen[pod.Name] = *pod
				}
			}
		}()
		defer func() { w.Stop(); <-watched }()
		setImage(t, r.ns, name, realTo)
		r.st = waitUpgradeWithin(t, c, r.ns, name, realWait)
		waitTier(t, r.ns, name, realTo)
		waitTier(t, r.ns, name+"-cron", realTo)
		r.samples = rec.stop()
		rec.logSummary(t, r.samples)
		realUpgradeRun = r
	})
	if realUpgradeRun == nil {
		t.Fatal("the shared real upgrade scenario failed in an earlier test")
	}
	return realUpgradeRun
}

// waitUpgradeWithin waits for the upgrade to realTo to end (success or not).
func waitUpgradeWithin(t *testing.T, c *framework.Clients, ns, name string, timeout time.Duration) *odoov1alpha2.UpgradeStatus {
	t.Helper()
	var st *odoov1alpha2.UpgradeStatus
	framework.Eventually(t, timeout, "upgrade to "+realTo+" done", func() error {
		st = getInstance(t, c, ns, name).Status.Upgrade
		if st == nil || st.ImageAttempted != realTo || st.Step != odoov1alpha2.UpgradeStepDone {
			return fmt.Errorf("status.upgrade %+v", st)
		}
		return nil
	})
	return st
}

// TestRealOdooGuardedUpgrade: odoo:18.0-v1 -> odoo:18.0-v2 runs Odoo's real
// `-u all` with cron stopped and web on the old image, and the add-on's
// real migration converts its data.
func TestRealOdooGuardedUpgrade(t *testing.T) {
	r := upgradedShop(t)
	if r.st.Phase != odoov1alpha2.UpgradeSuccess {
		t.Fatalf("upgrade phase %s: %s", r.st.Phase, r.st.Message)
	}
	// Odoo's own tables: the module's version moved and its migration ran
	// (text prices became a number and a currency).
	if got := framework.SandboxQuery(t, r.db, "SELECT name || '=' || latest_version FROM ir_module_module WHERE name LIKE 'odoo_operator_shop%' AND state = 'installed' ORDER BY name"); !slices.Equal(got,
		[]string{"odoo_operator_shop=18.0.2.0.0", "odoo_operator_shop_report=18.0.2.0.0"}) {
		t.Errorf("test add-ons after the upgrade: %v", got)
	}
	if got := framework.SandboxQuery(t, r.db, "SELECT name, price, currency FROM odoo_operator_shop_product ORDER BY name"); !slices.Equal(got,
		[]string{"Mug|12.5|EUR", "Sticker|1.25|EUR", "T-shirt|20|USD"}) {
		t.Errorf("migrated products: %v", got)
	}

	v := &violations{t: t}
	during := 0
	for _, s := range r.samples {
		v.check(s.web.image != realTo || s.after.succeeded, "web carries the new image before the upgrade Job succeeded", s)
		v.check(s.cron.image != realTo || s.after.succeeded, "cron carries the new image before the upgrade Job succeeded", s)
		if !s.duringUpgradeJob() {
			continue
		}
		during++
		v.check(s.cron.replicas == 0 && s.cron.statusReplicas == 0 && s.cronPods == 0, "cron is not at 0 while the upgrade Job runs", s)
		v.check(s.web.image == realFrom, "web left the old image while the upgrade Job runs", s)
	}
	v.report(len(r.samples))
	if during == 0 {
		t.Fatalf("no sample was taken while the upgrade Job ran (%d samples)", len(r.samples))
	}
	// No web or cron pod of the new image started before the upgrade Job
	// completed (pods watched throughout).
	job, err := framework.NewClients(t).Kube.BatchV1().Jobs(r.ns).Get(context.Background(), r.st.JobName, metav1.GetOptions{})
	if err != nil || job.Status.CompletionTime == nil {
		t.Fatalf("upgrade Job %s: %v, completion %v", r.st.JobName, err, job.Status.CompletionTime)
	}
	newPods := 0
	for name, pod := range r.podsSeen {
		component := pod.Labels["app.kubernetes.io/component"]
		if (component != "web" && component != "cron") || pod.Spec.Containers[0].Image != realTo {
			continue
		}
		newPods++
		if pod.CreationTimestamp.Before(job.Status.CompletionTime) {
			t.Errorf("%s pod %s on %s created at %s, before the upgrade Job completed at %s", component, name, realTo,
				pod.CreationTimestamp, job.Status.CompletionTime)
		}
	}
	if newPods < 2 {
		t.Errorf("the pod watch saw %d web/cron pods on %s, want both tiers", newPods, realTo)
	}
	if got := jsonpath(t, r.ns, "odoo/"+r.name, `{.status.conditions[?(@.type=="UpgradeSucceeded")].status}`); got != "True" {
		t.Errorf("UpgradeSucceeded condition = %q", got)
	}
	// The upgrade Job ran the real Odoo and exited 0.
	if got := framework.Kubectl(t, "get", "pods", "-n", r.ns, "-l", "job-name="+r.st.JobName,
		"-o", "jsonpath={.items[*].status.phase} {.items[*].status.containerStatuses[0].state.terminated.exitCode}"); got != "Succeeded 0" {
		t.Errorf("upgrade pod phase and exit code %q, want \"Succeeded 0\"", got)
	}
}

// TestHostileNoCredentialOnCommandLine: any process on a node can read every
// other process's command line (/proc/<pid>/cmdline). Through a whole
// instance life on real Odoo (init Job, web, cron, the restore point's data
// Job, the upgrade Job, the new web and cron) no process the sandbox ran
// carries the instance's database password or master password: Odoo reads
// them from its odoo.conf (`odoo -c`), never from arguments the official
// image's entrypoint would add.
func TestHostileNoCredentialOnCommandLine(t *testing.T) {
	r := upgradedShop(t)
	kinds := map[string]int{}
	for _, line := range r.cmdlines {
		switch {
		case strings.Contains(line, "odoo-bin") && strings.Contains(line, " -i "):
			kinds["init"]++
		case strings.Contains(line, "odoo-bin") && strings.Contains(line, " -u "):
			kinds["upgrade"]++
		case strings.Contains(line, "odoo-bin") && strings.Contains(line, "--http-port="):
			kinds["web"]++
		case strings.Contains(line, "odoo-bin") && strings.Contains(line, "--no-http"):
			kinds["cron"]++
		case strings.Contains(line, " data "):
			kinds["data job"]++
		}
		for _, secret := range r.secrets {
			if secret != "" && strings.Contains(line, secret) {
				t.Errorf("a credential is on a process command line: %s", strings.ReplaceAll(line, secret, "<credential>"))
			}
		}
	}
	// The scan saw each kind of process (else the check above is vacuous).
	for _, k := range []string{"init", "upgrade", "web", "cron", "data job"} {
		if kinds[k] == 0 {
			t.Errorf("no %s process seen among %d command lines", k, len(r.cmdlines))
		}
	}
	t.Logf("command lines seen: %v", kinds)
}
