//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
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

// odooRestoreJobs is the OdooRestoreJob resource.
var odooRestoreJobs = schema.GroupVersionResource{Group: "bemade.org", Version: "v1alpha2", Resource: "odoorestorejobs"}

// restoreKillPoint is where TestRestoreSurvivesOperatorKill kills the
// operator: as soon as the restore's status.step is step and, when job is
// set, a Job of that kind (bemade.org/job) exists too.
type restoreKillPoint struct {
	step odoov1alpha2.RestoreStep
	job  string
}

func (k restoreKillPoint) String() string {
	if k.job == "" {
		return string(k.step)
	}
	return string(k.step) + "+" + k.job + "-job"
}

// restore is the kill point's OdooRestoreJob.
func (k restoreKillPoint) restore() string {
	return "rk-" + strings.ReplaceAll(strings.ToLower(k.String()), "+", "-")
}

// keepPrevious is the restore's spec.keepPreviousDatabase: the step
// DropPrevious is only taken when the previous database is not kept.
func (k restoreKillPoint) keepPrevious() bool {
	return k.step != odoov1alpha2.RestoreStepDropPrevious
}

// neutralizedFixture makes the backed-up database one that was neutralized
// already (the flag set, no active mail server): KWOK runs no Odoo, so the
// neutralize Job changes nothing and the operator's own check of the copy
// must find it neutralized for the restore to go on.
const neutralizedFixture = `CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL);
	INSERT INTO ir_config_parameter (key, value) VALUES ('database.is_neutralized', 'true');
	CREATE TABLE ir_mail_server (id serial PRIMARY KEY, name varchar NOT NULL, smtp_host varchar, smtp_port integer, active boolean);
	INSERT INTO ir_mail_server (name, smtp_host, smtp_port, active) VALUES ('Production SMTP', 'smtp.shop.com', 587, false);
	CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar NOT NULL);
	INSERT INTO res_partner (name) VALUES ('Azure Interior'), ('Deco Addict')`

// TestRestoreSurvivesOperatorKill: the operator is killed (SIGKILL) as soon
// as an OdooRestoreJob reaches each step (and, for the steps that run a
// Job, once more when that Job exists), then restarted. One instance, shop,
// is backed up once, then restored from that backup once per kill point,
// its live data changed before each: each restore ends Completed with the
// backup's rows and filestore in the live database's place, exactly one Job
// per step that runs one (by its deterministic name), the instance's lock
// released, web and cron running again, and the data live before the
// restore kept under the recorded name (its database dropped only by the
// restore whose keepPreviousDatabase is false, the one that reaches
// DropPrevious).
func TestRestoreSurvivesOperatorKill(t *testing.T) {
	points := []restoreKillPoint{
		{step: odoov1alpha2.RestoreStepLoad},
		{step: odoov1alpha2.RestoreStepLoad, job: resources.JobKindRestoreBackup},
		{step: odoov1alpha2.RestoreStepNeutralize},
		{step: odoov1alpha2.RestoreStepNeutralize, job: resources.JobKindNeutralize},
		{step: odoov1alpha2.RestoreStepStop},
		{step: odoov1alpha2.RestoreStepSwap},
		{step: odoov1alpha2.RestoreStepFilestore},
		{step: odoov1alpha2.RestoreStepFilestore, job: resources.JobKindRestoreFilestore},
		{step: odoov1alpha2.RestoreStepStart},
		{step: odoov1alpha2.RestoreStepDropPrevious},
	}
	ns := framework.Namespace(t, "e2e-restore-kill")
	c := framework.NewClients(t)
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=3m")

	// One backup of shop, restored into it at every point.
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	framework.ModuleFixture(t, db)
	framework.SandboxSQL(t, db, neutralizedFixture)
	framework.GiveTablesToOwner(t, db)
	filestore := claimDir(t, ns, "shop-filestore-pvc")
	writeFile(t, filepath.Join(filestore, "filestore", db, restoredAttachment), "backed up")
	backedUp := checksums(t, db)
	backupToClaim(t, ns, "src", "shop/src.zip")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", "odoobackupjobs.v1alpha2.bemade.org/src", "--timeout=2m")
	key := jsonpath(t, ns, "odoobackupjobs.v1alpha2.bemade.org/src", "{.status.objectKey}")
	jobs := recordJobs(t, c, ns, "shop")

	// The operator runs again when the test ends, whatever happened (and
	// before the namespace, whose instances carry a finalizer, is deleted).
	killed := false
	t.Cleanup(func() {
		if killed {
			framework.RestartOperator(t)
		}
	})
	landed := map[restoreKillPoint]string{}
	for _, p := range points {
		t.Run(p.String(), func(t *testing.T) {
			r := restoreRun{c: c, ns: ns, db: db, filestore: filestore, key: key, backedUp: backedUp, jobs: jobs}
			landed[p] = r.killAt(t, p, &killed)
		})
		if killed {
			t.Fatalf("the operator could not be restarted after the kill at %s; the remaining points are not tried", p)
		}
	}
	var summary []string
	for _, p := range points {
		summary = append(summary, fmt.Sprintf("%s → %s", p, landed[p]))
	}
	t.Logf("operator kills (target → step stored when the operator died): %s", strings.Join(summary, ", "))
}

