//go:build e2e

package e2e

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// hostileInstance creates a simulated instance (odoo-sim) "shop", waits
// until it is Ready and gives its database the module table; it returns the
// database name.
func hostileInstance(t *testing.T, ns string) string {
	t.Helper()
	const name = "shop"
	framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: %[1]s
spec:
  image: odoo-sim:18.0
  adminPassword: master-%[1]s
  replicas: 1
  ingress:
    hosts: [%[1]s.example.com]
`, name))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef(name), "--timeout=2m")
	db := jsonpath(t, ns, "odoo/"+name, "{.status.database.name}")
	if db == "" {
		t.Fatalf("instance %s has no status.database.name", name)
	}
	framework.ModuleFixture(t, db)
	return db
}

// tenantArchive puts a backup the tenant crafted, with its .sha256, on a
// claim "backups" of the namespace, as a tenant can (any pod of theirs
// mounting the claim could write it).
func tenantArchive(t *testing.T, ns, name string, data []byte) {
	t.Helper()
	framework.Apply(t, ns, `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: backups
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`)
	var dir string
	framework.Eventually(t, time.Minute, "claim backups bound", func() error {
		if jsonpath(t, ns, "pvc/backups", "{.spec.volumeName}") == "" {
			return fmt.Errorf("not bound")
		}
		dir = claimDir(t, ns, "backups")
		return nil
	})
	sum := sha256.Sum256(data)
	writeFile(t, filepath.Join(dir, name), string(data))
	writeFile(t, filepath.Join(dir, name+".sha256"), objectstore.ChecksumLine(hex.EncodeToString(sum[:]), name))
}

// restoreFrom restores the archive name of the claim backups into shop and
// waits until the OdooRestoreJob failed; it returns its message.
func restoreFrom(t *testing.T, ns, restore, name string) string {
	t.Helper()
	framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: %s
spec:
  odooInstanceRef: {name: shop}
  neutralize: false
  source:
    type: pvc
    pvc: {claimName: backups, path: %s}
`, restore, name))
	ref := "odoorestorejobs.v1alpha2.bemade.org/" + restore
	if out, err := framework.KubectlE("wait", "-n", ns, "--for=jsonpath={.status.phase}=Failed", ref, "--timeout=2m"); err != nil {
		t.Fatalf("the restore did not fail: %v %s\nstatus: %s", err, out, jsonpath(t, ns, ref, "{.status}"))
	}
	return jsonpath(t, ns, ref, "{.status.message}")
}

const hostileManifest = `{"odoo_dump": "1", "db_name": "x", "version": "18.0", "version_info": [18, 0, 0, "final", 0, ""],
 "major_version": "18.0", "pg_version": "15.0", "modules": {"base": "18.0.1.3"}}`

// TestHostileArchiveMetaCommands: a tenant's backup zip whose dump.sql
// carries psql meta-commands (a shell command, \copy to a program, output
// piped to a program) is restored with an OdooRestoreJob: the restore fails
// naming the line, none of the commands ran (their files do not exist), and
// the live database is untouched.
func TestHostileArchiveMetaCommands(t *testing.T) {
	ns := framework.Namespace(t, "e2e-hostile-meta")
	db := hostileInstance(t, ns)
	before := checksums(t, db)
	tag := rand.Text()
	pwned := []string{"/tmp/pwned-" + tag + "-shell", "/tmp/pwned-" + tag + "-copy", "/tmp/pwned-" + tag + "-pipe"}
	t.Cleanup(func() {
		for _, p := range pwned {
			_ = os.Remove(p)
		}
	})
	dump := "SET standard_conforming_strings = on;\n" +
		"CREATE TABLE public.planted (a int);\n" +
		`\! touch ` + pwned[0] + "\n" +
		`\copy (SELECT 1) TO PROGRAM 'touch ` + pwned[1] + "'\n" +
		`\o |touch ` + pwned[2] + "\n" +
		"SELECT 1;\n\\o\n"
	tenantArchive(t, ns, "evil.zip", zipOf(t, map[string]string{"dump.sql": dump, "manifest.json": hostileManifest}, nil))

	msg := restoreFrom(t, ns, "evil", "evil.zip")
	for _, want := range []string{"dump.sql line 3", "psql meta-commands are not SQL data", "untouched"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the restore's message %q does not say %q", msg, want)
		}
	}
	for _, p := range pwned {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("a meta-command of the archive ran: %s exists (%v)", p, err)
		}
	}
	if got := checksums(t, db); !maps.Equal(got, before) {
		t.Errorf("the live database changed:\n got %v\nwant %v", got, before)
	}
}

// TestHostileArchiveZipBomb: a tenant's zip whose filestore declares far
// more than the filestore volume holds (1 PiB) is refused before anything is
// inflated or written: the instance's filestore claim holds exactly what it
// held, and the live database is untouched.
func TestHostileArchiveZipBomb(t *testing.T) {
	ns := framework.Namespace(t, "e2e-hostile-bomb")
	db := hostileInstance(t, ns)
	filestore := claimDir(t, ns, "shop-filestore-pvc")
	writeFile(t, filepath.Join(filestore, "filestore", db, "ab", "ab12"), "live attachment")
	claimBefore := treeOf(t, filestore)
	before := checksums(t, db)
	bomb := zipOf(t, map[string]string{"dump.sql": "SELECT 1;\n", "manifest.json": hostileManifest}, func(zw *zip.Writer) {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "filestore/ab/bomb", Method: zip.Store,
			UncompressedSize64: 1 << 50, CompressedSize64: 4, CRC32: crc32.ChecksumIEEE([]byte("boom"))})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("boom"))
	})
	tenantArchive(t, ns, "bomb.zip", bomb)

	msg := restoreFrom(t, ns, "bomb", "bomb.zip")
	for _, want := range []string{"not enough free space", "1.0 PiB", "nothing was written"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the restore's message %q does not say %q", msg, want)
		}
	}
	if got := treeOf(t, filestore); !slices.Equal(got, claimBefore) {
		t.Errorf("the filestore claim changed:\n got %v\nwant %v", got, claimBefore)
	}
	if got := checksums(t, db); !maps.Equal(got, before) {
		t.Errorf("the live database changed:\n got %v\nwant %v", got, before)
	}
}

// zipOf builds a zip of the members, then lets modify add more.
func zipOf(t *testing.T, members map[string]string, modify func(*zip.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(members)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(members[name]))
	}
	if modify != nil {
		modify(zw)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// treeOf lists every path under dir with its size.
func treeOf(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %d", rel, info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
