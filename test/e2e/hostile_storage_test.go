//go:build e2e

package e2e

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

const backupRef = "odoobackupjobs.v1alpha2.bemade.org/"

// storageInstance is a simulated instance "shop" (KWOK plays its pods) with
// extraSpec appended to its spec.
func storageInstance(extraSpec string) string {
	return `apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: shop
spec:
  image: odoo-sim:18.0
  adminPassword: master-shop
  replicas: 1
` + extraSpec
}

// sharedClaim binds the claim "backups" of ns to the host directory dir: a
// volume the hosting company shares between tenants, as a bucket would be.
func sharedClaim(t *testing.T, ns, dir string) {
	t.Helper()
	pv := "e2e-shared-" + ns
	_, _ = framework.KubectlE("delete", "pv", pv, "--ignore-not-found")
	framework.Apply(t, "", fmt.Sprintf(`apiVersion: v1
kind: PersistentVolume
metadata: {name: %s}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  hostPath: {path: %s}
  claimRef: {namespace: %s, name: backups}
`, pv, dir, ns))
	t.Cleanup(func() { _, _ = framework.KubectlE("delete", "pv", pv, "--ignore-not-found", "--wait=false") })
	framework.Apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: backups}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: ""
  volumeName: %s
  resources: {requests: {storage: 1Gi}}
`, pv))
}

// tenantWithRow makes a Ready instance shop in ns whose database holds an
// Odoo module table and one res_partner row named row; it returns the
// database.
func tenantWithRow(t *testing.T, ns, row string) string {
	t.Helper()
	framework.Apply(t, ns, storageInstance(""))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=2m")
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	framework.ModuleFixture(t, db)
	framework.SandboxSQL(t, db, `CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar NOT NULL);
		INSERT INTO res_partner (name) VALUES ('`+row+`')`)
	framework.GiveTablesToOwner(t, db)
	return db
}

// backupJob creates the OdooBackupJob name of shop to path on the claim
// "backups" and waits until it finished; it returns its phase.
func backupJob(t *testing.T, ns, name, path string) string {
	t.Helper()
	framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooBackupJob
metadata: {name: %s}
spec:
  odooInstanceRef: {name: shop}
  format: zip
  destination:
    pvc: {claimName: backups, path: %s}
`, name, path))
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.completionTime}", backupRef+name, "--timeout=2m")
	return jsonpath(t, ns, backupRef+name, "{.status.phase}")
}

// dumpSQL is dump.sql of the zip at path.
func dumpSQL(t *testing.T, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("the backup %s: %v", path, err)
	}
	defer func() { _ = zr.Close() }()
	for _, f := range zr.File {
		if f.Name == "dump.sql" {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatalf("%s holds no dump.sql", path)
	return ""
}

// partnerNames are the res_partner names of database db.
func partnerNames(t *testing.T, db string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, framework.SandboxDatabase(t, db))
	if err != nil {
		t.Fatalf("connecting to %s: %v", db, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var names string
	if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(name, ',' ORDER BY name), '') FROM res_partner`).Scan(&names); err != nil {
		t.Fatalf("res_partner of %s: %v", db, err)
	}
	return names
}

// TestHostileSameNamedInstanceInASharedBucket: two tenants, each with an
// instance "shop", back up to the same shared storage under the same path.
// The rival, backing up second, must neither "complete" with the victim's
// file nor restore the victim's rows: each backup holds its own tenant's
// data, and a restore of the rival's backup brings back the rival's row.
func TestHostileSameNamedInstanceInASharedBucket(t *testing.T) {
	shared := t.TempDir()
	victim := framework.Namespace(t, "e2e-hostile-victim")
	rival := framework.Namespace(t, "e2e-hostile-rival")
	rows := map[string]string{victim: "only-the-victim", rival: "only-the-rival"}
	dbs := map[string]string{}
	for _, ns := range []string{victim, rival} {
		sharedClaim(t, ns, shared)
		dbs[ns] = tenantWithRow(t, ns, rows[ns])
	}
	keys := map[string]string{}
	for _, ns := range []string{victim, rival} {
		if phase := backupJob(t, ns, "nightly", "shop/nightly.zip"); phase != "Completed" {
			t.Fatalf("%s: backup %s: %s", ns, phase, jsonpath(t, ns, backupRef+"nightly", "{.status.message}"))
		}
		keys[ns] = jsonpath(t, ns, backupRef+"nightly", "{.status.objectKey}")
	}
	if keys[victim] == keys[rival] {
		t.Fatalf("both tenants' backups report the same object %s", keys[victim])
	}
	for ns, key := range keys {
		if !strings.Contains(key, "/"+ns+"/") {
			t.Errorf("%s's object key %s does not name its namespace", ns, key)
		}
		sql := dumpSQL(t, filepath.Join(shared, key))
		for other, row := range rows {
			if has := strings.Contains(sql, row); has != (other == ns) {
				t.Errorf("%s's backup %s holds %q: %v", ns, key, row, has)
			}
		}
	}

	// The rival restores what its backup says it holds: its own row only.
	framework.SandboxSQL(t, dbs[rival], `DELETE FROM res_partner`)
	framework.Apply(t, rival, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata: {name: undo}
spec:
  odooInstanceRef: {name: shop}
  format: zip
  neutralize: false
  source:
    type: pvc
    pvc: {claimName: backups, path: %s}
`, keys[rival]))
	restore := "odoorestorejobs.v1alpha2.bemade.org/undo"
	if out, err := framework.KubectlE("wait", "-n", rival, "--for=jsonpath={.status.phase}=Completed", restore, "--timeout=2m"); err != nil {
		t.Fatalf("the restore did not complete: %v %s\nstatus: %s", err, out, jsonpath(t, rival, restore, "{.status}"))
	}
	if got := partnerNames(t, dbs[rival]); got != rows[rival] {
		t.Errorf("the rival's database after restoring its own backup holds %q, want %q", got, rows[rival])
	}
	if got := partnerNames(t, dbs[victim]); got != rows[victim] {
		t.Errorf("the victim's database holds %q, want %q", got, rows[victim])
	}
}