// restoredAttachment is the filestore file the backup holds and each
// restore's live data changes.
var restoredAttachment = filepath.Join("ab", "ab12cd34")

// restoreRun is what every kill point's restore of shop shares.
type restoreRun struct {
	c           *framework.Clients
	ns, db, key string
	filestore   string // the host directory of shop's filestore claim
	backedUp    map[string]string
	jobs        *jobLog
}

// getRestore reads an OdooRestoreJob at v1alpha2.
func getRestore(ctx context.Context, c *framework.Clients, ns, name string) (*odoov1alpha2.OdooRestoreJob, error) {
	u, err := c.Dynamic.Resource(odooRestoreJobs).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	rj := &odoov1alpha2.OdooRestoreJob{}
	return rj, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, rj)
}

// operationOf is the instance's status.operation, its database lock.
func operationOf(ctx context.Context, c *framework.Clients, ns, name string) (*odoov1alpha2.OperationStatus, error) {
	inst := &odoov1alpha2.OdooInstance{}
	if err := c.GetInstance(ctx, ns, name, inst); err != nil {
		return nil, err
	}
	return inst.Status.Operation, nil
}

// killAt changes shop's live database and filestore, restores the backup
// into it, SIGKILLs the operator as soon as the point is reached, restarts
// it and checks the restore's end state. It returns the step stored when
// the operator died.
func (r restoreRun) killAt(t *testing.T, p restoreKillPoint, killed *bool) string {
	t.Helper()
	c, ns, db, filestore := r.c, r.ns, r.db, r.filestore
	const instance = "shop"
	name := p.restore()
	framework.SandboxSQL(t, db, `CREATE TABLE IF NOT EXISTS live_rows (id serial PRIMARY KEY, note text);
		INSERT INTO live_rows (note) VALUES ('written before `+name+`')`)
	framework.GiveTablesToOwner(t, db)
	writeFile(t, filepath.Join(filestore, "filestore", db, restoredAttachment), "live before "+name)
	live := checksums(t, db)
	before := map[string][]string{}
	for _, kind := range []string{resources.JobKindRestoreBackup, resources.JobKindNeutralize, resources.JobKindRestoreFilestore} {
		before[kind] = r.jobs.jobs(t, kind)
	}

	// The restore's Jobs, by kind, have deterministic names.
	jobName := map[string]string{
		resources.JobKindRestoreBackup:    name + "-restore",
		resources.JobKindNeutralize:       name + "-neutralize",
		resources.JobKindRestoreFilestore: name + "-filestore",
	}
	jobExists := func(ctx context.Context) bool {
		if p.job == "" {
			return true
		}
		_, err := c.Kube.BatchV1().Jobs(ns).Get(ctx, jobName[p.job], metav1.GetOptions{})
		return err == nil
	}
	reached := func(ctx context.Context) bool {
		rj, err := getRestore(ctx, c, ns, name)
		return err == nil && rj.Status.Step == p.step && jobExists(ctx)
	}
	open := func(ctx context.Context) ([]watch.Interface, error) {
		if p.job != "" {
			w, err := c.Kube.BatchV1().Jobs(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + jobName[p.job]})
			return []watch.Interface{w}, err
		}
		w, err := c.Dynamic.Resource(odooRestoreJobs).Namespace(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
		return []watch.Interface{w}, err
	}
	start := func() {
		framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: %[1]s
spec:
  odooInstanceRef: {name: %[2]s}
  format: zip
  keepPreviousDatabase: %[3]t
  source:
    type: pvc
    pvc: {claimName: backups, path: %[4]s}
`, name, instance, p.keepPrevious(), r.key))
	}
	seen := killOperatorWhen(t, p.String(), start, reached, open)
	*killed = true
	stored, err := getRestore(context.Background(), c, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s; operator killed; stored step %s (phase %s)", seen, stored.Status.Step, stored.Status.Phase)

	framework.RestartOperator(t)
	*killed = false

	var rj *odoov1alpha2.OdooRestoreJob
	framework.Eventually(t, wait, "restore "+name+" Completed", func() error {
		var err error
		if rj, err = getRestore(context.Background(), c, ns, name); err != nil {
			return err
		}
		if rj.Status.Phase == odoov1alpha2.JobFailed {
			t.Fatalf("restore %s failed after the kill at %s: %s", name, p, rj.Status.Message)
		}
		if rj.Status.Phase != odoov1alpha2.JobCompleted {
			return fmt.Errorf("phase %q step %q: %s", rj.Status.Phase, rj.Status.Step, rj.Status.Message)
		}
		return nil
	})
	st := rj.Status
	if st.Step != odoov1alpha2.RestoreStepDone || st.Database != db || st.KeptDatabase == "" || st.KeptDatabase == db {
		t.Fatalf("status step %q database %q keptDatabase %q; want Done, %s and another database", st.Step, st.Database, st.KeptDatabase, db)
	}
	if got := checksums(t, db); !maps.Equal(got, r.backedUp) {
		t.Errorf("database %s after the restore:\n got %v\nwant %v (the backup's)", db, got, r.backedUp)
	}
	if b, err := os.ReadFile(filepath.Join(filestore, "filestore", db, restoredAttachment)); err != nil || string(b) != "backed up" {
		t.Errorf("filestore/%s/%s holds %q (%v), want the backup's", db, restoredAttachment, b, err)
	}
	if p.keepPrevious() {
		if got := checksums(t, st.KeptDatabase); !maps.Equal(got, live) {
			t.Errorf("the kept database %s:\n got %v\nwant %v (the live one before the restore)", st.KeptDatabase, got, live)
		}
		if st.PreviousDatabaseDropped {
			t.Error("status.previousDatabaseDropped with keepPreviousDatabase true")
		}
	} else {
		if !st.PreviousDatabaseDropped {
			t.Error("status.previousDatabaseDropped is false with keepPreviousDatabase false")
		}
		if got := pgValue(t, "SELECT datname FROM pg_database WHERE datname = $1", st.KeptDatabase); got != "" {
			t.Errorf("the previous database %s is still there with keepPreviousDatabase false", st.KeptDatabase)
		}
	}
	// The previous filestore stays beside the previous database's name in
	// both cases (only the database is dropped).
	if b, err := os.ReadFile(filepath.Join(filestore, "filestore", st.KeptDatabase, restoredAttachment)); err != nil || string(b) != "live before "+name {
		t.Errorf("filestore/%s/%s holds %q (%v), want the live one before the restore", st.KeptDatabase, restoredAttachment, b, err)
	}

	// The lock is released by the time the restore is Completed.
	if op, err := operationOf(context.Background(), c, ns, instance); err != nil || op != nil {
		t.Errorf("status.operation of %s after the restore Completed: %+v (%v), want none", instance, op, err)
	}
	for kind, job := range jobName {
		r.jobs.expectOneNewJob(t, kind, before[kind], job)
	}
	waitTier(t, ns, instance, fromImage)
	waitTier(t, ns, instance+"-cron", fromImage)
	return string(stored.Status.Step)
}
