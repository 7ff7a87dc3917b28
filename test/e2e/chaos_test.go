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
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
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
// SIGKILLed as soon as a backup's Job exists, then as soon as a restore's
// load Job exists, then as soon as an upgrade's Job exists, then while a
// rollout of CHAOS_ROLLOUT_N instances (50 by default) converges, once a
// tenth of them have their init Job. The standby takes over within the
// Lease's 15 s (plus its 2 s retry), each operation ends correctly (the
// restore with the backup's data live and the previous data kept, every
// instance of the rollout Ready with its database), and each Job and
// backup exists exactly once.
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

	t.Run("restore", func(t *testing.T) {
		db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
		filestore := claimDir(t, ns, "shop-filestore-pvc")
		writeFile(t, filepath.Join(filestore, "filestore", db, restoredAttachment), "backed up")
		backedUp := checksums(t, db)
		backupToClaim(t, ns, "src", "shop/src.zip")
		framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", backupRef+"src", "--timeout=2m")
		key := jsonpath(t, ns, backupRef+"src", "{.status.objectKey}")
		framework.SandboxSQL(t, db, `CREATE TABLE live_rows (id serial PRIMARY KEY, note text); INSERT INTO live_rows (note) VALUES ('live')`)
		framework.GiveTablesToOwner(t, db)
		writeFile(t, filepath.Join(filestore, "filestore", db, restoredAttachment), "live")
		live := checksums(t, db)
		kinds := []string{resources.JobKindRestoreBackup, resources.JobKindNeutralize, resources.JobKindRestoreFilestore}
		before := map[string][]string{}
		for _, kind := range kinds {
			before[kind] = shopJobs.jobs(t, kind)
		}

		framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: failover
spec:
  odooInstanceRef: {name: shop}
  format: zip
  neutralize: false
  keepPreviousDatabase: true
  source:
    type: pvc
    pvc: {claimName: backups, path: %s}
`, key))
		loadJob := func(ctx context.Context) bool {
			_, err := c.Kube.BatchV1().Jobs(ns).Get(ctx, "failover-restore", metav1.GetOptions{})
			return err == nil
		}
		killLeaderWhen(t, "restore's load Job created", loadJob)
		var rj *odoov1alpha2.OdooRestoreJob
		framework.Eventually(t, 2*wait, "restore Completed", func() error {
			var err error
			if rj, err = getRestore(context.Background(), c, ns, "failover"); err != nil {
				return err
			}
			if rj.Status.Phase == odoov1alpha2.JobFailed {
				t.Fatalf("the restore failed after the failover: %s", rj.Status.Message)
			}
			if rj.Status.Phase != odoov1alpha2.JobCompleted {
				return fmt.Errorf("phase %q step %q: %s", rj.Status.Phase, rj.Status.Step, rj.Status.Message)
			}
			return nil
		})
		// One Job per step that runs one; neutralize: false runs none.
		shopJobs.expectOneNewJob(t, resources.JobKindRestoreBackup, before[resources.JobKindRestoreBackup], "failover-restore")
		shopJobs.expectOneNewJob(t, resources.JobKindRestoreFilestore, before[resources.JobKindRestoreFilestore], "failover-filestore")
		if got := shopJobs.jobs(t, resources.JobKindNeutralize); !slices.Equal(got, before[resources.JobKindNeutralize]) {
			t.Errorf("neutralize Jobs %v, want none new with neutralize: false", got)
		}
		if got := checksums(t, db); !maps.Equal(got, backedUp) {
			t.Errorf("database %s after the restore:\n got %v\nwant %v (the backup's)", db, got, backedUp)
		}
		if got := checksums(t, rj.Status.KeptDatabase); !maps.Equal(got, live) {
			t.Errorf("the kept database %s:\n got %v\nwant %v (the live one before the restore)", rj.Status.KeptDatabase, got, live)
		}
		for name, want := range map[string]string{db: "backed up", rj.Status.KeptDatabase: "live"} {
			if b, err := os.ReadFile(filepath.Join(filestore, "filestore", name, restoredAttachment)); err != nil || string(b) != want {
				t.Errorf("filestore/%s/%s holds %q (%v), want %q", name, restoredAttachment, b, err, want)
			}
		}
		if op, err := operationOf(context.Background(), c, ns, "shop"); err != nil || op != nil {
			t.Errorf("status.operation after the restore: %+v (%v), want none", op, err)
		}
		waitTier(t, ns, "shop", fromImage)
		waitTier(t, ns, "shop-cron", fromImage)
		framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=1m")
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

	t.Run("rollout", func(t *testing.T) {
		n := rolloutN(t)
		rns := framework.Namespace(t, "chaos-failover-rollout")
		inits := recordInitJobs(t, c, rns)
		start := time.Now()
		applied := applyRollout(t, rns, n, 8)
		atKill := 0
		killLeaderWhen(t, fmt.Sprintf("rollout of %d instances", n), func(context.Context) bool {
			atKill, _ = inits.count()
			return atKill >= max(1, n/10)
		})
		applied()
		t.Logf("chaos: rollout: the leader was killed with %d of %d init Jobs created", atKill, n)
		waitAllReady(t, rns, n, 5*time.Minute+time.Duration(n)*time.Second)
		t.Logf("chaos: rollout: all %d instances Ready %v after the apply", n, time.Since(start).Round(100*time.Millisecond))
		oneInitAndDatabaseEach(t, rns, n, inits)
	})
}

// rolloutN is the size of the leader failover's rollout: CHAOS_ROLLOUT_N
// (the issue asks 500), 50 by default so that the scenario takes minutes.
func rolloutN(t *testing.T) int {
	t.Helper()
	v := os.Getenv("CHAOS_ROLLOUT_N")
	if v == "" {
		return 50
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("CHAOS_ROLLOUT_N=%q: want a positive number of instances", v)
	}
	return n
}

// initJobRecorder lists the namespace's init Jobs every 200 ms (a list, not
// a watch: it must carry on across an API server restart) and keeps every
// name and UID it saw per instance.
type initJobRecorder struct {
	mu   sync.Mutex
	seen map[string]map[string]bool // instance → "name uid"
}

func recordInitJobs(t *testing.T, c *framework.Clients, ns string) *initJobRecorder {
	t.Helper()
	r := &initJobRecorder{seen: map[string]map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			jobs, err := c.Kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: jobKindLabel + "=" + resources.JobKindInit})
			if err == nil {
				r.mu.Lock()
				for _, j := range jobs.Items {
					inst := j.Labels[instanceLabel]
					if r.seen[inst] == nil {
						r.seen[inst] = map[string]bool{}
					}
					r.seen[inst][j.Name+" "+string(j.UID)] = true
				}
				r.mu.Unlock()
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// count is the number of instances with at least one init Job, and the
// instances with more than one (name uid) seen.
func (r *initJobRecorder) count() (instances int, twice []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for inst, jobs := range r.seen {
		if len(jobs) > 1 {
			twice = append(twice, fmt.Sprintf("%s: %v", inst, jobs))
		}
	}
	return len(r.seen), twice
}

// TestChaosAPIServerRestartDuringRollout: 50 instances are created at once
// and the kube-apiserver is restarted (SIGTERM, then started again on the
// same etcd) while they converge, after the first init Jobs exist. The
// operator keeps running (its informers re-list and re-watch), every
// instance becomes Ready with its database, and no init Job is created
// twice (a list poller records every init Job's UID across the restart).
func TestChaosAPIServerRestartDuringRollout(t *testing.T) {
	rolloutWithRestart(t, "chaos-apiserver", "kube-apiserver", "restart-apiserver")
}

// rolloutWithRestart creates 50 instances at once in namespace ns, runs
// `hack/sandbox.sh <restart>` (component stopped with SIGTERM and started
// again) as soon as 5 have their init Job, and checks that all 50 converge
// with one init Job and one database each, the operator still running.
func rolloutWithRestart(t *testing.T, ns, component, restart string) {
	const n = 50
	ns = framework.Namespace(t, ns)
	c := framework.NewClients(t)
	pid := framework.OperatorPID(t)
	inits := recordInitJobs(t, c, ns)
	var all strings.Builder
	for i := range n {
		all.WriteString("---\n" + instanceManifest(fmt.Sprintf("roll-%02d", i)))
	}
	start := time.Now()
	framework.Apply(t, ns, all.String())
	framework.Eventually(t, wait, "the first init Jobs", func() error {
		if got, _ := inits.count(); got < 5 {
			return fmt.Errorf("%d instances with an init Job", got)
		}
		return nil
	})
	midway, _ := inits.count()
	down := time.Now()
	framework.SandboxCtl(t, nil, restart)
	back := time.Now()
	t.Logf("chaos: %s restarted %v after the apply, with %d of %d init Jobs created; down and back (ready) in %v",
		component, down.Sub(start).Round(100*time.Millisecond), midway, n, back.Sub(down).Round(100*time.Millisecond))

	waitAllReady(t, ns, n, 10*time.Minute)
	t.Logf("chaos: all %d instances Ready %v after %s was back (%v after the apply)",
		n, time.Since(back).Round(100*time.Millisecond), component, time.Since(start).Round(100*time.Millisecond))
	if framework.ProcessGone(pid) {
		t.Errorf("the operator (pid %d) exited during the %s restart", pid, component)
	}
	oneInitAndDatabaseEach(t, ns, n, inits)
}

// waitAllReady waits until the n instances of ns are Ready.
func waitAllReady(t *testing.T, ns string, n int, timeout time.Duration) {
	t.Helper()
	framework.Eventually(t, timeout, "all instances Ready", func() error {
		out, err := framework.KubectlE("get", "odoo", "-n", ns, "-o",
			`jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		if err != nil {
			return err
		}
		if ready := strings.Count(out, "True"); ready < n {
			return fmt.Errorf("%d of %d Ready", ready, n)
		}
		return nil
	})
}