// TestHostileSecondBackupToAnExistingPath: a second OdooBackupJob to the
// path of a complete backup must back up the database as it is now, not
// "complete" with the old file; the first backup's file stays as it was.
func TestHostileSecondBackupToAnExistingPath(t *testing.T) {
	ns := framework.Namespace(t, "e2e-hostile-samepath")
	sharedClaim(t, ns, t.TempDir())
	dir := claimDir(t, ns, "backups")
	db := tenantWithRow(t, ns, "before-the-first-backup")
	if phase := backupJob(t, ns, "first", "shop/same.zip"); phase != "Completed" {
		t.Fatalf("first backup: %s: %s", phase, jsonpath(t, ns, backupRef+"first", "{.status.message}"))
	}
	first := jsonpath(t, ns, backupRef+"first", "{.status.objectKey} {.status.sha256}")
	framework.SandboxSQL(t, db, `INSERT INTO res_partner (name) VALUES ('after-the-first-backup')`)

	if phase := backupJob(t, ns, "second", "shop/same.zip"); phase != "Completed" {
		t.Fatalf("second backup: %s: %s", phase, jsonpath(t, ns, backupRef+"second", "{.status.message}"))
	}
	second := strings.Fields(jsonpath(t, ns, backupRef+"second", "{.status.objectKey} {.status.sha256}"))
	if len(second) != 2 || strings.Join(second, " ") == first {
		t.Fatalf("the second backup reports %q, the first %q: the same object", second, first)
	}
	if sql := dumpSQL(t, filepath.Join(dir, second[0])); !strings.Contains(sql, "after-the-first-backup") {
		t.Errorf("the second backup %s lacks the row written after the first", second[0])
	}
	firstKey := strings.Fields(first)[0]
	if sql := dumpSQL(t, filepath.Join(dir, firstKey)); strings.Contains(sql, "after-the-first-backup") {
		t.Errorf("the first backup %s was overwritten", firstKey)
	}
}

// TestHostileBackupScheduleRefused: a tenant's schedule that fires every
// second, every minute (below the administrator's one-hour floor) or never
// is refused at admission, naming spec.backup.schedule and the fix.
func TestHostileBackupScheduleRefused(t *testing.T) {
	ns := framework.Namespace(t, "e2e-hostile-schedule")
	for i, tc := range []struct{ schedule, why string }{
		{"@every 1s", "fixed delay"},
		{"* * * * *", "below the minimum of 1h0m0s"},
		{"0 0 30 2 *", "never fires"},
	} {
		// One name per attempt: an instance admitted by mistake does not
		// turn the next attempt into an update.
		manifest := strings.Replace(storageInstance(fmt.Sprintf(`  backup:
    schedule: %q
    destination: {pvc: {claimName: backups, path: shop}}
`, tc.schedule)), "name: shop", fmt.Sprintf("name: shop-%d", i), 1)
		out, err := framework.KubectlStdin(manifest, "create", "-n", ns, "-f", "-")
		if err == nil {
			t.Errorf("schedule %q was admitted: %s", tc.schedule, out)
			continue
		}
		for _, want := range []string{"spec.backup.schedule", tc.why, `"0 3 * * *"`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("schedule %q: the refusal %q lacks %q", tc.schedule, err, want)
			}
		}
	}
	if out, _ := framework.KubectlE("get", "-n", ns, "odooinstances.v1alpha2.bemade.org", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("instances with a refused schedule exist: %s", out)
	}
}
