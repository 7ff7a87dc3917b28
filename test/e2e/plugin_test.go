//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// kubectlOdoo builds cmd/kubectl-odoo into a directory put first on PATH
// and returns a runner of `kubectl odoo ARGS -n ns`: kubectl itself finds
// the plugin, as it does for a user. The build runs while the test goes on;
// the first run waits for it. The second runner is for a command that does
// not end by itself (logs --follow): it stops it once its output holds until,
// or after 30 s.
func kubectlOdoo(t *testing.T, ns string) (run func(args ...string) (string, error), runUntil func(until string, args ...string) string) {
	t.Helper()
	dir := t.TempDir()
	built := make(chan error, 1)
	go func() {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "kubectl-odoo"), "./cmd/kubectl-odoo")
		build.Dir = framework.RepoRoot()
		out, err := build.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("building kubectl-odoo: %w\n%s", err, out)
		}
		built <- err
	}()
	var buildErr error
	var once sync.Once
	path := dir + string(os.PathListSeparator) + os.Getenv("PATH")
	start := func(ctx context.Context, args []string, out io.Writer) *exec.Cmd {
		once.Do(func() { buildErr = <-built })
		if buildErr != nil {
			t.Fatal(buildErr)
		}
		cmd := exec.CommandContext(ctx, "kubectl", append([]string{"odoo", "-n", ns}, args...)...)
		cmd.Env = append(os.Environ(), "PATH="+path)
		cmd.Stdout, cmd.Stderr = out, out
		return cmd
	}
	run = func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		var out bytes.Buffer
		err := start(ctx, args, &out).Run()
		t.Logf("$ kubectl odoo %s\n%s", strings.Join(args, " "), out.String())
		return out.String(), err
	}
	runUntil = func(until string, args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out := &lockedBuffer{}
		cmd := start(ctx, args, out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		for !strings.Contains(out.String(), until) {
			select {
			case <-exited:
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
				continue
			}
			break
		}
		cancel()
		<-exited
		t.Logf("$ kubectl odoo %s (stopped)\n%s", strings.Join(args, " "), out.String())
		return out.String()
	}
	return run, runUntil
}