// oneInitAndDatabaseEach checks that each of the n instances of ns had
// exactly one init Job (by UID, as inits saw them) and has its database.
func oneInitAndDatabaseEach(t *testing.T, ns string, n int, inits *initJobRecorder) {
	t.Helper()
	if got, twice := inits.count(); got != n || len(twice) > 0 {
		t.Errorf("init Jobs: %d instances with one, want %d; created more than once: %v", got, n, twice)
	}
	dbs := framework.Kubectl(t, "get", "odoo", "-n", ns, "-o", `jsonpath={range .items[*]}{.status.database.name}{"\n"}{end}`)
	if got := len(strings.Fields(dbs)); got != n {
		t.Errorf("%d instances record their database, want %d", got, n)
	}
	for _, db := range strings.Fields(dbs) {
		if pgValue(t, "SELECT datname FROM pg_database WHERE datname = $1", db) != db {
			t.Errorf("database %s is missing", db)
		}
	}
}

// applyRollout applies the n instances roll-000... in parallel batches and
// returns a func that waits for them all. kubectl applies one object after
// the other (0.45 s each on a loaded machine): one apply of 500 outlasted
// the framework's 3-minute kubectl timeout, and with the apply done first
// the leader would be killed only once the whole rollout had been applied.
func applyRollout(t *testing.T, ns string, n, batches int) (wait func()) {
	t.Helper()
	var (
		wg      sync.WaitGroup
		refused atomic.Int32
	)
	errs := make(chan error, batches)
	for b := range batches {
		var manifests strings.Builder
		for i := b; i < n; i += batches {
			manifests.WriteString("---\n" + instanceManifest(fmt.Sprintf("roll-%03d", i)))
		}
		if manifests.Len() == 0 {
			continue
		}
		wg.Go(func() {
			// The sandbox's admission webhook is served by one of the two
			// operator processes; while it is the one killed, creates are
			// refused ("failed calling webhook": nothing is half-created),
			// and the apply is retried as a GitOps client would.
			deadline := time.Now().Add(5 * time.Minute)
			for {
				out, err := framework.KubectlStdin(manifests.String(), "apply", "-n", ns, "-f", "-")
				if err == nil {
					return
				}
				if !strings.Contains(err.Error(), "failed calling webhook") || time.Now().After(deadline) {
					errs <- fmt.Errorf("kubectl apply: %w\n%s", err, out)
					return
				}
				refused.Add(1)
				time.Sleep(2 * time.Second)
			}
		})
	}
	return func() {
		t.Helper()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if r := refused.Load(); r > 0 {
			t.Logf("chaos: rollout: %d batch applies refused while the webhook's process was down, then retried", r)
		}
	}
}
