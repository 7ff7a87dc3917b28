//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// migrationKillPoint is where TestFilestoreMigrationSurvivesOperatorKill
// kills the operator, one per step of the migration
// (internal/filestoremigration): the instance's lock taken (status.operation,
// just before the migration is recorded), the migration recorded
// (Copying; web and cron stopping), its target claim created, its copy Job
// created, and the switch to the new claim done (the old claim kept until
// the instance is Ready on the new one).
type migrationKillPoint string

const (
	killMigrationLocked  migrationKillPoint = "locked"
	killMigrationStarted migrationKillPoint = "copying"
	killTargetClaim      migrationKillPoint = "target-claim"
	killCopyJob          migrationKillPoint = "copy-job"
	killSwapped          migrationKillPoint = "swapped"
)

// class is the storage class the kill point's migration moves to.
func (k migrationKillPoint) class() string { return "e2e-kill-" + string(k) }

// TestFilestoreMigrationSurvivesOperatorKill: the operator is killed
// (SIGKILL) as soon as a storage class migration reaches each step, then
// restarted. One instance, shop, migrates once per kill point, each time to
// a new class: each migration ends on the new claim of that class, with
// every file written before it intact there, exactly one copy Job (its
// deterministic name, recorded in status.filestore.migration.jobName), the
// instance's lock released, the old claim kept until the instance is Ready
// on the new one and deleted after, as documented (docs/versions.md). The
// copy Job runs the image `odoo:18.0` (test hook bemade.org/migration-image)
// so the sandbox runs its copy and md5 check for real; web and cron stay
// simulated.
func TestFilestoreMigrationSurvivesOperatorKill(t *testing.T) {
	points := []migrationKillPoint{killMigrationLocked, killMigrationStarted, killTargetClaim, killCopyJob, killSwapped}
	ns := framework.Namespace(t, "e2e-fs-migrate-kill")
	c := framework.NewClients(t)
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=3m")
	framework.Kubectl(t, "annotate", "-n", ns, odooRef("shop"), odoov1alpha2.AnnotationMigrationImage+"=odoo:18.0")
	jobs := recordJobs(t, c, ns, "shop")

	killed := false
	t.Cleanup(func() {
		if killed {
			framework.RestartOperator(t)
		}
	})
	// Every file written so far, to be found on each new claim.
	files := map[string]string{}
	for _, p := range points {
		t.Run(string(p), func(t *testing.T) { killMigrationAt(t, c, ns, p, jobs, files, &killed) })
		if killed {
			t.Fatalf("the operator could not be restarted after the kill at %s; the remaining points are not tried", p)
		}
	}
}

