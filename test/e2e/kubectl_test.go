//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// kubectlAsTyped runs kubectl as a user types it and returns stdout and
// stderr apart, failing the test on error or on any warning.
func kubectlAsTyped(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("kubectl", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if strings.Contains(stderr.String(), "Warning:") {
		t.Errorf("kubectl %s warned: %s", strings.Join(args, " "), stderr.String())
	}
	return stdout.String()
}

// row is one line of `kubectl get odoo`, by column header.
type row map[string]string

// parseTable reads one row of kubectl's table output by the header's
// column offsets (kubectl aligns the cells under their headers; an empty
// cell prints as spaces).
func parseTable(t *testing.T, header, line string) row {
	t.Helper()
	var starts []int
	for i := range header {
		if header[i] != ' ' && (i == 0 || header[i-1] == ' ') {
			starts = append(starts, i)
		}
	}
	names := strings.Fields(header)
	if len(names) != len(starts) {
		t.Fatalf("header %q", header)
	}
	r := row{}
	for i, n := range names {
		from, to := starts[i], len(line)
		if i+1 < len(starts) {
			to = min(starts[i+1], len(line))
		}
		if from > len(line) {
			t.Fatalf("row %q is shorter than header %q", line, header)
		}
		r[n] = strings.TrimSpace(line[from:to])
	}
	return r
}

// getRow is `kubectl get odoo NAME` as one row.
func getRow(t *testing.T, ns, name string) row {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(kubectlAsTyped(t, "get", "odoo", name, "-n", ns)), "\n")
	if len(lines) != 2 {
		t.Fatalf("kubectl get odoo %s printed %q", name, lines)
	}
	return parseTable(t, lines[0], lines[1])
}

// rowWatcher records every row the API server's Table view of the instance
// holds (what `kubectl get odoo NAME --watch` prints: the printer columns),
// for each status the operator wrote. The watch is read structured rather
// than from kubectl's output, whose watch rows are not aligned to a header.
type rowWatcher struct {
	mu     sync.Mutex
	rows   []row
	cancel context.CancelFunc
	done   chan struct{}
}

