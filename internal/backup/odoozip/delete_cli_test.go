package odoozip_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
	"github.com/odoo-operator/odoo-operator/internal/testutil/s3harness"
)

// `data delete-backup` removes what `data backup` wrote (the archive, its
// checksum, the filestore tar of a dump and its checksum) and nothing else
// beside it, on S3 (versitygw) and in a directory; a second run finds
// nothing to do and succeeds.
func TestDataDeleteBackup(t *testing.T) {
	s := dbtoolstest.Server(t)
	s3srv := s3harness.Start(t)
	s3srv.SetEnv(t)
	src := dbtoolstest.Name(t, "del")
	dbtoolstest.CreateFixture(t, s, src, "")
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
	filestore := filepath.Join(t.TempDir(), "filestore", src)
	makeFilestore(t, filestore, 1<<10)
	pvc := t.TempDir()
	for _, dest := range []string{"s3", "dir"} {
		t.Run(dest, func(t *testing.T) {
			var base string
			var store objectstore.Store
			var err error
			if dest == "s3" {
				base = "s3://" + s3srv.Bucket + "/odoo/shop/"
				store, err = objectstore.NewS3(s3srv.Config("odoo/shop"))
			} else {
				base = "file://" + filepath.Join(pvc, "shop") + "/"
				store, err = objectstore.NewDir(filepath.Join(pvc, "shop"))
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range []struct{ name, format string }{{"old.dump", "dump"}, {"new.zip", "zip"}} {
				res, stderr, err := runData(t, "backup", "--format", b.format, "--filestore", filestore, "--to", base+b.name, "--pg-bin-dir", s.BinDir)
				if err != nil || !res.OK {
					t.Fatalf("backup %s: %v %+v\n%s", b.name, err, res, stderr)
				}
			}
			// A file of the user's beside the backup, with the backup's name as prefix.
			if _, err := store.Put(dbtoolstest.Ctx(t), "old.dump.notes", strings.NewReader("keep me")); err != nil {
				t.Fatal(err)
			}
			// What a backup Job killed mid-upload leaves: an unfinished
			// multipart upload, a temporary file.
			partial := filepath.Join(pvc, "shop", ".old.dump.partial-123")
			if dest == "s3" {
				core := minio.Core{Client: store.(*objectstore.S3).Client()}
				if _, err := core.NewMultipartUpload(dbtoolstest.Ctx(t), s3srv.Bucket, "odoo/shop/old.dump", minio.PutObjectOptions{}); err != nil {
					t.Fatal(err)
				}
				if u := <-core.ListIncompleteUploads(dbtoolstest.Ctx(t), s3srv.Bucket, "odoo/shop/", true); u.Key != "odoo/shop/old.dump" {
					t.Fatalf("the unfinished upload is not listed: %+v", u)
				}
			} else if err := os.WriteFile(partial, []byte("half a backup"), 0o600); err != nil {
				t.Fatal(err)
			}

			res, stderr, err := runData(t, "delete-backup", "--from", base+"old.dump")
			want := []string{"old.dump.sha256", "old.dump", "old.dump.filestore.tar.sha256", "old.dump.filestore.tar", "1 unfinished upload(s) of old.dump"}
			if err != nil || !res.OK || !reflect.DeepEqual(res.Removed, want) || res.Bytes == 0 || res.File != base+"old.dump" {
				t.Fatalf("delete-backup: %v %+v\n%s", err, res, stderr)
			}
			if strings.Contains(stderr, s3srv.SecretKey) {
				t.Fatal("the S3 secret reached the log")
			}
			objs, err := store.List(dbtoolstest.Ctx(t), "")
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range objs {
				keys = append(keys, o.Key)
			}
			if wantKeys := []string{"new.zip", "new.zip.sha256", "old.dump.notes"}; !reflect.DeepEqual(keys, wantKeys) {
				t.Fatalf("left %v, want %v", keys, wantKeys)
			}
			if dest == "s3" {
				for u := range store.(*objectstore.S3).Client().ListIncompleteUploads(dbtoolstest.Ctx(t), s3srv.Bucket, "odoo/shop/", true) {
					t.Errorf("unfinished upload left: %+v", u)
				}
			} else if _, err := os.Stat(partial); !os.IsNotExist(err) {
				t.Errorf("temporary file left: %v", err)
			}

			// Idempotent: a retried Job finds nothing left and succeeds.
			res, _, err = runData(t, "delete-backup", "--from", base+"old.dump")
			if err != nil || !res.OK || len(res.Removed) != 0 {
				t.Fatalf("second delete-backup: %v %+v", err, res)
			}
		})
	}

	// Refused credentials fail the command, and nothing is deleted.
	t.Run("s3 refused", func(t *testing.T) {
		t.Setenv(objectstore.EnvSecretKey, "wrong-"+s3srv.SecretKey)
		res, _, err := runData(t, "delete-backup", "--from", "s3://"+s3srv.Bucket+"/odoo/shop/new.zip")
		if err == nil || res.OK || res.Error == "" || strings.Contains(res.Error, s3srv.SecretKey) {
			t.Fatalf("delete-backup with a wrong secret: %v %+v", err, res)
		}
		store, err := objectstore.NewS3(s3srv.Config("odoo/shop"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := objectstore.ReadChecksum(dbtoolstest.Ctx(t), store, "new.zip"); err != nil {
			t.Fatalf("the backup was touched: %v", err)
		}
	})
}
