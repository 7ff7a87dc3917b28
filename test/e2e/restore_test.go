//go:build e2e

package e2e

import (
	"archive/zip"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestRestoreJobBringsBackTheBackup: an OdooBackupJob to a claim really
// backs up the instance's database and filestore (the sandbox's Job player
// runs the data Jobs with the operator binary against the sandbox's
// PostgreSQL); after the data changed, an OdooRestoreJob from that backup
// loads it into a new database, verifies it, swaps it in while web and cron
// are held at 0, and releases them: the live database name holds the
// backed-up rows again and the changed database is kept aside.
func TestRestoreJobBringsBackTheBackup(t *testing.T) {
	ns := framework.Namespace(t, "e2e-restore")
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=2m")
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	if db == "" {
		t.Fatal("the instance has no status.database.name")
	}
	// What Odoo's init would have made (base installed, of the image's
	// series: the restore verifies both), plus rows of our own.
	framework.ModuleFixture(t, db)
	framework.SandboxSQL(t, db, `CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar NOT NULL, email varchar);
		INSERT INTO res_partner (name, email) VALUES ('Azure Interior', 'azure@example.com'),
		  ('Deco Addict', 'deco@example.com'), ('Gemini Furniture', NULL)`)
	framework.GiveTablesToOwner(t, db)
	filestore := claimDir(t, ns, "shop-filestore-pvc")
	attachment := filepath.Join("ab", "ab12cd34")
	writeFile(t, filepath.Join(filestore, "filestore", db, attachment), "before")
	backedUp := checksums(t, db)

	backupToClaim(t, ns, "before", "shop/before.zip")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", "odoobackupjobs.v1alpha2.bemade.org/before", "--timeout=2m")
	sum := jsonpath(t, ns, "odoobackupjobs.v1alpha2.bemade.org/before", "{.status.sha256}")
	// Stored under the namespace and the instance's uid, named by the
	// backup's uid: status.objectKey says where.
	key := jsonpath(t, ns, "odoobackupjobs.v1alpha2.bemade.org/before", "{.status.objectKey}")
	zipPath := filepath.Join(claimDir(t, ns, "backups"), key)
	sumFile, err := os.ReadFile(zipPath + ".sha256")
	if err != nil {
		t.Fatalf("the backup's checksum file: %v", err)
	}
	if len(sum) != 64 || strings.Fields(string(sumFile))[0] != sum {
		t.Fatalf("status.sha256 %q, the claim's %s says %q", sum, filepath.Base(zipPath)+".sha256", sumFile)
	}
	zipHas(t, zipPath, "dump.sql", "manifest.json", "filestore/ab/ab12cd34")

	// The data changes after the backup: a row added, one changed, one gone.
	framework.SandboxSQL(t, db, `INSERT INTO res_partner (name) VALUES ('Ready Mat');
		UPDATE res_partner SET email = 'gemini@example.com' WHERE name = 'Gemini Furniture';
		DELETE FROM res_partner WHERE name = 'Deco Addict'`)
	writeFile(t, filepath.Join(filestore, "filestore", db, attachment), "after")
	changed := checksums(t, db)
	if maps.Equal(changed, backedUp) {
		t.Fatalf("the change did not change the checksums: %v", changed)
	}

	// A restore into a Staging instance is neutralized by default. KWOK runs
	// no Odoo, so `odoo neutralize` changes nothing and the operator's own
	// check of the copy refuses it: the live database is untouched.
	framework.Apply(t, ns, strings.ReplaceAll(`apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: unneutralized
spec:
  odooInstanceRef: {name: shop}
  source:
    type: pvc
    pvc: {claimName: backups, path: KEY}
`, "KEY", key))
	refused := "odoorestorejobs.v1alpha2.bemade.org/unneutralized"
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Failed", refused, "--timeout=2m")
	if msg := jsonpath(t, ns, refused, "{.status.message}"); !strings.Contains(msg, "database.is_neutralized") || !strings.Contains(msg, "untouched") {
		t.Errorf("the refused restore's message %q does not name database.is_neutralized and the untouched live database", msg)
	}
	if got := checksums(t, db); !maps.Equal(got, changed) {
		t.Errorf("a refused restore changed the live database %s:\n got %v\nwant %v", db, got, changed)
	}
	if n := strings.Count(framework.Kubectl(t, "get", "jobs", "-n", ns, "-l", "bemade.org/job=neutralize", "-o", "name"), "job"); n != 1 {
		t.Errorf("%d neutralize Jobs, want 1", n)
	}
	waitTier(t, ns, "shop", fromImage)

	// neutralize: false (the copy is checked in the envtests with a played
	// `odoo neutralize`).
	restoreShopFromClaim(t, ns, "undo", key)
	restore := "odoorestorejobs.v1alpha2.bemade.org/undo"
	if out, err := framework.KubectlE("wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", restore, "--timeout=2m"); err != nil {
		t.Fatalf("the restore did not complete: %v %s\nstatus: %s", err, out, jsonpath(t, ns, restore, "{.status}"))
	}
	st := strings.Fields(jsonpath(t, ns, restore, "{.status.step} {.status.database} {.status.keptDatabase} {.status.targetDatabase} {.status.sha256}"))
	if len(st) != 5 || st[0] != "Done" || st[1] != db || st[2] == db || st[4] != sum {
		t.Fatalf("status step database keptDatabase targetDatabase sha256 = %q; want Done, %s, another database, the backup's %s", st, db, sum)
	}
	kept, target := st[2], st[3]

	if got := checksums(t, db); !maps.Equal(got, backedUp) {
		t.Errorf("database %s after the restore:\n got %v\nwant %v (the backup's)", db, got, backedUp)
	}
	if got := checksums(t, kept); !maps.Equal(got, changed) {
		t.Errorf("the kept database %s:\n got %v\nwant %v (the live one before the restore)", kept, got, changed)
	}
	// The backup's filestore took the live place; the live one is kept
	// beside the kept database.
	for name, want := range map[string]string{db: "before", kept: "after"} {
		if b, err := os.ReadFile(filepath.Join(filestore, "filestore", name, attachment)); err != nil || string(b) != want {
			t.Errorf("filestore/%s/%s holds %q (%v), want %q", name, attachment, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(filestore, "filestore", target)); !os.IsNotExist(err) {
		t.Errorf("filestore/%s is still there after the move (%v)", target, err)
	}
	if moved := jsonpath(t, ns, restore, "{.status.filestoreMoved}"); moved != "true" {
		t.Errorf("status.filestoreMoved = %q, want true", moved)
	}

	// Web and cron run again at their replicas, the hold is gone.
	waitTier(t, ns, "shop", fromImage)
	waitTier(t, ns, "shop-cron", fromImage)
	if hold := jsonpath(t, ns, "odoo/shop", `{.metadata.annotations.bemade\.org/restore-hold}`); hold != "" {
		t.Errorf("the instance still carries bemade.org/restore-hold=%s", hold)
	}
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=1m")
}

// claimDir is the host directory of a bound claim's hostPath volume
// (hack/sandbox-provisioner).
func claimDir(t *testing.T, ns, claim string) string {
	t.Helper()
	pv := jsonpath(t, ns, "pvc/"+claim, "{.spec.volumeName}")
	if pv == "" {
		t.Fatalf("claim %s is not bound", claim)
	}
	dir := framework.Kubectl(t, "get", "pv", pv, "-o", "jsonpath={.spec.hostPath.path}")
	if dir == "" {
		t.Fatalf("volume %s of claim %s has no hostPath", pv, claim)
	}
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// checksums are the per-table checksums of database db's public tables.
func checksums(t *testing.T, db string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, framework.SandboxDatabase(t, db))
	if err != nil {
		t.Fatalf("connecting to %s: %v", db, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	sums, err := dbtools.TableChecksums(ctx, conn)
	if err != nil {
		t.Fatalf("checksums of %s: %v", db, err)
	}
	if len(sums) == 0 {
		t.Fatalf("database %s has no table", db)
	}
	return sums
}

// zipHas fails unless the zip holds every member named.
func zipHas(t *testing.T, path string, members ...string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("the backup %s: %v", path, err)
	}
	defer func() { _ = zr.Close() }()
	have := map[string]bool{}
	for _, f := range zr.File {
		have[f.Name] = true
	}
	for _, m := range members {
		if !have[m] {
			t.Errorf("the backup %s lacks %s (members: %v)", filepath.Base(path), m, slices.Sorted(maps.Keys(have)))
		}
	}
}

// restoreShopFromClaim restores the zip at key of the claim backups into
// shop, un-neutralized, as the OdooRestoreJob name.
func restoreShopFromClaim(t *testing.T, ns, name, key string) {
	t.Helper()
	framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: %s
spec:
  odooInstanceRef: {name: shop}
  format: zip
  neutralize: false
  source:
    type: pvc
    pvc: {claimName: backups, path: %s}
`, name, key))
}
