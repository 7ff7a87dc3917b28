//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

// Nothing lost by ordinary actions (issue 11): deleting an instance keeps
// its claims unless deletionPolicy Delete says otherwise, a re-created
// instance of the same name converges on them, a backup that cannot start
// fails within the start deadline (the sandbox's operator runs with
// --backup-start-deadline=20s) without blocking a restore, and a failed
// restore drops the temporary database it created. The instances run the
// simulated image (odoo-sim): their data Jobs really run in the sandbox.

// backupStartDeadline is the sandbox operator's --backup-start-deadline.
const backupStartDeadline = 20 * time.Second

// datalossInstance is an OdooInstance of the simulated image with extraSpec
// appended to its spec.
func datalossInstance(name, extraSpec string) string {
	return fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: %[1]s
spec:
  image: odoo-sim:18.0
  adminPassword: master-%[1]s
  replicas: 1
%[2]s`, name, extraSpec)
}

// TestDeletionRetainKeepsClaimsAndRecreateConverges: with deletionPolicy
// Retain (the default), deleting an instance that was backed up keeps its
// database, its filestore claim and the files in it; the instance
// re-created under the same name becomes Ready without manual steps on the
// same claim and sees the file. With deletionPolicy Delete, its deletion
// drops the database and deletes the claims, with an event naming them, and
// the instance re-created after that becomes Ready on a new claim (before,
// the finished backup pod kept the deleted claim Terminating and the new
// init pod Pending).
func TestDeletionRetainKeepsClaimsAndRecreateConverges(t *testing.T) {
	ns := framework.Namespace(t, "e2e-retain")
	manifest := datalossInstance("shop", "")
	framework.Apply(t, ns, manifest)
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=2m")
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	framework.ModuleFixture(t, db)
	const claim = "shop-filestore-pvc"
	volume := jsonpath(t, ns, "pvc/"+claim, "{.spec.volumeName}")
	attachment := filepath.Join(claimDir(t, ns, claim), "filestore", db, "ab", "ab12cd34")
	writeFile(t, attachment, "invoice")
	// A backup: its finished Job's pod mounted the filestore claim.
	backupToClaim(t, ns, "nightly", "shop")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", backupRef+"nightly", "--timeout=2m")

	framework.Kubectl(t, "delete", "-n", ns, odooRef("shop"), "--timeout=2m")
	if del := jsonpath(t, ns, "pvc/"+claim, "{.metadata.deletionTimestamp}"); del != "" {
		t.Fatalf("deletionPolicy Retain: the filestore claim is being deleted (%s)", del)
	}
	if b, err := os.ReadFile(attachment); err != nil || string(b) != "invoice" {
		t.Fatalf("deletionPolicy Retain: the attachment holds %q (%v) after the deletion, want %q", b, err, "invoice")
	}
	if got := pgValue(t, "SELECT datname FROM pg_database WHERE datname = $1", db); got != db {
		t.Fatalf("deletionPolicy Retain: database %s is gone", db)
	}
	if notes := eventNotes(t, ns, "DatabaseRetained"); !strings.Contains(notes, claim) {
		t.Errorf("the DatabaseRetained event does not name the kept claim %s: %q", claim, notes)
	}
	// A backup completed in the meantime keeps its history in the
	// OdooBackupJob, not in its Job.
	if phase := jsonpath(t, ns, backupRef+"nightly", "{.status.phase}"); phase != "Completed" {
		t.Errorf("the OdooBackupJob of the deleted instance is %q, want Completed", phase)
	}

	// Re-created under the same name: Ready on the same claim, which holds
	// the file.
	framework.Apply(t, ns, manifest)
	if out, err := framework.KubectlE("wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=2m"); err != nil {
		t.Fatalf("the re-created instance did not become Ready: %v %s\nstatus: %s\npods: %s", err, out,
			jsonpath(t, ns, "odoo/shop", "{.status}"), framework.Kubectl(t, "get", "pods,pvc", "-n", ns, "-o", "wide"))
	}
	if got := jsonpath(t, ns, "pvc/"+claim, "{.spec.volumeName}"); got != volume {
		t.Errorf("the re-created instance's claim is on volume %q, want the retained %q", got, volume)
	}
	if got := jsonpath(t, ns, "deploy/shop", `{.spec.template.spec.volumes[?(@.name=="filestore")].persistentVolumeClaim.claimName}`); got != claim {
		t.Errorf("the re-created instance mounts claim %q, want %q", got, claim)
	}
	if b, err := os.ReadFile(filepath.Join(claimDir(t, ns, claim), "filestore", db, "ab", "ab12cd34")); err != nil || string(b) != "invoice" {
		t.Errorf("the re-created instance's filestore holds %q (%v), want %q", b, err, "invoice")
	}

	// deletionPolicy Delete removes the database and the claims.
	framework.Kubectl(t, "patch", "-n", ns, odooRef("shop"), "--type=merge", "-p", `{"spec":{"deletionPolicy":"Delete"}}`)
	if out, err := framework.KubectlE("delete", "-n", ns, odooRef("shop"), "--timeout=2m"); err != nil {
		t.Fatalf("deletionPolicy Delete: the deletion did not finish: %v %s\n%s", err, out,
			framework.Kubectl(t, "get", "pods,pvc,jobs", "-n", ns, "-o", "wide"))
	}
	if out, err := framework.KubectlE("get", "pvc", "-n", ns, claim, "-o", "name"); err == nil {
		t.Errorf("deletionPolicy Delete: claim %s is still there: %s", claim, out)
	}
	if got := pgValue(t, "SELECT datname FROM pg_database WHERE datname = $1", db); got != "" {
		t.Errorf("deletionPolicy Delete: database %s is still there", db)
	}
	if notes := eventNotes(t, ns, "ClaimDeleted"); !strings.Contains(notes, claim) {
		t.Errorf("no ClaimDeleted event names %s: %q", claim, notes)
	}

	// Re-created after a Delete: no Terminating claim held by a finished
	// backup pod stands in the way; the instance starts afresh.
	framework.Apply(t, ns, manifest)
	if out, err := framework.KubectlE("wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=2m"); err != nil {
		t.Fatalf("the instance re-created after deletionPolicy Delete did not become Ready: %v %s\n%s", err, out,
			framework.Kubectl(t, "get", "pods,pvc", "-n", ns, "-o", "wide"))
	}
	if got := jsonpath(t, ns, "pvc/"+claim, "{.spec.volumeName}"); got == volume {
		t.Errorf("the instance re-created after deletionPolicy Delete is on the deleted claim's volume %s", volume)
	}
}

// TestBackupThatCannotStartFailsWithinTheDeadline: a backup whose S3
// credentials Secret is missing, one whose destination claim is missing and
// one whose pod cannot be scheduled (its destination claim's volume is
// pinned to a node that does not exist) fail
// within the start deadline with the reason on the OdooBackupJob, a
// BackupNotStarted event and the instance's BackupSucceeded=False; the
// unschedulable one's Job is deleted, so its pod no longer holds the
// filestore claim; a restore created while it hung completes once it
// failed.
func TestBackupThatCannotStartFailsWithinTheDeadline(t *testing.T) {
	ns := framework.Namespace(t, "e2e-backup-start")
	framework.Apply(t, ns, datalossInstance("shop", ""))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=2m")
	framework.ModuleFixture(t, jsonpath(t, ns, "odoo/shop", "{.status.database.name}"))
	backupToClaim(t, ns, "good", "shop/good.zip")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", backupRef+"good", "--timeout=2m")

	// A claim bound to a volume only a node that does not exist can reach:
	// the scheduler finds no node for a pod that mounts it.
	pv := "e2e-pinned-" + ns
	framework.Apply(t, "", fmt.Sprintf(`apiVersion: v1
kind: PersistentVolume
metadata:
  name: %[1]s
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: pinned
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: /nonexistent/%[1]s}
  claimRef: {namespace: %[2]s, name: pinned}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [no-such-node]}