func watchRows(t *testing.T, c *framework.Clients, ns, name string) *rowWatcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &rowWatcher{cancel: cancel, done: make(chan struct{})}
	stream, err := c.Kube.Discovery().RESTClient().Get().
		AbsPath("/apis/bemade.org/v1alpha2/namespaces", ns, "odooinstances").
		Param("watch", "true").Param("fieldSelector", "metadata.name="+name).Param("includeObject", "Object").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").
		Stream(ctx)
	if err != nil {
		cancel()
		t.Fatalf("watching the Table of %s/%s: %v", ns, name, err)
	}
	go func() {
		defer close(w.done)
		defer func() { _ = stream.Close() }()
		dec := json.NewDecoder(stream)
		var columns []string
		for {
			var ev struct {
				Object struct {
					ColumnDefinitions []struct{ Name string } `json:"columnDefinitions"`
					Rows              []struct {
						Cells  []any `json:"cells"`
						Object struct {
							Status struct {
								ReadyReplicas int32 `json:"readyReplicas"`
							} `json:"status"`
						} `json:"object"`
					} `json:"rows"`
				} `json:"object"`
			}
			if err := dec.Decode(&ev); err != nil {
				return
			}
			if defs := ev.Object.ColumnDefinitions; len(defs) > 0 {
				columns = columns[:0]
				for _, d := range defs {
					columns = append(columns, strings.ToUpper(d.Name))
				}
			}
			for _, rr := range ev.Object.Rows {
				// Not a column: how many web pods serve, for the checks.
				r := row{"readyReplicas": fmt.Sprint(rr.Object.Status.ReadyReplicas)}
				for i, cell := range rr.Cells {
					if i < len(columns) && cell != nil {
						r[columns[i]] = fmt.Sprint(cell)
					}
				}
				w.mu.Lock()
				w.rows = append(w.rows, r)
				w.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { w.stop() })
	return w
}

func (w *rowWatcher) stop() []row {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rows
}

// firstRow returns the first recorded row that match accepts.
func firstRow(rows []row, match func(row) bool) (row, bool) {
	for _, r := range rows {
		if match(r) {
			return r, true
		}
	}
	return nil, false
}

// TestKubectlAsPeopleTypeIt: on a fresh install (v1alpha2 the only served
// version, no category named like the short name) `kubectl get/describe/
// scale/edit/explain odoo` work without a warning, and the printer columns
// tell what serves: the phase during an upgrade and a restore (Ready False
// while the restore holds web at 0), and the serving image beside the wanted
// one after a failed upgrade.
func TestKubectlAsPeopleTypeIt(t *testing.T) {
	ns := framework.Namespace(t, "e2e-kubectl")
	c := framework.NewClients(t)
	// A new user's kubectl has no discovery cache from earlier tests.
	t.Setenv("KUBECACHEDIR", t.TempDir())
	db := upgradeInstance(t, ns, "", true)

	r := getRow(t, ns, "shop")
	for col, want := range map[string]string{"NAME": "shop", "IMAGE": fromImage, "WANTED": "", "READY": "True", "PHASE": "Running", "URL": "https://shop.example.com"} {
		if r[col] != want {
			t.Errorf("kubectl get odoo shop: %s = %q, want %q (row %v)", col, r[col], want, r)
		}
	}
	if out := kubectlAsTyped(t, "describe", "odoo", "shop", "-n", ns); !strings.Contains(out, "API Version:  bemade.org/v1alpha2") || !strings.Contains(out, "Kind:         OdooInstance") {
		t.Errorf("kubectl describe odoo shop does not describe the v1alpha2 OdooInstance:\n%s", out)
	}
	if out := kubectlAsTyped(t, "scale", "odoo", "shop", "-n", ns, "--replicas=2"); !strings.Contains(out, "scaled") {
		t.Errorf("kubectl scale odoo shop: %q", out)
	}
	framework.Eventually(t, wait, "2 ready web replicas after kubectl scale", func() error {
		if got := jsonpath(t, ns, "odoo/shop", "{.spec.replicas} {.status.readyReplicas}"); got != "2 2" {
			return fmt.Errorf("spec.replicas status.readyReplicas = %q", got)
		}
		return nil
	})
	// A legacy client gets the error docs/versions.md names, nothing stored.
	legacy, _ := legacyExample(t)
	if out, err := framework.KubectlStdin(legacy, "apply", "-n", ns, "-f", "-"); err == nil ||
		!strings.Contains(err.Error(), `no matches for kind "OdooInstance" in version "bemade.org/v1"`) {
		t.Errorf("applying a bemade.org/v1 object on a fresh install: %v\n%s", err, out)
	}
	explain := kubectlAsTyped(t, "explain", "odoo.spec")
	for _, want := range []string{"VERSION:    v1alpha2", "adminPasswordSecretRef", "deletionPolicy"} {
		if !strings.Contains(explain, want) {
			t.Errorf("kubectl explain odoo.spec lacks %q (the v1alpha2 schema):\n%s", want, explain)
		}
	}
	// kubectl edit through an editor that sets replicas back to 1.
	editor := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/^  replicas: 2$/  replicas: 1/' \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBE_EDITOR", editor)
	if out := kubectlAsTyped(t, "edit", "odoo", "shop", "-n", ns); !strings.Contains(out, "edited") {
		t.Errorf("kubectl edit odoo shop: %q", out)
	}
	if got := jsonpath(t, ns, "odoo/shop", "{.spec.replicas}"); got != "1" {
		t.Errorf("spec.replicas = %q after kubectl edit, want 1", got)
	}
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")

	// A restore: Restoring, and never Ready while web is held at 0.
	backupToClaim(t, ns, "before", "shop/before.zip")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", "odoobackupjobs.v1alpha2.bemade.org/before", "--timeout=2m")
	key := jsonpath(t, ns, "odoobackupjobs.v1alpha2.bemade.org/before", "{.status.objectKey}")
	w := watchRows(t, c, ns, "shop")
	restoreShopFromClaim(t, ns, "undo", key)
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", "odoorestorejobs.v1alpha2.bemade.org/undo", "--timeout=2m")
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")
	rows := w.stop()
	// The old database serves while the backup is loaded and checked
	// (READY may be True then); while the databases are swapped no web pod
	// serves, and READY is False.
	if _, ok := firstRow(rows, func(r row) bool {
		return r["PHASE"] == "Restoring" && r["readyReplicas"] == "0" && r["READY"] == "False"
	}); !ok {
		t.Errorf("no row with PHASE Restoring, no web pod ready and READY False during the restore: %v", rows)
	}
	if r, ok := firstRow(rows, func(r row) bool { return r["readyReplicas"] == "0" && r["READY"] == "True" }); ok {
		t.Errorf("READY True while no web pod serves: %v", r)
	}
	t.Logf("during the restore: %v", rows)
	if got := jsonpath(t, ns, "odoo/shop", "{.status.database.name}"); got != db {
		t.Errorf("database %q after the restore, want %q", got, db)
	}
	// The category lists every kind of the operator.
	all := kubectlAsTyped(t, "get", "odoo-all", "-n", ns, "-o", "name")
	for _, want := range []string{"odooinstance.bemade.org/shop", "odoobackupjob.bemade.org/before", "odoorestorejob.bemade.org/undo"} {
		if !strings.Contains(all, want) {
			t.Errorf("kubectl get odoo-all lacks %s:\n%s", want, all)
		}
	}

	// An upgrade: Upgrading while it runs.
	w = watchRows(t, c, ns, "shop")
	setImage(t, ns, "shop", toImage)
	waitUpgrade(t, c, ns, "shop", odoov1alpha2.UpgradeSuccess, attempted(toImage))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")
	rows = w.stop()
	if r, ok := firstRow(rows, func(r row) bool { return r["PHASE"] == "Upgrading" }); !ok {
		t.Errorf("no row with PHASE Upgrading during the upgrade: %v", rows)
	} else if r["IMAGE"] != fromImage || r["WANTED"] != toImage {
		t.Errorf("during the upgrade IMAGE %q WANTED %q, want %q serving and %q wanted", r["IMAGE"], r["WANTED"], fromImage, toImage)
	}
	t.Logf("during the upgrade: %v", rows)

	// A failed upgrade: the image that serves, and the wanted one apart.
	setImage(t, ns, "shop", brokenImage)
	waitUpgrade(t, c, ns, "shop", odoov1alpha2.UpgradeFailed, attempted(brokenImage))
	framework.Eventually(t, wait, "the failed upgrade in the printer columns", func() error {
		r := getRow(t, ns, "shop")
		if r["IMAGE"] != toImage || r["WANTED"] != brokenImage || r["PHASE"] != "Degraded" {
			return fmt.Errorf("row %v, want IMAGE %s (serving), WANTED %s, PHASE Degraded", r, toImage, brokenImage)
		}
		return nil
	})
}
