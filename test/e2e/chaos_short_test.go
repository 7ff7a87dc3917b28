//go:build e2e

package e2e

// The short subset of the fault scenarios (issue 17, docs/reliability.md):
// under a minute, so it runs with the e2e suite in CI as well as in
// `make chaos`.

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestChaosPostgresStoppedDuringRestore: PostgreSQL is stopped as soon as
// an OdooRestoreJob's load Job exists, and started again 15 s later. The
// restore either completes with the backup's data, or fails with a message
// and leaves the live database as it was; the lock is released, the tiers
// run again, no restore Job was created twice, and a later restore of the
// same backup completes.
func TestChaosPostgresStoppedDuringRestore(t *testing.T) {
	// A namespace of its own per run: instances keep their database when
	// deleted, and the fixture needs a fresh one.
	ns := framework.Namespace(t, fmt.Sprintf("chaos-pg-restore-%d", time.Now().UnixMilli()%1_000_000))
	c := framework.NewClients(t)
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=3m")
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	framework.ModuleFixture(t, db)
	framework.SandboxSQL(t, db, neutralizedFixture)
	framework.GiveTablesToOwner(t, db)
	backedUp := checksums(t, db)
	backupToClaim(t, ns, "src", "shop/src.zip")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", backupRef+"src", "--timeout=2m")
	key := jsonpath(t, ns, backupRef+"src", "{.status.objectKey}")
	framework.SandboxSQL(t, db, `CREATE TABLE live_rows (id serial PRIMARY KEY, note text); INSERT INTO live_rows (note) VALUES ('live')`)
	framework.GiveTablesToOwner(t, db)
	live := checksums(t, db)
	jobs := recordJobs(t, c, ns, "shop")

	restore := func(name string) {
		framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: %s
spec:
  odooInstanceRef: {name: shop}
  format: zip
  keepPreviousDatabase: true
  source:
    type: pvc
    pvc: {claimName: backups, path: %s}
`, name, key))
	}
	ended := func(name string) *odoov1alpha2.OdooRestoreJob {
		var rj *odoov1alpha2.OdooRestoreJob
		framework.Eventually(t, 2*wait, "restore "+name+" ended", func() error {
			var err error
			if rj, err = getRestore(context.Background(), c, ns, name); err != nil {
				return err
			}
			if rj.Status.Phase != odoov1alpha2.JobCompleted && rj.Status.Phase != odoov1alpha2.JobFailed {
				return fmt.Errorf("phase %q step %q: %s", rj.Status.Phase, rj.Status.Step, rj.Status.Message)
			}
			return nil
		})
		return rj
	}

	stopped := false
	t.Cleanup(func() {
		if stopped {
			framework.SandboxPostgresCtl(t, "up")
		}
	})
	restore("during-outage")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		if _, err := c.Kube.BatchV1().Jobs(ns).Get(ctx, "during-outage-restore", metav1.GetOptions{}); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the restore Job was never created")
		}
		time.Sleep(5 * time.Millisecond)
	}
	framework.SandboxPostgresCtl(t, "stop")
	stopped = true
	at, _ := getRestore(context.Background(), c, ns, "during-outage")
	time.Sleep(15 * time.Second)
	framework.SandboxPostgresCtl(t, "up")
	stopped = false
	back := time.Now()
	rj := ended("during-outage")
	t.Logf("chaos: PostgreSQL stopped at restore step %q (Job created), back 15 s later; the restore ended %s %v after: %s",
		at.Status.Step, rj.Status.Phase, time.Since(back).Round(100*time.Millisecond), rj.Status.Message)
	jobs.expectOneNewJob(t, resources.JobKindRestoreBackup, nil, "during-outage-restore")

	if rj.Status.Phase == odoov1alpha2.JobFailed {
		if rj.Status.Message == "" {
			t.Error("the failed restore has no status.message")
		}
		if got := checksums(t, db); !maps.Equal(got, live) {
			t.Errorf("the live database %s changed by a failed restore:\n got %v\nwant %v", db, got, live)
		}
		// A later restore of the same backup completes.
		before := jobs.jobs(t, resources.JobKindRestoreBackup)
		restore("after-outage")
		if rj = ended("after-outage"); rj.Status.Phase != odoov1alpha2.JobCompleted {
			t.Fatalf("the restore after the outage: %s: %s", rj.Status.Phase, rj.Status.Message)
		}
		jobs.expectOneNewJob(t, resources.JobKindRestoreBackup, before, "after-outage-restore")
	}
	if got := checksums(t, db); !maps.Equal(got, backedUp) {
		t.Errorf("database %s after the completed restore:\n got %v\nwant %v (the backup's)", db, got, backedUp)
	}
	if got := checksums(t, rj.Status.KeptDatabase); !maps.Equal(got, live) {
		t.Errorf("the kept database %s:\n got %v\nwant %v (the live one before the restore)", rj.Status.KeptDatabase, got, live)
	}
	if op, err := operationOf(context.Background(), c, ns, "shop"); err != nil || op != nil {
		t.Errorf("status.operation after the restore: %+v (%v), want none", op, err)
	}
	waitTier(t, ns, "shop", fromImage)
	waitTier(t, ns, "shop-cron", fromImage)
}