`, pv, ns))
	t.Cleanup(func() { _, _ = framework.KubectlE("delete", "pv", pv, "--wait=false") })
	framework.Apply(t, ns, `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: pinned
spec:
  storageClassName: pinned
  volumeName: `+pv+`
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: bemade.org/v1alpha2
kind: OdooBackupJob
metadata:
  name: unschedulable
spec:
  odooInstanceRef: {name: shop}
  format: zip
  destination:
    pvc: {claimName: pinned, path: shop}
---
apiVersion: bemade.org/v1alpha2
kind: OdooBackupJob
metadata:
  name: no-secret
spec:
  odooInstanceRef: {name: shop}
  format: zip
  destination:
    bucket: backups
    objectKey: shop
    endpoint: https://s3.example.com
    s3CredentialsSecretRef: {name: no-such-secret}
---
apiVersion: bemade.org/v1alpha2
kind: OdooBackupJob
metadata:
  name: no-claim
spec:
  odooInstanceRef: {name: shop}
  format: zip
  destination:
    pvc: {claimName: no-such-claim, path: shop}
`)
	created := time.Now()
	// While the unschedulable backup hangs it counts as running: a restore
	// waits for it.
	framework.Eventually(t, time.Minute, "the unschedulable backup's Job", func() error {
		if job := jsonpath(t, ns, backupRef+"unschedulable", "{.status.jobName}"); job == "" {
			return fmt.Errorf("no Job yet: %s", jsonpath(t, ns, backupRef+"unschedulable", "{.status}"))
		}
		return nil
	})
	job := jsonpath(t, ns, backupRef+"unschedulable", "{.status.jobName}")
	// The backup is stored under its own key (namespace, instance and
	// backup uids): status.objectKey says where.
	goodKey := jsonpath(t, ns, backupRef+"good", "{.status.objectKey}")
	framework.Apply(t, ns, `apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: after
spec:
  odooInstanceRef: {name: shop}
  neutralize: false
  source:
    type: pvc
    pvc: {claimName: backups, path: `+goodKey+`}
