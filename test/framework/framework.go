// Package framework drives the sandbox cluster from end-to-end tests and the
// scale harness: real kubectl for what a user types, and the operator's and
// the apiserver's own metrics for what it costs.
package framework

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Kubectl runs the sandbox's kubectl (first on PATH after `hack/sandbox.sh
// env`) and returns stdout, failing the test on error.
func Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := KubectlE(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// KubectlE runs kubectl and returns stdout, or an error holding stderr.
func KubectlE(args ...string) (string, error) {
	return KubectlStdin("", args...)
}

// KubectlStdin runs kubectl with stdin.
func KubectlStdin(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", args...) //nolint:gosec // kubectl with the test's own arguments
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Apply pipes manifests into `kubectl apply`.
func Apply(t testing.TB, namespace, manifests string) {
	t.Helper()
	if out, err := KubectlStdin(manifests, "apply", "-n", namespace, "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
}

// Namespace creates a namespace and deletes it when the test ends.
func Namespace(t testing.TB, name string) string {
	t.Helper()
	_, _ = KubectlE("delete", "namespace", name, "--ignore-not-found", "--wait=true", "--timeout=60s")
	Kubectl(t, "create", "namespace", name)
	// Wait for the deletion, so that one test's teardown (the garbage
	// collector deleting children, the operator seeing it) never lands in the
	// next test's measurements.
	t.Cleanup(func() {
		if t.Failed() {
			dumpNamespace(t, name)
		}
		_, _ = KubectlE("delete", "namespace", name, "--wait=true", "--timeout=120s")
	})
	return name
}

// dumpNamespace logs what a failed test leaves in its namespace and the
// operator's last log lines about it: CI keeps only the test output, and a
// failure seen once under load is otherwise lost with the sandbox.
func dumpNamespace(t testing.TB, ns string) {
	t.Helper()
	out, _ := KubectlE("get", "odooinstances.v1alpha2.bemade.org,odoobackupjobs.v1alpha2.bemade.org,odoorestorejobs.v1alpha2.bemade.org,jobs,pods",
		"-n", ns, "-o", "wide")
	t.Logf("objects left in %s:\n%s", ns, out)
	out, _ = KubectlE("get", "odooinstances.v1alpha2.bemade.org", "-n", ns, "-o", "jsonpath={range .items[*]}{.metadata.name}: {.status}{\"\\n\"}{end}")
	t.Logf("instance status in %s:\n%s", ns, out)
	b, err := os.ReadFile(filepath.Join(os.Getenv("SANDBOX_STATE"), "logs", "operator.log")) //nolint:gosec // the sandbox's own log
	if err != nil {
		return
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, `"`+ns+`"`) || strings.Contains(l, ns+"/") {
			lines = append(lines, l)
		}
	}
	lines = lines[max(0, len(lines)-60):]
	t.Logf("the operator's last %d log lines about %s:\n%s", len(lines), ns, strings.Join(lines, "\n"))
}

// Eventually polls check until it returns nil or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
}

// RepoRoot is the checkout the tests run from.
func RepoRoot() string {
	wd, _ := os.Getwd()
	for dir := wd; dir != "/"; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
	}
	return wd
}

// Metrics fetches a Prometheus text endpoint and sums the samples of metric
// whose labels contain every filter (`verb="GET"`).
func Metrics(body, metric string, filters ...string) float64 {
	total := 0.0
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric+"{") && !strings.HasPrefix(line, metric+" ") {
			continue
		}
		ok := true
		for _, f := range filters {
			if !strings.Contains(line, f) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		fields := strings.Fields(line)
		if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
			total += v
		}
	}
	return total
}