// lockedBuffer is a bytes.Buffer a running command writes while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestKubectlOdooPlugin runs every command of the plugin against one
// simulated instance and asserts what it prints: status (phase, images,
// database, -o json), backup --wait (progress to Completed), logs (the
// classified errors), psql (the clear error on a KWOK pod), suspend (a spec
// change, an upgrade request and a restore wait; status shows the restore's
// lock record, backup --wait a backup waiting for it), resume (all carried
// out), restore --wait (its steps to Completed).
func TestKubectlOdooPlugin(t *testing.T) {
	ns := framework.Namespace(t, "e2e-plugin")
	odoo, odooUntil := kubectlOdoo(t, ns)
	must := func(args ...string) string {
		t.Helper()
		out, err := odoo(args...)
		if err != nil {
			t.Fatalf("kubectl odoo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	framework.Apply(t, ns, instanceManifest("shop")+`---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: backups
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`)
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=2m")
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	framework.ModuleFixture(t, db)

	// status: one screen, and the same as JSON.
	out := must("status", "shop")
	for _, want := range []string{"Phase:        Running", "Ready:        True (1/1 web pods ready)", "Image:        odoo-sim:18.0\n",
		"Database:     " + db + " on cluster", "Operation:    none"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q", want)
		}
	}
	var report struct {
		Phase  string `json:"phase"`
		Images struct {
			Serving string `json:"serving"`
			Wanted  string `json:"wanted"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(must("status", "shop", "-o", "json")), &report); err != nil {
		t.Fatalf("status -o json: %v", err)
	}
	if report.Phase != "Running" || report.Images.Serving != "odoo-sim:18.0" || report.Images.Wanted != "odoo-sim:18.0" {
		t.Errorf("status -o json = %+v", report)
	}
	if out, err := odoo("status", "nosuch"); err == nil || !strings.Contains(out, `OdooInstance "nosuch" not found in namespace "`+ns+`"`) || strings.Contains(out, "goroutine") {
		t.Errorf("status of a missing instance: err %v, output %q", err, out)
	}

	// backup --wait: a line per change, elapsed first, to Completed.
	out = must("backup", "shop", "--name", "manual", "--destination", "pvc:backups/shop/manual.zip", "--wait")
	if !strings.Contains(out, "OdooBackupJob manual created: a zip backup of shop (database and filestore) to claim backups at shop/manual.zip") {
		t.Errorf("backup does not say what it created")
	}
	progress := regexp.MustCompile(`(?m)^\s*\d+[smh]\S*\s{2}(Pending|Running|Completed|Failed)\b.*$`).FindAllString(out, -1)
	if len(progress) < 2 || !strings.Contains(progress[len(progress)-1], "Completed") {
		t.Errorf("backup --wait progress lines %q: want at least two, the last Completed", progress)
	}
	if !strings.Contains(out, "Running") || !strings.Contains(out, "Job manual") {
		t.Errorf("backup --wait never showed the running Job")
	}

	// logs: the classified errors behind status.health.
	pods := webPods(t, ns, "shop", "odoo-sim:18.0")
	if len(pods) == 0 {
		t.Fatal("no web pod")
	}
	serveOdooLog(t, ns, pods[0], missingColumn, failedInit)
	framework.Eventually(t, 30*time.Second, "logs shows both categories", func() error {
		out, err := odoo("logs", "shop")
		if err != nil {
			return err
		}
		for _, want := range []string{"Health of shop: Degraded, 2 errors", "DatabaseSchema", "ModuleLoading",
			"CRITICAL  ModuleLoading  x1", "Failed to initialize database `shop`", `odoo.sql_db: bad query: SELECT "res_lang"."short_date_format"`} {
			if !strings.Contains(out, want) {
				return fmt.Errorf("logs lacks %q", want)
			}
		}
		return nil
	})
	// logs --follow: then the web pod's log, streamed until stopped.
	const lastLine = "CRITICAL shop odoo.service.server: Failed to initialize database `shop`."
	if out := odooUntil(lastLine, "logs", "shop", "--follow"); !strings.Contains(out, "Health of shop: Degraded, 2 errors") ||
		!strings.Contains(out, "\n--- log of pod "+pods[0]+" (container odoo) ---\n") || !strings.Contains(out, lastLine) {
		t.Errorf("logs --follow does not stream the web pod's log after the health")
	}
	if out := must("status", "shop"); !strings.Contains(out, "Health:       Degraded, 2 errors") || !regexp.MustCompile(`\n\s+DatabaseSchema\s+1\n`).MatchString(out) {
		t.Errorf("status does not show health by category")
	}

	// psql: KWOK pods cannot exec, and the plugin says so.
	out, err := odoo("psql", "shop")
	if err == nil || !strings.Contains(out, "cannot open psql in pod "+pods[0]) || !strings.Contains(out, "KWOK simulated node") {
		t.Errorf("psql on a KWOK pod: err %v, output %q", err, out)
	}

	// suspend: a spec change and an upgrade request wait.
	if out := must("suspend", "shop"); !strings.Contains(out, "operator acknowledged it") {
		t.Errorf("suspend was not acknowledged")
	}
	out = must("upgrade", "shop")
	m := regexp.MustCompile(regexp.QuoteMeta(odoov1alpha2.AnnotationUpgradeNow) + `=(\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "starts once it is resumed") {
		t.Fatalf("upgrade does not name the value it set or that the instance is suspended")
	}
	request := m[1]
	if got := jsonpath(t, ns, "odoo/shop", `{.metadata.annotations.bemade\.org/upgrade-now}`); got != request {
		t.Fatalf("annotation %s = %q, want %q", odoov1alpha2.AnnotationUpgradeNow, got, request)
	}
	framework.Kubectl(t, "patch", "-n", ns, odooRef("shop"), "--type=merge", "-p", `{"spec":{"replicas":2}}`)
	gen := jsonpath(t, ns, "odoo/shop", "{.metadata.generation}")
	framework.Eventually(t, 30*time.Second, "the operator saw the new spec while suspended", func() error {
		if got := jsonpath(t, ns, "odoo/shop", `{.status.conditions[?(@.type=="Suspended")].observedGeneration}`); got != gen {
			return fmt.Errorf("Suspended observedGeneration %q, want %s", got, gen)
		}
		return nil
	})
	if got := jsonpath(t, ns, "deploy/shop", "{.spec.replicas}"); got != "1" {
		t.Errorf("web replicas = %s while suspended, want 1", got)
	}
	if got := jsonpath(t, ns, "odoo/shop", "{.status.upgrade.request}"); got == request {
		t.Errorf("an upgrade started while suspended")
	}
	if out := must("status", "shop"); !strings.Contains(out, "(suspended: reconciliation paused until `kubectl odoo resume shop`)") || !regexp.MustCompile(`\n  Suspended\s+True\s+Suspended\s+reconciliation is paused`).MatchString(out) {
		t.Errorf("status does not show the instance suspended")
	}

	// A restore started while suspended takes the instance's lock, loads the
	// backup and waits at step Stop: status shows the lock record
	// (status.operation), and backup --wait shows a second backup waiting
	// for it.
	out = must("restore", "shop", "--from", "manual", "--name", "undo", "--neutralize=false")
	if !strings.Contains(out, "The instance is suspended: the restore loads the backup, then waits at step Stop") {
		t.Errorf("restore does not say that it waits for the suspended instance")
	}
	framework.Eventually(t, time.Minute, "status shows the restore holding the lock at step Stop", func() error {
		out, err := odoo("status", "shop", "-o", "json")
		if err != nil {
			return err
		}
		var r struct {
			Operation *struct{ Kind, Name, Step, Source, Elapsed string } `json:"operation"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			return err
		}
		if o := r.Operation; o == nil || o.Kind != "Restore" || o.Name != "undo" || o.Step != "Stop" || o.Source != "status.operation" || o.Elapsed == "" {
			return fmt.Errorf("operation %+v, want the lock record Restore undo at step Stop", o)
		}
		return nil
	})
	if out := must("status", "shop"); !regexp.MustCompile(`\nOperation:    Restore undo, step Stop, for \d+s\n`).MatchString(out) {
		t.Errorf("status does not show the operation in progress")
	}
	var waited struct {
		sync.WaitGroup
		out string
		err error
	}
	waited.Add(1)
	go func() {
		defer waited.Done()
		waited.out, waited.err = odoo("backup", "shop", "--name", "after", "--destination", "pvc:backups/shop/after.zip", "--wait")
	}()
	t.Cleanup(waited.Wait) // its log lines belong to this test, even if it stops early
	framework.Eventually(t, 30*time.Second, "the second backup waits for the restore", func() error {
		got, err := framework.KubectlE("get", "-n", ns, "odoobackupjobs.v1alpha2.bemade.org/after", "-o", "jsonpath={.status.message}")
		if err != nil || !strings.Contains(got, "waiting for the restore undo") {
			return fmt.Errorf("backup message %q (%w)", got, err)
		}
		return nil
	})

	// resume: all three are carried out.
	must("resume", "shop")
	framework.Eventually(t, time.Minute, "web scaled to 2 after resume", func() error {
		if got := jsonpath(t, ns, "deploy/shop", "{.spec.replicas}"); got != "2" {
			return fmt.Errorf("web replicas = %s", got)
		}
		return nil
	})
	framework.Eventually(t, 2*time.Minute, "the requested upgrade succeeded after resume", func() error {
		if got := jsonpath(t, ns, "odoo/shop", "{.status.upgrade.request} {.status.upgrade.phase}"); got != request+" Success" {
			return fmt.Errorf("status.upgrade request phase = %q", got)
		}
		return nil
	})
	waited.Wait()
	if waited.err != nil {
		t.Errorf("backup --wait behind the restore: %v", waited.err)
	}
	lines := regexp.MustCompile(`(?m)^\s*\d+[smh]\S*\s{2}(Pending|Running|Completed|Failed)\b.*$`).FindAllString(waited.out, -1)
	waiting := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "Pending    waiting for the restore undo to end") })
	if waiting < 0 || waiting == len(lines)-1 || !strings.Contains(lines[len(lines)-1], "Completed") ||
		slices.ContainsFunc(lines[:waiting], func(l string) bool { return !strings.Contains(l, "Pending") }) {
		t.Errorf("backup --wait behind the restore, lines %q: want it Pending waiting for the restore, Completed last", lines)
	}
	framework.Eventually(t, time.Minute, "the restore started while suspended completed", func() error {
		if got := jsonpath(t, ns, "odoorestorejobs.v1alpha2.bemade.org/undo", "{.status.phase}"); got != "Completed" {
			return fmt.Errorf("restore undo is %q", got)
		}
		return nil
	})
	if got := jsonpath(t, ns, "odoo/shop", `{.status.conditions[?(@.type=="Suspended")].status}`); got != "" {
		t.Errorf("Suspended = %q after resume, want no condition", got)
	}
	if out := must("status", "shop"); !strings.Contains(out, "Last upgrade: odoo-sim:18.0 -> odoo-sim:18.0: Success") {
		t.Errorf("status does not show the last upgrade")
	}

	// restore --wait: its steps, to Completed.
	out = must("restore", "shop", "--from", "manual", "--name", "again", "--neutralize=false", "--wait")
	for _, want := range []string{"OdooRestoreJob again created: restores claim backups at shop/" + ns + "/", "step Load"} {
		if !strings.Contains(out, want) {
			t.Errorf("restore --wait lacks %q", want)
		}
	}
	steps := regexp.MustCompile(`(?m)^\s*\d+[smh]\S*\s{2}(Pending|Running|Completed|Failed)\b.*$`).FindAllString(out, -1)
	if len(steps) < 2 || !strings.Contains(steps[len(steps)-1], "Completed") {
		t.Errorf("restore --wait lines %q: want the steps, the last Completed", steps)
	}
}
