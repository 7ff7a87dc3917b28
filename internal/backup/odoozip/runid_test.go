package odoozip_test

import (
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
	"github.com/odoo-operator/odoo-operator/internal/testutil/s3harness"
)

// TestDataBackupRefusesAnObjectOfAnotherRun: `data backup --run-id` records
// the run beside the backup; the same run retried keeps it, but another run
// aimed at the same key (a second backup to an existing path, or another
// tenant's same-named backup in a shared bucket) fails and leaves the stored
// backup as it was, instead of reporting it as its own.
func TestDataBackupRefusesAnObjectOfAnotherRun(t *testing.T) {
	s := dbtoolstest.Server(t)
	s3srv := s3harness.Start(t)
	s3srv.SetEnv(t)
	src := dbtoolstest.Name(t, "src")
	dbtoolstest.CreateFixture(t, s, src, "")
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
	url := "s3://" + s3srv.Bucket + "/odoo/" + src + "/nightly.dump"
	store, err := objectstore.NewS3(s3srv.Config("odoo/" + src))
	if err != nil {
		t.Fatal(err)
	}
	backup := func(runID string) (string, error) {
		res, stderr, err := runData(t, "backup", "--format", "dump", "--to", url, "--run-id", runID, "--pg-bin-dir", s.BinDir)
		if err == nil && (!res.OK || res.RunID != runID) {
			t.Fatalf("result %+v\n%s", res, stderr)
		}
		if err != nil {
			return res.Error, err
		}
		if res.Existing {
			return "existing", nil
		}
		return "written", nil
	}

	if got, err := backup("run-a"); err != nil || got != "written" {
		t.Fatalf("first backup: %q %v", got, err)
	}
	sumFile := string(getObject(t, store, "nightly.dump.sha256"))
	if !strings.HasSuffix(sumFile, "  nightly.dump\n# run-id: run-a\n") {
		t.Fatalf("checksum file %q does not name the run", sumFile)
	}
	stored := getObject(t, store, "nightly.dump")
	if got, err := backup("run-a"); err != nil || got != "existing" {
		t.Fatalf("the same run retried: %q %v, want the backup kept", got, err)
	}

	// Another run: refused, nothing touched.
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
	msg, err := backup("run-b")
	if err == nil {
		t.Fatal("a backup of another run was reported as this run's")
	}
	if !strings.Contains(msg, "written by run run-a, not by this run (run-b)") {
		t.Errorf("error %q does not say whose backup is there", msg)
	}
	if got := getObject(t, store, "nightly.dump"); sha256Bytes(got) != sha256Bytes(stored) {
		t.Error("the stored backup was overwritten")
	}
	if got := string(getObject(t, store, "nightly.dump.sha256")); got != sumFile {
		t.Errorf("the checksum file changed: %q", got)
	}
}
