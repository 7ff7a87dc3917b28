package framework

import (
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

// SandboxCtl runs `hack/sandbox.sh <args>` on the test's sandbox with extra
// environment (e.g. SANDBOX_LEADER_ELECT=1), failing the test on error.
func SandboxCtl(t testing.TB, env []string, args ...string) {
	t.Helper()
	cmd := sandboxCmd(env, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/sandbox.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ComponentPID is the pid of a sandbox component (operator, operator-2,
// kube-apiserver, ...) from its pid file, or 0 when it has none.
func ComponentPID(t testing.TB, component string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(os.Getenv("SANDBOX_STATE"), "pids", component+".pid")) //nolint:gosec // the sandbox's own pid file
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	pid, _ := strconv.Atoi(f[0])
	return pid
}

// IsLeader reports whether the operator serving metricsURL holds the leader
// Lease (controller-runtime's leader_election_master_status); false when it
// does not answer.
func IsLeader(metricsURL string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(metricsURL) //nolint:noctx // the sandbox's own loopback endpoint
	if err != nil {
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return false
	}
	return Metrics(string(body), "leader_election_master_status", `name="odoo-operator.bemade.org"`) == 1
}

func sandboxCmd(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(RepoRoot(), "hack", "sandbox.sh"), args...) //nolint:gosec // the repository's own script
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// ProcessCPU is the user + system CPU time pid used so far (/proc/<pid>/stat,
// in clock ticks of 1/100 s).
func ProcessCPU(t testing.TB, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// After the command name: field 3 (state) is f[0]; utime is field 14, stime 15.
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
