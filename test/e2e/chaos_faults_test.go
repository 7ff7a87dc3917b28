//go:build e2e && chaos

package e2e

// Fault scenarios of `make chaos` beyond the operator's own death (issue 17,
// docs/reliability.md): PostgreSQL stopped during an upgrade, etcd restarted
// during a rollout. Figures are logged with the prefix "chaos:".

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestChaosPostgresStoppedDuringUpgrade: an upgrade (odoo-sim:18.0 →
// odoo-sim:18.1) of an instance with data; PostgreSQL is stopped as soon as
// the upgrade reaches a step (its restore point's backup Job exists, its
// upgrade Job exists) and started again 15 s later. The upgrade ends:
// Success, or Failed with a message, the instance on the old image and its
// data as it was, and then a retry (bemade.org/upgrade-now) succeeds. The
// database holds what it held before, the lock is released, the instance is
// Ready on the new image, and no Job was created twice.
func TestChaosPostgresStoppedDuringUpgrade(t *testing.T) {
	c := framework.NewClients(t)
	for _, at := range []struct {
		name, kind string // subtest, bemade.org/job label of the Job whose creation stops PostgreSQL
	}{
		{"restore-point", "backup"},
		{"upgrade-job", "upgrade"},
	} {
		t.Run(at.name, func(t *testing.T) {
			// A namespace of its own per run: instances keep their
			// database when deleted, and the fixture needs a fresh one.
			ns := framework.Namespace(t, fmt.Sprintf("chaos-pg-up-%s-%d", at.name, time.Now().UnixMilli()%1_000_000))
			db := upgradeInstance(t, ns, "", true)
			framework.SandboxSQL(t, db, `CREATE TABLE live_rows (id serial PRIMARY KEY, note text); INSERT INTO live_rows (note) VALUES ('live')`)
			framework.GiveTablesToOwner(t, db)
			before := checksums(t, db)
			jobs := recordJobs(t, c, ns, "shop")

			stopped := false
			t.Cleanup(func() {
				if stopped {
					framework.SandboxPostgresCtl(t, "up")
				}
			})
			setImage(t, ns, "shop", toImage)
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			for {
				l, err := c.Kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: jobKindLabel + "=" + at.kind + "," + instanceLabel + "=shop"})
				if err == nil && len(l.Items) > 0 {
					break
				}
				if ctx.Err() != nil {
					t.Fatalf("no %s Job was ever created", at.kind)
				}
				time.Sleep(5 * time.Millisecond)
			}
			framework.SandboxPostgresCtl(t, "stop")
			stopped = true
			down := time.Now()
			step := "?"
			if inst := getInstance(t, c, ns, "shop"); inst.Status.Upgrade != nil {
				step = string(inst.Status.Upgrade.Step)
			}
			time.Sleep(15 * time.Second)
			during := "?"
			if inst := getInstance(t, c, ns, "shop"); inst.Status.Upgrade != nil {
				during = fmt.Sprintf("%s/%s", inst.Status.Upgrade.Phase, inst.Status.Upgrade.Step)
			}
			framework.SandboxPostgresCtl(t, "up")
			stopped = false
			back := time.Now()
			st := waitUpgradeEnded(t, c, ns, "shop", toImage)
			t.Logf("chaos: PostgreSQL stopped when the %s Job existed (upgrade step %s after the stop, phase/step %s at the end of the outage), back %v later; the upgrade had ended %s %v after: %s",
				at.kind, step, during, back.Sub(down).Round(100*time.Millisecond), st.Phase, time.Since(back).Round(100*time.Millisecond), st.Message)

			if got := jobs.jobs(t, "backup"); len(got) != 1 {
				t.Errorf("restore point backup Jobs of the upgrade (name uid): %v, want exactly one", got)
			}
			if got := jobs.jobs(t, "upgrade"); len(got) > 1 || (at.kind == "upgrade" && len(got) != 1) {
				t.Errorf("upgrade Jobs of the upgrade (name uid): %v, want one at most (one when it was reached)", got)
			}
			switch st.Phase {
			case odoov1alpha2.UpgradeSuccess:
			case odoov1alpha2.UpgradeFailed:
				// Failed before the database was touched: the old image
				// serves, the data is as it was, and a retry succeeds.
				if st.Message == "" {
					t.Error("the failed upgrade has no status.upgrade.message")
				}
				waitTier(t, ns, "shop", fromImage)
				waitTier(t, ns, "shop-cron", fromImage)
				if got := checksums(t, db); !maps.Equal(got, before) {
					t.Errorf("database %s after the failed upgrade:\n got %v\nwant %v (before the upgrade)", db, got, before)
				}
				beforeRetry := jobs.jobs(t, "upgrade")
				framework.Kubectl(t, "annotate", "-n", ns, odooRef("shop"), "--overwrite", odoov1alpha2.AnnotationUpgradeNow+"=retry-after-outage")
				st = waitUpgrade(t, c, ns, "shop", odoov1alpha2.UpgradeSuccess, attempted(toImage))
				t.Logf("chaos: the retried upgrade (bemade.org/upgrade-now) succeeded %v after PostgreSQL was back", time.Since(back).Round(100*time.Millisecond))
				jobs.expectOneNewJob(t, "upgrade", beforeRetry, st.JobName)
			default:
				t.Fatalf("upgrade phase %q", st.Phase)
			}
			waitTier(t, ns, "shop", toImage)
			waitTier(t, ns, "shop-cron", toImage)
			live := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
			if got := checksums(t, live); !maps.Equal(got, before) {
				t.Errorf("database %s after the upgrade:\n got %v\nwant %v (before the upgrade)", live, got, before)
			}
			framework.Eventually(t, wait, "lock released, Ready", func() error {
				if op, err := operationOf(context.Background(), c, ns, "shop"); err != nil || op != nil {
					return fmt.Errorf("status.operation %+v (%w)", op, err)
				}
				if got := jsonpath(t, ns, "odoo/shop", `{.status.conditions[?(@.type=="Ready")].status}`); got != "True" {
					return fmt.Errorf("Ready=%q", got)
				}
				return nil
			})
		})
	}
}

// TestChaosEtcdRestartDuringRollout: 50 instances are created at once and
// etcd is restarted (SIGTERM, then started again on the same data) while
// they converge, after the first init Jobs exist. The API server and the
// operator keep running, every instance becomes Ready with its database, and
// no init Job is created twice.
func TestChaosEtcdRestartDuringRollout(t *testing.T) {
	rolloutWithRestart(t, "chaos-etcd", "etcd", "restart-etcd")
}

// waitUpgradeEnded waits until the upgrade to image has ended (step Done),
// whatever its phase.
func waitUpgradeEnded(t *testing.T, c *framework.Clients, ns, name, image string) *odoov1alpha2.UpgradeStatus {
	t.Helper()
	var st *odoov1alpha2.UpgradeStatus
	framework.Eventually(t, 2*wait, name+": upgrade to "+image+" ended", func() error {
		inst := &odoov1alpha2.OdooInstance{}
		if err := c.GetInstance(context.Background(), ns, name, inst); err != nil {
			return err
		}
		st = inst.Status.Upgrade
		switch {
		case st == nil || st.ImageAttempted != image:
			return fmt.Errorf("not the upgrade to %s yet: %+v", image, st)
		case st.Step != odoov1alpha2.UpgradeStepDone:
			return fmt.Errorf("phase %s step %s: %s", st.Phase, st.Step, st.Message)
		}
		return nil
	})
	return st
}