// killMigrationAt writes files into shop's filestore claim, asks for the
// kill point's storage class, SIGKILLs the operator as soon as the point is
// reached, restarts it and checks the migration's end state.
func killMigrationAt(t *testing.T, c *framework.Clients, ns string, p migrationKillPoint, jobs *jobLog, files map[string]string, killed *bool) {
	t.Helper()
	const name = "shop"
	oldClaim := jsonpath(t, ns, odooRef(name), "{.status.filestore.claimName}")
	if oldClaim == "" {
		t.Fatal("status.filestore.claimName is empty before the migration")
	}
	files[filepath.Join("filestore", "db", "ab", string(p))] = "an attachment written before " + string(p)
	files[filepath.Join("sessions", "werkzeug_"+string(p))] = "a session"
	for f, content := range files {
		if _, err := os.Stat(filepath.Join(claimDir(t, ns, oldClaim), f)); err != nil {
			writeFile(t, filepath.Join(claimDir(t, ns, oldClaim), f), content)
		}
	}
	copyJobsBefore := jobs.jobs(t, resources.JobKindFilestoreMigration)

	instance := func(ctx context.Context) (*odoov1alpha2.OdooInstance, error) {
		inst := &odoov1alpha2.OdooInstance{}
		return inst, c.GetInstance(ctx, ns, name, inst)
	}
	reached := func(ctx context.Context) bool {
		inst, err := instance(ctx)
		if err != nil || inst.Status.Filestore == nil {
			return false
		}
		if p == killMigrationLocked {
			op := inst.Status.Operation
			return op != nil && op.Kind == odoov1alpha2.OperationFilestoreMigration
		}
		fs := inst.Status.Filestore
		if p == killSwapped {
			return fs.PreviousClaim != ""
		}
		m := fs.Migration
		if m == nil || m.Phase != odoov1alpha2.FilestoreMigrationCopying {
			return false
		}
		switch p {
		case killTargetClaim:
			_, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).Get(ctx, m.TargetClaim, metav1.GetOptions{})
			return err == nil
		case killCopyJob:
			_, err := c.Kube.BatchV1().Jobs(ns).Get(ctx, m.JobName, metav1.GetOptions{})
			return err == nil
		}
		return true
	}
	open := func(ctx context.Context) ([]watch.Interface, error) {
		var ws []watch.Interface
		w, err := c.Dynamic.Resource(framework.OdooInstances).Namespace(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
		switch p {
		case killTargetClaim:
			w, err = c.Kube.CoreV1().PersistentVolumeClaims(ns).Watch(ctx, metav1.ListOptions{LabelSelector: instanceLabel + "=" + name})
		case killCopyJob:
			w, err = c.Kube.BatchV1().Jobs(ns).Watch(ctx, metav1.ListOptions{LabelSelector: jobKindLabel + "=" + resources.JobKindFilestoreMigration + "," + instanceLabel + "=" + name})
		default:
			return ws, nil
		}
		if err != nil {
			w0 := ws[0]
			w0.Stop()
			return nil, err
		}
		return append(ws, w), nil
	}
	start := func() {
		framework.Kubectl(t, "patch", "-n", ns, odooRef(name), "--type=merge", "-p", `{"spec":{"filestore":{"storageClass":"`+p.class()+`"}}}`)
	}
	seen := killOperatorWhen(t, string(p), start, reached, open)
	*killed = true
	stored, err := instance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fs := stored.Status.Filestore
	var target, jobName string
	switch m := fs.Migration; {
	case m == nil && fs.PreviousClaim == "" && p == killMigrationLocked:
		// Killed between the lock and the migration's record: the target's
		// name is only known once the migration is recorded after the restart.
		t.Logf("%s; operator killed; stored: lock %+v, no migration yet", seen, stored.Status.Operation)
	case m != nil:
		target, jobName = m.TargetClaim, m.JobName
		t.Logf("%s; operator killed; stored migration phase %s", seen, m.Phase)
	case fs.PreviousClaim != "":
		target = fs.ClaimName
		t.Logf("%s; operator killed; stored: switched to %s, previous claim %s", seen, fs.ClaimName, fs.PreviousClaim)
		// Kept until the instance is Ready on the new claim.
		if _, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), oldClaim, metav1.GetOptions{}); err != nil {
			t.Errorf("the old claim %s is gone right after the switch: %v", oldClaim, err)
		}
	default:
		t.Fatalf("no migration and no previous claim in the status after the kill: %+v", fs)
	}

	framework.RestartOperator(t)
	*killed = false

	framework.Eventually(t, wait, name+" on its new claim, the old one deleted", func() error {
		inst, err := instance(context.Background())
		if err != nil {
			return err
		}
		fs := inst.Status.Filestore
		if target == "" && fs.ClaimName != oldClaim {
			target = fs.ClaimName
		}
		if fs.ClaimName != target || fs.StorageClass != p.class() || fs.PreviousClaim != "" || fs.Migration != nil {
			return fmt.Errorf("status.filestore %+v, migration %+v", *fs, fs.Migration)
		}
		// The lock is released once the copy is swapped in.
		if op := inst.Status.Operation; op != nil {
			return fmt.Errorf("status.operation %+v, want none", *op)
		}
		if _, err := c.Kube.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), oldClaim, metav1.GetOptions{}); err == nil {
			return fmt.Errorf("the old claim %s is still there", oldClaim)
		}
		return nil
	})
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef(name), "--timeout=1m")
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=FilestoreMigrated", odooRef(name), "--timeout=10s")
	if got := jsonpath(t, ns, "pvc/"+target, "{.spec.storageClassName}"); got != p.class() {
		t.Errorf("claim %s has class %q, want %s", target, got, p.class())
	}
	for _, d := range []string{name, name + "-cron"} {
		if got := jsonpath(t, ns, "deploy/"+d, `{.spec.template.spec.volumes[?(@.name=="filestore")].persistentVolumeClaim.claimName}`); got != target {
			t.Errorf("%s mounts %q, want %q", d, got, target)
		}
	}
	newDir := claimDir(t, ns, target)
	for f, want := range files {
		if b, err := os.ReadFile(filepath.Join(newDir, f)); err != nil || string(b) != want {
			t.Errorf("%s on the new claim holds %q (%v), want %q", f, b, err, want)
		}
	}
	// One copy Job ever (the Job goes with the old claim, which it mounts),
	// the one the migration recorded and the condition names.
	msg := jsonpath(t, ns, odooRef(name), `{.status.conditions[?(@.type=="FilestoreMigrated")].message}`)
	if jobName == "" {
		if i := strings.Index(msg, "by Job "); i >= 0 {
			jobName = strings.TrimRight(strings.Fields(msg[i+len("by Job "):])[0], ";,")
		}
	}
	if !strings.HasPrefix(jobName, name+"-fsmigrate-") || !strings.Contains(msg, "copied and verified by Job "+jobName) {
		t.Errorf("copy Job %q; FilestoreMigrated message: %s", jobName, msg)
	}
	jobs.expectOneNewJob(t, resources.JobKindFilestoreMigration, copyJobsBefore, jobName)
	waitTier(t, ns, name, fromImage)
	waitTier(t, ns, name+"-cron", fromImage)
}
