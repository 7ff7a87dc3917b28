//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// odooStagingRefreshJobs is the OdooStagingRefreshJob resource.
var odooStagingRefreshJobs = schema.GroupVersionResource{Group: "bemade.org", Version: "v1alpha2", Resource: "odoostagingrefreshjobs"}

// stagingKillPoint is where TestStagingRefreshSurvivesOperatorKill kills
// the operator: as soon as the refresh's status.step is step and, when
// child is set, the step's child (OdooBackupJob or OdooRestoreJob) exists.
type stagingKillPoint struct {
	step  odoov1alpha2.StagingRefreshStep
	child bool
}

func (k stagingKillPoint) String() string {
	if !k.child {
		return string(k.step)
	}
	return string(k.step) + "+child"
}

// TestStagingRefreshSurvivesOperatorKill: the operator is killed (SIGKILL)
// as soon as a staging refresh records each step, and once more when that
// step's child exists, then restarted. One production (simulated Odoo,
// whose database is already neutralized: KWOK runs no Odoo, so the restore's
// check must find the copy neutralized) is copied into one staging instance
// once per kill point: each refresh ends Completed with exactly one
// OdooBackupJob and one OdooRestoreJob, one backup Job and one restore Job
// (by their deterministic names), staging's lock released, staging's
// database equal to production's, and production unchanged.
func TestStagingRefreshSurvivesOperatorKill(t *testing.T) {
	points := []stagingKillPoint{
		{step: odoov1alpha2.StagingRefreshStepBackup},
		{step: odoov1alpha2.StagingRefreshStepBackup, child: true},
		{step: odoov1alpha2.StagingRefreshStepRestore},
		{step: odoov1alpha2.StagingRefreshStepRestore, child: true},
	}
	ns := framework.Namespace(t, "e2e-staging-kill")
	c := framework.NewClients(t)
	framework.Apply(t, ns, `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: backups
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
`+instanceManifest("prod")+`  environment: Production
  backup:
    destination:
      pvc: {claimName: backups, path: prod}
---
`+instanceManifest("stg")+`  environment: Staging
`)
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("prod"), odooRef("stg"), "--timeout=3m")
	prodDB := jsonpath(t, ns, "odoo/prod", "{.status.database.name}")
	stgDB := jsonpath(t, ns, "odoo/stg", "{.status.database.name}")
	framework.ModuleFixture(t, prodDB)
	framework.SandboxSQL(t, prodDB, neutralizedFixture)
	framework.GiveTablesToOwner(t, prodDB)
	prodSums := checksums(t, prodDB)
	backupJobs := recordJobs(t, c, ns, "prod")
	restoreJobs := recordJobs(t, c, ns, "stg")

	killed := false
	t.Cleanup(func() {
		if killed {
			framework.RestartOperator(t)
		}
	})
	for _, p := range points {
		t.Run(p.String(), func(t *testing.T) {
			name := "sk-" + strings.ReplaceAll(strings.ToLower(p.String()), "+", "-")
			backupName, restoreName := name+"-backup", name+"-restore"
			beforeBackup := backupJobs.jobs(t, resources.JobKindBackup)
			beforeRestore := restoreJobs.jobs(t, resources.JobKindRestoreBackup)
			childExists := func(ctx context.Context) bool {
				switch {
				case !p.child:
					return true
				case p.step == odoov1alpha2.StagingRefreshStepBackup:
					_, err := c.Dynamic.Resource(odooBackupJobs).Namespace(ns).Get(ctx, backupName, metav1.GetOptions{})
					return err == nil
				}
				_, err := c.Dynamic.Resource(odooRestoreJobs).Namespace(ns).Get(ctx, restoreName, metav1.GetOptions{})
				return err == nil
			}
			reached := func(ctx context.Context) bool {
				sr, err := getStagingRefresh(ctx, c, ns, name)
				return err == nil && sr.Status.Step == p.step && childExists(ctx)
			}
			open := func(ctx context.Context) ([]watch.Interface, error) {
				w, err := c.Dynamic.Resource(odooStagingRefreshJobs).Namespace(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
				return []watch.Interface{w}, err
			}
			start := func() {
				framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooStagingRefreshJob
metadata:
  name: %s
spec:
  odooInstanceRef: {name: stg}
  source: {instanceName: prod}
`, name))
			}
			seen := killOperatorWhen(t, p.String(), start, reached, open)
			killed = true
			stored, err := getStagingRefresh(context.Background(), c, ns, name)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s; operator killed; stored step %s (phase %s)", seen, stored.Status.Step, stored.Status.Phase)
			framework.RestartOperator(t)
			killed = false

			var sr *odoov1alpha2.OdooStagingRefreshJob
			framework.Eventually(t, wait, "staging refresh "+name+" Completed", func() error {
				var err error
				if sr, err = getStagingRefresh(context.Background(), c, ns, name); err != nil {
					return err
				}
				if sr.Status.Phase == odoov1alpha2.JobFailed {
					t.Fatalf("refresh %s failed after the kill at %s: %s", name, p, sr.Status.Message)
				}
				if sr.Status.Phase != odoov1alpha2.JobCompleted {
					return fmt.Errorf("phase %q step %q: %s", sr.Status.Phase, sr.Status.Step, sr.Status.Message)
				}
				return nil
			})
			if sr.Status.BackupJobName != backupName || sr.Status.RestoreJobName != restoreName || sr.Status.KeptDatabase == "" {
				t.Errorf("status backupJobName %q restoreJobName %q keptDatabase %q", sr.Status.BackupJobName, sr.Status.RestoreJobName, sr.Status.KeptDatabase)
			}
			oneChild(t, ns, "odoobackupjobs.v1alpha2.bemade.org", name)
			oneChild(t, ns, "odoorestorejobs.v1alpha2.bemade.org", name)
			backupJobs.expectOneNewJob(t, resources.JobKindBackup, beforeBackup, backupName+"-backup")
			restoreJobs.expectOneNewJob(t, resources.JobKindRestoreBackup, beforeRestore, restoreName+"-restore")
			if op, err := operationOf(context.Background(), c, ns, "stg"); err != nil || op != nil {
				t.Errorf("status.operation of stg after the refresh Completed: %+v (%v), want none", op, err)
			}
			if got := checksums(t, stgDB); !maps.Equal(got, prodSums) {
				t.Errorf("staging's database after the refresh:\n got %v\nwant production's %v", got, prodSums)
			}
			if got := checksums(t, prodDB); !maps.Equal(got, prodSums) {
				t.Errorf("production's database changed during the refresh")
			}
		})
		if killed {
			t.Fatalf("the operator could not be restarted after the kill at %s; the remaining points are not tried", p)
		}
	}
}

// getStagingRefresh reads an OdooStagingRefreshJob at v1alpha2.
func getStagingRefresh(ctx context.Context, c *framework.Clients, ns, name string) (*odoov1alpha2.OdooStagingRefreshJob, error) {
	u, err := c.Dynamic.Resource(odooStagingRefreshJobs).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	sr := &odoov1alpha2.OdooStagingRefreshJob{}
	return sr, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, sr)
}
