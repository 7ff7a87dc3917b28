//go:build e2e && chaos

package e2e

// The fault scenarios of `make chaos` (issue 17): each injects one fault on
// the sandbox and asserts the end state: every operation ends correctly, no
// Job or backup is made twice, nothing is lost. They are not in .ci/run (each
// takes minutes: a leader Lease expires in 15 s, a rollout of 50 instances
// converges in about a minute on the 2-core machine). Figures are logged with
// the prefix "chaos:" and collected in docs/reliability.md.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// replica is one operator process of the sandbox.
type replica struct {
	component  string // hack/sandbox.sh component, with its pid file
	metricsURL string
}

func replicas() []replica {
	return []replica{
		{"operator", os.Getenv("SANDBOX_OPERATOR_METRICS_URL")},
		{"operator-2", os.Getenv("SANDBOX_OPERATOR2_METRICS_URL")},
	}
}

// leaderPair runs the sandbox's operator and a second replica with leader
// election; when the test ends the replica is stopped and the operator runs
// alone again, as the other e2e tests expect.
func leaderPair(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		framework.SandboxCtl(t, nil, "stop-replica")
		framework.SandboxCtl(t, nil, "restart-operator")
	})
	framework.SandboxCtl(t, []string{"SANDBOX_LEADER_ELECT=1"}, "restart-operator")
	framework.SandboxCtl(t, nil, "start-replica")
	leaderNow(t)
}

// leaderNow waits until exactly one replica leads and returns it and the other.
func leaderNow(t *testing.T) (leader, standby replica) {
	t.Helper()
	framework.Eventually(t, time.Minute, "one leader", func() error {
		var leaders []replica
		for _, r := range replicas() {
			if framework.IsLeader(r.metricsURL) {
				leaders = append(leaders, r)
			} else {
				standby = r
			}
		}
		if len(leaders) != 1 {
			return fmt.Errorf("%d leaders", len(leaders))
		}
		leader = leaders[0]
		return nil
	})
	return leader, standby
}

// killLeaderWhen SIGKILLs the leading replica as soon as reached holds
// (polled every 5 ms), waits until the standby leads, logs the time from the
// kill to the takeover, and restarts the killed replica as the new standby.
func killLeaderWhen(t *testing.T, what string, reached func(context.Context) bool) {
	t.Helper()
	leader, standby := leaderNow(t)
	pid := framework.ComponentPID(t, leader.component)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for !reached(ctx) {
		if ctx.Err() != nil {
			t.Fatalf("%s was never reached", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s (pid %d): %v", leader.component, pid, err)
	}
	var takeover time.Duration
	framework.Eventually(t, time.Minute, standby.component+" takes the lead", func() error {
		if !framework.IsLeader(standby.metricsURL) {
			return fmt.Errorf("%s does not lead yet", standby.component)
		}
		takeover = time.Since(killed)
		return nil
	})
	t.Logf("chaos: %s: killed the leader %s; %s took over after %v", what, leader.component, standby.component, takeover.Round(100*time.Millisecond))
	// The killed replica comes back as the standby.
	if leader.component == "operator" {
		framework.SandboxCtl(t, []string{"SANDBOX_LEADER_ELECT=1"}, "restart-operator")
	} else {
		framework.SandboxCtl(t, nil, "start-replica")
	}
}

// TestChaosLeaderFailover: two replicas with leader election; the leader is
// SIGKILLed as soon as a backup's Job exists, then as soon as an upgrade's Job exists. The
// standby takes over within the Lease's 15 s (plus its 2 s retry), each
// operation ends correctly, and each Job and backup exists exactly once.
func TestChaosLeaderFailover(t *testing.T) {
	ns := framework.Namespace(t, "chaos-failover")
	c := framework.NewClients(t)
	leaderPair(t)
	framework.Apply(t, ns, "---\n"+instanceManifest("shop")+"---\n"+instanceManifest("upshop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "odoo/upshop", "--timeout=3m")
	for _, name := range []string{"shop", "upshop"} {
		framework.ModuleFixture(t, jsonpath(t, ns, "odoo/"+name, "{.status.database.name}"))
	}
	shopJobs := recordJobs(t, c, ns, "shop")
	upJobs := recordJobs(t, c, ns, "upshop")

	t.Run("backup", func(t *testing.T) {
		jobRuns := func(ctx context.Context) bool {
			jobs, err := c.Kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: jobKindLabel + "=backup," + instanceLabel + "=shop"})
			return err == nil && len(jobs.Items) > 0
		}
		backupToClaim(t, ns, "nightly", "shop")
		killLeaderWhen(t, "backup Job created", jobRuns)
		framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", backupRef+"nightly", "--timeout=3m")
		shopJobs.expectOneNewJob(t, "backup", nil, jsonpath(t, ns, backupRef+"nightly", "{.status.jobName}"))
		if got := framework.Kubectl(t, "get", "-n", ns, "odoobackupjobs.v1alpha2.bemade.org", "-o", "name"); strings.Count(got, "\n") != 1 {
			t.Errorf("OdooBackupJobs after the failover:\n%s\nwant only nightly", got)
		}
		framework.Eventually(t, time.Minute, "status.lastBackup", func() error {
			if jsonpath(t, ns, "odoo/shop", "{.status.lastBackup}") == "" {
				return fmt.Errorf("status.lastBackup is empty")
			}
			return nil
		})
	})

	t.Run("upgrade", func(t *testing.T) {
		upgradeJobRuns := func(ctx context.Context) bool {
			inst := &odoov1alpha2.OdooInstance{}
			if c.GetInstance(ctx, ns, "upshop", inst) != nil || inst.Status.Upgrade == nil ||
				inst.Status.Upgrade.Step != odoov1alpha2.UpgradeStepUpgrade {
				return false
			}
			jobs, err := c.Kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: jobKindLabel + "=upgrade," + instanceLabel + "=upshop"})
			return err == nil && len(jobs.Items) > 0
		}
		setImage(t, ns, "upshop", toImage)
		killLeaderWhen(t, "upgrade Job created", upgradeJobRuns)
		st := waitUpgrade(t, c, ns, "upshop", odoov1alpha2.UpgradeSuccess, attempted(toImage))
		upJobs.expectOneNewJob(t, "upgrade", nil, st.JobName)
		if got := upJobs.jobs(t, "backup"); len(got) != 1 {
			t.Errorf("restore point Jobs ever created (name uid): %v, want exactly one", got)
		}
		checkRestorePoint(t, c, ns, "upshop", st)
		waitTier(t, ns, "upshop", toImage)
		waitTier(t, ns, "upshop-cron", toImage)
	})
}
