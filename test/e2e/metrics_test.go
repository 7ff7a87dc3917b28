//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestMetricsAndStepLogs: after a backup and a restore of it on the
// sandbox, the operator's /metrics serve the instance's per-instance gauges
// as its status says (phase, readiness, the backup's completion time and
// size, jobs by phase), the duration histograms counted both, and the
// operator's log holds each step's start and end lines (instance,
// operation, duration), the restore's steps as the restore controller
// stored them, and no credential of the instance.
func TestMetricsAndStepLogs(t *testing.T) {
	ns := framework.Namespace(t, "e2e-metrics")
	framework.Apply(t, ns, simInstance("shop", ""))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	framework.ModuleFixture(t, db)
	framework.GiveTablesToOwner(t, db)
	before := framework.OperatorMetrics(t)
	completedBefore := framework.Metrics(before, "odoo_operator_backup_duration_seconds_count", `result="Completed"`)
	restoredBefore := framework.Metrics(before, "odoo_operator_restore_duration_seconds_count", `result="Completed"`)

	backupToClaim(t, ns, "first", "shop")
	backup := "odoobackupjobs.v1alpha2.bemade.org/first"
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", backup, "--timeout=2m")
	completion, err := time.Parse(time.RFC3339, jsonpath(t, ns, backup, "{.status.completionTime}"))
	if err != nil {
		t.Fatalf("status.completionTime: %v", err)
	}
	size, err := strconv.ParseFloat(jsonpath(t, ns, backup, "{.status.backupSize}"), 64)
	if err != nil || size <= 0 {
		t.Fatalf("status.backupSize %v (%v)", size, err)
	}

	restore := "odoorestorejobs.v1alpha2.bemade.org/back"
	framework.Apply(t, ns, `apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: back
spec:
  odooInstanceRef: {name: shop}
  neutralize: false
  source:
    type: pvc
    pvc: {claimName: backups, path: `+jsonpath(t, ns, backup, "{.status.objectKey}")+`}
`)
	if out, err := framework.KubectlE("wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", restore, "--timeout=2m"); err != nil {
		t.Fatalf("the restore did not complete: %v %s\nstatus: %s", err, out, jsonpath(t, ns, restore, "{.status}"))
	}
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")

	inst := fmt.Sprintf(`name="shop",namespace=%q`, ns)
	want := map[string]float64{
		`odoo_operator_instance_ready{` + inst + `}`:                                 1,
		`odoo_operator_instance_phase{` + inst + `,phase="Running"}`:                 1,
		`odoo_operator_instance_phase{` + inst + `,phase="Pending"}`:                 0,
		`odoo_operator_instance_database_reachable{` + inst + `}`:                    1,
		`odoo_operator_instance_last_backup_success_timestamp_seconds{` + inst + `}`: float64(completion.Unix()),
		`odoo_operator_instance_last_backup_size_bytes{` + inst + `}`:                size,
		`odoo_operator_instance_backup_jobs{` + inst + `,phase="Completed"}`:         1,
		`odoo_operator_instance_restore_jobs{` + inst + `,phase="Completed"}`:        1,
		`odoo_operator_instance_backup_scheduled{` + inst + `}`:                      0,
		`odoo_operator_instance_desired_replicas{` + inst + `}`:                      1,
		`odoo_operator_webhook_certificate_readable`:                                 1,
		`odoo_operator_upgrade_duration_seconds_count{result="Failed"}`:              -1, // present
		`odoo_operator_instance_created_timestamp_seconds{` + inst + `}`:             -1,
		`odoo_operator_instance_ready_replicas{` + inst + `}`:                        -1,
		`odoo_operator_webhook_certificate_expiry_timestamp_seconds`:                 -1,
	}
	// Never upgraded or rolled back, and no operation in progress.
	absent := []string{
		"odoo_operator_instance_upgrade_last_result",
		"odoo_operator_instance_upgrade_last_completion_timestamp_seconds",
		"odoo_operator_instance_last_rollback_timestamp_seconds",
		"odoo_operator_instance_operation",
		"odoo_operator_instance_operation_started_timestamp_seconds",
	}
	framework.Eventually(t, time.Minute, "the instance's metrics", func() error {
		samples := parseSamples(framework.OperatorMetrics(t))
		var errs []string
		for series, v := range want {
			got, ok := samples[series]
			switch {
			case !ok:
				errs = append(errs, series+" is absent")
			case v == -1: // present, any value
			case v != got:
				errs = append(errs, fmt.Sprintf("%s = %v, want %v", series, got, v))
			}
		}
		// At least this backup (others may end meanwhile).
		if got := samples[`odoo_operator_backup_duration_seconds_count{result="Completed"}`]; got < completedBefore+1 {
			errs = append(errs, fmt.Sprintf("backup durations counted %v, want at least %v", got, completedBefore+1))
		}
		if got := samples[`odoo_operator_restore_duration_seconds_count{result="Completed"}`]; got < restoredBefore+1 {
			errs = append(errs, fmt.Sprintf("restore durations counted %v, want at least %v", got, restoredBefore+1))
		}
		for series, got := range samples {
			for _, m := range absent {
				if strings.HasPrefix(series, m+"{") && strings.Contains(series, inst) {
					errs = append(errs, fmt.Sprintf("%s = %v, want absent", series, got))
				}
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%s", strings.Join(errs, "; "))
		}
		return nil
	})

	// The step lines of the backup, from the operator's own log.
	secrets := []string{"master-shop", tenantPassword(t, ns)}
	var lines []map[string]any
	framework.Eventually(t, 30*time.Second, "the backup's step lines in the operator log", func() error {
		lines = operationLines(t, ns)
		for _, msg := range []string{"operation started", "operation step started", "operation step finished", "operation finished"} {
			if !hasLine(lines, func(l map[string]any) bool {
				return l["msg"] == msg && l["instance"] == "shop" && l["operation"] == "Backup" && l["object"] == "first"
			}) {
				return fmt.Errorf("no %q line for the backup first of shop in %d lines", msg, len(lines))
			}
		}
		if !hasLine(lines, func(l map[string]any) bool {
			return l["msg"] == "operation finished" && l["operation"] == "Restore" && l["object"] == "back" && l["result"] == "Completed"
		}) {
			return fmt.Errorf("no end line of the restore back")
		}
		return nil
	})
	// The restore's steps, each started and finished: those its status
	// went through (Load, Verify, Swap, ... as the restore controller
	// stores them before acting).
	started, finished := map[string]bool{}, map[string]bool{}
	for _, l := range lines {
		if l["operation"] != "Restore" || l["object"] != "back" {
			continue
		}
		step, _ := l["step"].(string)
		switch l["msg"] {
		case "operation step started":
			started[step] = true
		case "operation step finished":
			finished[step] = true
		}
	}
	for _, step := range []string{string(odoov1alpha2.RestoreStepLoad), string(odoov1alpha2.RestoreStepSwap)} {
		if !started[step] || !finished[step] {
			t.Errorf("restore step %s: started %v, finished %v (steps seen %v)", step, started[step], finished[step], started)
		}
	}
	for _, l := range lines {
		if strings.HasSuffix(l["msg"].(string), "finished") {
			if d, ok := l["durationSeconds"].(float64); !ok || d < 0 {
				t.Errorf("finished line without a duration: %v", l)
			}
		}
		if l["msg"] == "operation finished" && l["object"] == "first" && l["result"] != "Completed" {
			t.Errorf("the backup's end says result %v, want Completed", l["result"])
		}
		raw, _ := json.Marshal(l)
		for _, s := range secrets {
			if strings.Contains(string(raw), s) {
				t.Errorf("an operations log line holds a credential: %s", raw)
			}
		}
	}
}

// parseSamples maps each series of a Prometheus text exposition, written
// as in the text (`name{label="v",...}`), to its value.
func parseSamples(body string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out
}

// operationLines are the JSON lines of the operator's "operations" logger
// about instances of namespace ns.
func operationLines(t *testing.T, ns string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(os.Getenv("SANDBOX_STATE"), "logs", "operator.log"))
	if err != nil {
		t.Fatalf("the operator's log: %v", err)
	}
	defer func() { _ = f.Close() }()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) != nil || l["logger"] != "operations" || l["namespace"] != ns {
			continue
		}
		out = append(out, l)
	}
	return out
}

func hasLine(lines []map[string]any, match func(map[string]any) bool) bool {
	for _, l := range lines {
		if match(l) {
			return true
		}
	}
	return false
}
