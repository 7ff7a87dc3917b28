package odoozip_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
	"github.com/odoo-operator/odoo-operator/internal/egress"
	"github.com/odoo-operator/odoo-operator/internal/manager"
)

// A live Odoo's database manager (/web/database/backup) serves a zip made by
// the real backup code; `data restore-backup --from https://...` loads it
// into an empty database with identical tables and files. A wrong master
// password is refused with Odoo's reason, the target stays empty, and the
// password is nowhere in the output.
func TestDataRestoreBackupFromALiveOdoo(t *testing.T) {
	s := dbtoolstest.Server(t)
	src := dbtoolstest.Name(t, "live")
	dbtoolstest.CreateFixture(t, s, src, "")
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
	filestore := filepath.Join(t.TempDir(), "filestore", src)
	makeFilestore(t, filestore, 1<<20)
	dir := t.TempDir()
	if res, stderr, err := runData(t, "backup", "--format", "zip", "--filestore", filestore, "--to", "file://"+dir+"/live.zip", "--pg-bin-dir", s.BinDir); err != nil || !res.OK {
		t.Fatalf("backup: %v %+v\n%s", err, res, stderr)
	}
	zipBytes, err := os.ReadFile(filepath.Join(dir, "live.zip"))
	if err != nil {
		t.Fatal(err)
	}
	const master = "the-Source-master-pw"
	odoo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/web/database/backup" || r.ParseForm() != nil || r.PostForm.Get("name") != src {
			http.NotFound(w, r)
			return
		}
		if r.PostForm.Get("master_pwd") != master {
			_, _ = w.Write([]byte(`<html><div class="alert">Database backup error: Access Denied</div></html>`))
			return
		}
		_, _ = w.Write(zipBytes)
	}))
	defer odoo.Close()

	want, wantFiles := dbtoolstest.Checksums(t, s, src), fileSums(t, filestore)
	target := dbtoolstest.Name(t, "copy")
	dbtoolstest.CreateEmpty(t, s, target)
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, "postgres")
	t.Setenv(manager.EnvOdooSourceDatabase, src)
	// The fake Odoo listens on loopback over plain http: allowed here as an
	// administrator would allow it (the operator passes its flags so).
	t.Setenv(egress.EnvAllow, "127.0.0.1/32")
	t.Setenv(egress.EnvAllowHTTPCredentials, "true")
	restoredFilestore := filepath.Join(t.TempDir(), "filestore", target)
	restore := []string{"restore-backup", "--from", odoo.URL, "--database", target, "--filestore", restoredFilestore,
		"--work-dir", t.TempDir(), "--pg-bin-dir", s.BinDir}

	t.Setenv(manager.EnvOdooMasterPassword, "not-the-Master-pw")
	res, stderr, err := runData(t, restore...)
	if err == nil || res.OK || !strings.Contains(res.Error, "Odoo says: Access Denied") {
		t.Fatalf("a wrong master password: %v %+v", err, res)
	}
	if strings.Contains(stderr+res.Error, "not-the-Master-pw") {
		t.Fatal("the master password reached the output")
	}
	if got := dbtoolstest.Checksums(t, s, target); len(got) != 0 {
		t.Fatalf("a refused download wrote into the target: %v", got)
	}

	t.Setenv(manager.EnvOdooMasterPassword, master)
	res, stderr, err = runData(t, restore...)
	if err != nil || !res.OK {
		t.Fatalf("restore-backup from a live Odoo: %v %+v\n%s", err, res, stderr)
	}
	if res.Format != "zip" || res.File != odoo.URL || res.Database != target || res.SHA256 != sha256Bytes(zipBytes) || res.FilestoreFiles != 4 {
		t.Fatalf("result %+v", res)
	}
	if strings.Contains(stderr, master) {
		t.Fatal("the master password reached the log")
	}
	if got := dbtoolstest.Checksums(t, s, target); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored tables differ:\n got %v\nwant %v", got, want)
	}
	if got := fileSums(t, restoredFilestore); !reflect.DeepEqual(got, wantFiles) {
		t.Fatalf("restored filestore %v, want %v", got, wantFiles)
	}
}
