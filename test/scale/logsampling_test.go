//go:build scale

package scale

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

var (
	sampledInstances = flag.Int("log-instances", 100, "instances whose logs are sampled in TestLogSamplingCost")
	sampleWindow     = flag.Duration("log-window", 3*time.Minute, "how long TestLogSamplingCost measures")
	logRate          = flag.Int("log-lines-per-second", 20, "Odoo log lines each pod writes per second in TestLogSamplingCost")
)

// cpuSeconds is the user+system CPU time of pid, from /proc.
func cpuSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// TestLogSamplingCost runs N instances whose pods all log lines at a steady
// rate (a file kwok serves as every web and cron pod's log, appended to as
// Odoo would) and reports the bytes the sampler reads per instance and
// minute and the operator's CPU while nothing but sampling happens.
func TestLogSamplingCost(t *testing.T) {
	n := *sampledInstances
	ns := framework.Namespace(t, fmt.Sprintf("logs-%d", n))
	var manifest strings.Builder
	for i := range n {
		fmt.Fprintf(&manifest, "---\napiVersion: bemade.org/v1alpha2\nkind: OdooInstance\nmetadata:\n  name: logs-%04d\nspec:\n  image: odoo-sim:18.0\n  adminPassword: pw\n  replicas: 1\n", i)
	}
	framework.Apply(t, ns, manifest.String())
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odooinstances.v1alpha2.bemade.org", "--all", "--timeout=20m")

	// One growing log file, served by kwok as the log of every pod.
	logFile := filepath.Join(t.TempDir(), "odoo.log")
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			now := time.Now().UTC()
			var b strings.Builder
			for j := range *logRate {
				level, msg := "INFO", fmt.Sprintf(`werkzeug: 10.0.0.%d - - [%s] "POST /web/dataset/call_kw HTTP/1.1" 200 - 12 0.010 0.020`, j, now.Format(time.RFC1123))
				if j == 0 && i%10 == 0 {
					level, msg = "ERROR", fmt.Sprintf("odoo.sql_db: bad query: SELECT 1 FROM sale_order WHERE id = %d", i)
				}
				fmt.Fprintf(&b, "%s stderr F %s 7 %s shop %s\n", now.Format(time.RFC3339Nano), now.Format("2006-01-02 15:04:05,000"), level, msg)
			}
			_, _ = f.WriteString(b.String())
		}
	}()
	pods := strings.Fields(framework.Kubectl(t, "get", "pods", "-n", ns, "-o", "jsonpath={.items[*].metadata.name}"))
	var logs strings.Builder
	for _, pod := range pods {
		fmt.Fprintf(&logs, "---\napiVersion: kwok.x-k8s.io/v1alpha1\nkind: Logs\nmetadata:\n  name: %s\nspec:\n  logs:\n  - logsFile: %s\n    follow: false\n", pod, logFile)
	}
	framework.Apply(t, ns, logs.String())

	// Let the sampler reach its steady rhythm, then measure.
	time.Sleep(45 * time.Second)
	pid := framework.OperatorPID(t)
	before := framework.OperatorMetrics(t)
	cpuBefore := cpuSeconds(t, pid)
	start := time.Now()
	time.Sleep(*sampleWindow)
	elapsed := time.Since(start)
	after := framework.OperatorMetrics(t)
	cpu := cpuSeconds(t, pid) - cpuBefore

	bytesRead := framework.Metrics(after, "odoo_operator_log_bytes_read_total") - framework.Metrics(before, "odoo_operator_log_bytes_read_total")
	reads := framework.Metrics(after, "odoo_operator_log_samples_total", `result="ok"`) - framework.Metrics(before, "odoo_operator_log_samples_total", `result="ok"`)
	failed := framework.Metrics(after, "odoo_operator_log_samples_total", `result="error"`) - framework.Metrics(before, "odoo_operator_log_samples_total", `result="error"`)
	minutes := elapsed.Minutes()
	t.Logf("instances:                          %d (web + cron pods each, %d log lines/s per pod)", n, *logRate)
	t.Logf("measured over:                      %v", elapsed.Round(time.Second))
	t.Logf("pods/log reads:                     %.0f ok, %.0f failed (%.1f per instance per minute)", reads, failed, reads/float64(n)/minutes)
	t.Logf("log bytes read per instance/minute: %.0f", bytesRead/float64(n)/minutes)
	t.Logf("operator CPU:                       %.2f s over %v = %.1f%% of one core", cpu, elapsed.Round(time.Second), 100*cpu/elapsed.Seconds())
	if reads == 0 || bytesRead == 0 {
		t.Fatal("the sampler read nothing: is log monitoring enabled (--log-sample-interval > 0)?")
	}
	healthy := framework.Kubectl(t, "get", "odooinstances.v1alpha2.bemade.org", "-n", ns, "-o", `jsonpath={range .items[*]}{.status.health.status}{"\n"}{end}`)
	if got := strings.Count(healthy, "Degraded"); got < n {
		t.Errorf("%d of %d instances report the logged errors in status.health", got, n)
	}
}