`)
	framework.Eventually(t, backupStartDeadline, "the restore waits for the hung backup", func() error {
		if msg := jsonpath(t, ns, "odoorestorejobs.v1alpha2.bemade.org/after", "{.status.message}"); !strings.Contains(msg, "waiting for the backup unschedulable") {
			return fmt.Errorf("the restore's message is %q", msg)
		}
		return nil
	})

	for name, want := range map[string][]string{
		"unschedulable": {"did not start within 20s", "cannot be scheduled", "Unschedulable", "was deleted"},
		"no-secret":     {"did not start within 20s", `the S3 credentials Secret "no-such-secret"`, "does not exist"},
		"no-claim":      {"did not start within 20s", `the claim "no-such-claim" does not exist`},
	} {
		framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Failed", backupRef+name, "--timeout=2m")
		msg := jsonpath(t, ns, backupRef+name, "{.status.message}")
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("backup %s: status.message lacks %q: %s", name, w, msg)
			}
		}
		if notes := eventNotes(t, ns, "BackupNotStarted"); !strings.Contains(notes, name) && !strings.Contains(notes, want[1]) {
			t.Errorf("no BackupNotStarted event for backup %s: %q", name, notes)
		}
	}
	took := time.Since(created)
	t.Logf("the three backups failed %s after their creation (deadline %s)", took.Round(time.Second), backupStartDeadline)
	if out, err := framework.KubectlE("get", "job", "-n", ns, job, "-o", "name"); err == nil {
		t.Errorf("the Job %s of the backup that did not start is still there: %s", job, out)
	}
	framework.Eventually(t, time.Minute, "BackupSucceeded=False", func() error {
		got := jsonpath(t, ns, "odoo/shop", `{.status.conditions[?(@.type=="BackupSucceeded")].status} {.status.conditions[?(@.type=="BackupSucceeded")].message}`)
		if !strings.HasPrefix(got, "False ") || !strings.Contains(got, "did not start within") {
			return fmt.Errorf("BackupSucceeded is %q", got)
		}
		return nil
	})
	if out, err := framework.KubectlE("wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", "odoorestorejobs.v1alpha2.bemade.org/after", "--timeout=3m"); err != nil {
		t.Fatalf("the restore created while the backup hung did not complete: %v %s\nstatus: %s", err, out,
			jsonpath(t, ns, "odoorestorejobs.v1alpha2.bemade.org/after", "{.status}"))
	}
}

// TestFailedRestoreDropsItsTemporaryDatabase: a restore that fails after it
// loaded the backup (into a Staging instance it is neutralized; KWOK runs no
// Odoo, so the operator's check refuses the copy) drops the database it
// created, says so in its status, and leaves the live database alone: no
// <db>_restore_* database is left on the cluster.
func TestFailedRestoreDropsItsTemporaryDatabase(t *testing.T) {
	ns := framework.Namespace(t, "e2e-restore-cleanup")
	framework.Apply(t, ns, datalossInstance("shop", ""))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=2m")
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	framework.ModuleFixture(t, db)
	backupToClaim(t, ns, "good", "shop/good.zip")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", backupRef+"good", "--timeout=2m")
	live := checksums(t, db)

	goodKey := jsonpath(t, ns, backupRef+"good", "{.status.objectKey}")
	framework.Apply(t, ns, `apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: refused
spec:
  odooInstanceRef: {name: shop}
  source:
    type: pvc
    pvc: {claimName: backups, path: `+goodKey+`}
`)
	restore := "odoorestorejobs.v1alpha2.bemade.org/refused"
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Failed", restore, "--timeout=2m")
	target := jsonpath(t, ns, restore, "{.status.targetDatabase}")
	if !strings.HasPrefix(target, db+"_restore_") {
		t.Fatalf("status.targetDatabase = %q, want %s_restore_<hash>", target, db)
	}
	msg := jsonpath(t, ns, restore, "{.status.message}")
	for _, want := range []string{"database.is_neutralized", "untouched", fmt.Sprintf("the temporary database %q this restore had created was dropped", target)} {
		if !strings.Contains(msg, want) {
			t.Errorf("status.message lacks %q: %s", want, msg)
		}
	}
	if got := jsonpath(t, ns, restore, "{.status.targetDatabaseDropped}"); got != "true" {
		t.Errorf("status.targetDatabaseDropped = %q, want true", got)
	}
	if left := pgValue(t, `SELECT coalesce(string_agg(datname, ','), '') FROM pg_database WHERE starts_with(datname, $1)`, db+"_restore_"); left != "" {
		t.Errorf("the failed restore left databases %s", left)
	}
	if got := checksums(t, db); fmt.Sprint(got) != fmt.Sprint(live) {
		t.Errorf("the failed restore changed the live database %s", db)
	}
}

// eventNotes are the notes of the namespace's events of reason, one a line.
func eventNotes(t *testing.T, ns, reason string) string {
	t.Helper()
	return framework.Kubectl(t, "get", "events", "-n", ns, "--field-selector", "reason="+reason,
		"-o", `jsonpath={range .items[*]}{.message}{"\n"}{end}`)
}