// OperatorMetrics returns the operator's Prometheus metrics.
func OperatorMetrics(t testing.TB) string {
	t.Helper()
	url := os.Getenv("SANDBOX_OPERATOR_METRICS_URL")
	if url == "" {
		t.Fatal("SANDBOX_OPERATOR_METRICS_URL is not set: run under `eval \"$(hack/sandbox.sh env)\"`")
	}
	resp, err := http.Get(url) //nolint:gosec,noctx // the sandbox's own loopback endpoint
	if err != nil {
		t.Fatalf("operator metrics: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// APIServerMetrics returns the kube-apiserver's Prometheus metrics.
func APIServerMetrics(t testing.TB) string {
	t.Helper()
	return Kubectl(t, "get", "--raw", "/metrics")
}

// OperatorWrites counts the operator's mutating API requests so far
// (client-go's rest_client_requests_total), by method.
func OperatorWrites(t testing.TB) map[string]float64 {
	t.Helper()
	m := OperatorMetrics(t)
	writes := map[string]float64{}
	for _, verb := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		writes[verb] = Metrics(m, "rest_client_requests_total", `method="`+verb+`"`)
	}
	return writes
}

// OperatorPID is the pid of the operator the sandbox started.
func OperatorPID(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(os.Getenv("SANDBOX_STATE"), "pids", "operator.pid")) //nolint:gosec // a pid from the sandbox's own pid file
	if err != nil {
		t.Fatalf("operator pid file: %v", err)
	}
	// The file holds "<pid> <start time>" (hack/sandbox.sh guards against pid reuse).
	pid, err := strconv.Atoi(strings.Fields(string(b))[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// ProcessMemory returns the current and peak resident set size of pid in KiB
// (VmRSS and VmHWM from /proc).
func ProcessMemory(t testing.TB, pid int) (rssKiB, peakKiB int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "VmRSS:":
			rssKiB = v
		case "VmHWM:":
			peakKiB = v
		}
	}
	return rssKiB, peakKiB
}

// SandboxPostgres returns the connection string of the sandbox's PostgreSQL
// superuser (from $SANDBOX_STATE/postgres.env written by hack/sandbox.sh).
func SandboxPostgres(t testing.TB) string {
	t.Helper()
	return sandboxPostgresAt(t, "postgres.env")
}

// SandboxPostgres2 is SandboxPostgres of the sandbox's second PostgreSQL
// server (not in the clusters Secret: tests that move a database add it).
func SandboxPostgres2(t testing.TB) string {
	t.Helper()
	return sandboxPostgresAt(t, "postgres2.env")
}

func sandboxPostgresAt(t testing.TB, file string) string {
	t.Helper()
	env, err := os.ReadFile(filepath.Join(os.Getenv("SANDBOX_STATE"), file)) //nolint:gosec // the sandbox's own state file
	if err != nil {
		t.Fatalf("sandbox PostgreSQL: %v", err)
	}
	vals := map[string]string{}
	for _, line := range strings.Split(string(env), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vals[k] = v
		}
	}
	pw, err := os.ReadFile(vals["PGPASSWORD_FILE"])
	if err != nil {
		t.Fatalf("sandbox PostgreSQL password: %v", err)
	}
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%s/postgres?sslmode=disable",
		strings.TrimSpace(string(pw)), vals["PGPORT"])
}

// SandboxPostgresCtl runs hack/postgres.sh (stop, up) on the sandbox's server.
func SandboxPostgresCtl(t testing.TB, verb string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(RepoRoot(), "hack", "postgres.sh"), verb) //nolint:gosec // the repository's own script
	cmd.Env = append(os.Environ(), "PGWORK="+filepath.Join(os.Getenv("SANDBOX_STATE"), "postgres"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/postgres.sh %s: %v\n%s", verb, err, out)
	}
}

// SandboxPostgresConnections counts the connections the sandbox's PostgreSQL
// authorised so far for application_name (its log_connections lines).
func SandboxPostgresConnections(t testing.TB, application string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(os.Getenv("SANDBOX_STATE"), "postgres", "postgres.log")) //nolint:gosec // the sandbox's own log
	if err != nil {
		t.Fatalf("sandbox PostgreSQL log: %v", err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "connection authorized:") && strings.Contains(line, "application_name="+application) {
			n++
		}
	}
	return n
}

// Run runs a command of the repository (a hack/ script) and returns its output.
func Run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput() //nolint:gosec // the repository's own scripts
	return string(out), err
}
