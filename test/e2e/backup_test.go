//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestBackupJobRunsToCompletion: an OdooBackupJob to a PVC drives one data
// Job (the operator's own binary in a PostgreSQL client image, credentials
// by secretKeyRef, filestore read-only) and its status to Completed, and the
// instance records status.lastBackup. A legacy v1alpha1 S3 backup whose
// credentials live in another namespace is refused with the reason.
func TestBackupJobRunsToCompletion(t *testing.T) {
	ns := framework.Namespace(t, "e2e-backup")
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")
	// The sandbox runs the backup for real: the database needs what Odoo's
	// init would have made (the manifest lists the installed modules).
	framework.ModuleFixture(t, jsonpath(t, ns, "odoo/shop", "{.status.database.name}"))
	backupToClaim(t, ns, "nightly", "shop")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", "odoobackupjobs.v1alpha2.bemade.org/nightly", "--timeout=2m")

	job := jsonpath(t, ns, "odoobackupjobs.v1alpha2.bemade.org/nightly", "{.status.jobName}")
	if job == "" {
		t.Fatal("status.jobName is empty")
	}
	cmd := jsonpath(t, ns, "job/"+job, "{.spec.template.spec.containers[0].command}")
	for _, want := range []string{`"data"`, `"backup"`, `"--format"`, `"zip"`} {
		if !strings.Contains(cmd, want) {
			t.Errorf("backup Job command %s lacks %s", cmd, want)
		}
	}
	env := jsonpath(t, ns, "job/"+job, `{range .spec.template.spec.containers[0].env[*]}{.name}={.value}{.valueFrom.secretKeyRef.name}{"\n"}{end}`)
	if !strings.Contains(env, "PGPASSWORD=shop-odoo-user") {
		t.Errorf("PGPASSWORD must come from the instance's Secret by secretKeyRef:\n%s", env)
	}
	if ro := jsonpath(t, ns, "job/"+job, `{.spec.template.spec.containers[0].volumeMounts[?(@.name=="filestore")].readOnly}`); ro != "true" {
		t.Errorf("the filestore is mounted read-only=%q in the backup Job", ro)
	}
	framework.Eventually(t, time.Minute, "status.lastBackup", func() error {
		if got := jsonpath(t, ns, "odoo/shop", "{.status.lastBackup}"); got == "" {
			return fmt.Errorf("status.lastBackup is empty")
		}
		return nil
	})
	if n := strings.Count(framework.Kubectl(t, "get", "jobs", "-n", ns, "-l", "bemade.org/job=backup", "-o", "name"), "job"); n != 1 {
		t.Errorf("%d backup Jobs, want 1", n)
	}

	// A legacy client on a cluster that still serves v1alpha1.
	serveLegacyVersions(t)
	framework.Apply(t, ns, `apiVersion: bemade.org/v1alpha1
kind: OdooBackupJob
metadata:
  name: legacy
spec:
  odooInstanceRef: {name: shop}
  destination:
    bucket: backups
    objectKey: shop/legacy.zip
    endpoint: https://s3.example.com
    s3CredentialsSecretRef: {name: s3-creds, namespace: odoo-operator}
`)
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Failed", "odoobackupjobs.v1alpha2.bemade.org/legacy", "--timeout=1m")
	if msg := jsonpath(t, ns, "odoobackupjobs.v1alpha2.bemade.org/legacy", "{.status.message}"); !strings.Contains(msg, "same namespace") {
		t.Errorf("message %q does not say the credentials must be in the same namespace", msg)
	}
}

// TestBackupJobFailureCarriesTheReason: the sandbox runs the backup for
// real, so a database that is not an initialised Odoo database (no
// ir_module_module) fails it; the Job's pod ends with the command's exit
// code and the OdooBackupJob's message carries the command's own error.
func TestBackupJobFailureCarriesTheReason(t *testing.T) {
	ns := framework.Namespace(t, "e2e-backup-fail")
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")
	backupToClaim(t, ns, "nightly", "shop")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Failed", "odoobackupjobs.v1alpha2.bemade.org/nightly", "--timeout=2m")
	msg := jsonpath(t, ns, "odoobackupjobs.v1alpha2.bemade.org/nightly", "{.status.message}")
	for _, want := range []string{"exit code 1", "ir_module_module"} {
		if !strings.Contains(msg, want) {
			t.Errorf("status.message lacks %q: %s", want, msg)
		}
	}
	job := jsonpath(t, ns, "odoobackupjobs.v1alpha2.bemade.org/nightly", "{.status.jobName}")
	if code := framework.Kubectl(t, "get", "pods", "-n", ns, "-l", "job-name="+job,
		"-o", "jsonpath={.items[*].status.phase} {.items[*].status.containerStatuses[0].state.terminated.exitCode}"); code != "Failed 1" {
		t.Errorf("backup pod phase and exit code %q, want \"Failed 1\"", code)
	}
}

// backupToClaim creates the claim "backups" and an OdooBackupJob name of the
// instance shop, in zip format, to path on that claim.
func backupToClaim(t *testing.T, ns, name, path string) {
	t.Helper()
	framework.Apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: backups
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: bemade.org/v1alpha2
kind: OdooBackupJob
metadata:
  name: %s
spec:
  odooInstanceRef: {name: shop}
  format: zip
  destination:
    pvc: {claimName: backups, path: %s}
`, name, path))
}
