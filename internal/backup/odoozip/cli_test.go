package odoozip_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/internal/backup/odoozip"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
	"github.com/odoo-operator/odoo-operator/internal/manager"
	"github.com/odoo-operator/odoo-operator/internal/testutil/s3harness"
)

// runData runs `odoo-operator data ARGS` in process and returns its
// result from the termination log.
func runData(t *testing.T, args ...string) (datajob.Result, string, error) {
	t.Helper()
	termLog := filepath.Join(t.TempDir(), "termination-log")
	if err := os.WriteFile(termLog, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	root := manager.NewRootCommand()
	root.SetArgs(append(append([]string{"data"}, args...), "--termination-log", termLog))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	b, rerr := os.ReadFile(termLog)
	if rerr != nil {
		t.Fatal(rerr)
	}
	var res datajob.Result
	if jerr := json.Unmarshal(b, &res); jerr != nil {
		t.Fatalf("termination log %q: %v", b, jerr)
	}
	return res, errOut.String(), err
}

func getObject(t *testing.T, s objectstore.Store, key string) []byte {
	t.Helper()
	r, err := s.Get(dbtoolstest.Ctx(t), key)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The acceptance path: `data backup` to S3 (versitygw) and to a directory,
// in both formats; the database is dropped and the filestore removed; `data
// restore-backup` brings back identical tables and files.
func TestDataBackupDropRestoreBackup(t *testing.T) {
	s := dbtoolstest.Server(t)
	s3srv := s3harness.Start(t)
	s3srv.SetEnv(t)
	pvc := t.TempDir()
	for _, dest := range []string{"s3", "dir"} {
		for _, format := range []string{"zip", "dump"} {
			t.Run(dest+"/"+format, func(t *testing.T) {
				src := dbtoolstest.Name(t, "src")
				dbtoolstest.CreateFixture(t, s, src, "")
				dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
				filestore := filepath.Join(t.TempDir(), "filestore", src)
				makeFilestore(t, filestore, 2<<20)
				var url string
				var store objectstore.Store
				var err error
				if dest == "s3" {
					url = "s3://" + s3srv.Bucket + "/odoo/" + src + "/nightly." + format
					store, err = objectstore.NewS3(s3srv.Config("odoo/" + src))
				} else {
					url = "file://" + filepath.Join(pvc, src) + "/nightly." + format
					store, err = objectstore.NewDir(filepath.Join(pvc, src))
				}
				if err != nil {
					t.Fatal(err)
				}
				common := []string{"--pg-bin-dir", s.BinDir}

				res, stderr, err := runData(t, append([]string{"backup", "--format", format, "--filestore", filestore, "--to", url}, common...)...)
				if err != nil || !res.OK {
					t.Fatalf("backup: %v %+v\n%s", err, res, stderr)
				}
				stored := getObject(t, store, "nightly."+format)
				if res.SHA256 != sha256Bytes(stored) || res.Bytes != int64(len(stored)) || res.Format != format ||
					res.File != url || res.Database != src || res.FilestoreFiles != 4 || res.Existing {
					t.Fatalf("backup result %+v for a %d-byte object", res, len(stored))
				}
				if sum := string(getObject(t, store, "nightly."+format+".sha256")); sum != res.SHA256+"  nightly."+format+"\n" {
					t.Fatalf("checksum object %q", sum)
				}
				if strings.Contains(stderr, s3srv.SecretKey) || strings.Contains(stderr, s.AdminPassword) {
					t.Fatal("a secret reached the log")
				}
				var wantKeys []string
				if format == "zip" {
					wantKeys = []string{"nightly.zip", "nightly.zip.sha256"}
					if !bytes.HasPrefix(stored, []byte("PK\x03\x04")) {
						t.Fatal("not a zip")
					}
				} else {
					wantKeys = []string{"nightly.dump", "nightly.dump.filestore.tar", "nightly.dump.filestore.tar.sha256", "nightly.dump.sha256"}
					if !bytes.HasPrefix(stored, []byte("PGDMP")) {
						t.Fatal("not a custom-format dump")
					}
				}
				objs, err := store.List(dbtoolstest.Ctx(t), "")
				if err != nil {
					t.Fatal(err)
				}
				var keys []string
				for _, o := range objs {
					keys = append(keys, o.Key)
				}
				if !reflect.DeepEqual(keys, wantKeys) {
					t.Fatalf("stored %v, want %v", keys, wantKeys)
				}

				// A retried Job keeps the complete backup.
				again, _, err := runData(t, append([]string{"backup", "--format", format, "--filestore", filestore, "--to", url}, common...)...)
				if err != nil || !again.Existing || again.SHA256 != res.SHA256 || again.Bytes != res.Bytes {
					t.Fatalf("second backup: %v %+v", err, again)
				}

				want, wantFiles := dbtoolstest.Checksums(t, s, src), fileSums(t, filestore)
				dropDatabase(t, s, src)
				if err := os.RemoveAll(filestore); err != nil {
					t.Fatal(err)
				}
				dbtoolstest.CreateEmpty(t, s, src)
				dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, "postgres")

				res, stderr, err = runData(t, append([]string{"restore-backup", "--from", url, "--database", src, "--filestore", filestore,
					"--work-dir", t.TempDir()}, common...)...)
				if err != nil || !res.OK {
					t.Fatalf("restore-backup: %v %+v\n%s", err, res, stderr)
				}
				if res.Format != format || res.FilestoreFiles != 4 || res.SHA256 != sha256Bytes(stored) || res.Database != src {
					t.Fatalf("restore-backup result %+v", res)
				}
				if got := dbtoolstest.Checksums(t, s, src); !reflect.DeepEqual(got, want) {
					t.Fatalf("restored tables differ:\n got %v\nwant %v", got, want)
				}
				if got := fileSums(t, filestore); !reflect.DeepEqual(got, wantFiles) || len(got) != 4 {
					t.Fatalf("restored filestore %v, want %v", got, wantFiles)
				}
			})
		}
	}
}

// A backup damaged in storage is refused before the target is touched.
func TestDataRestoreBackupRefusesDamagedBackups(t *testing.T) {
	s := dbtoolstest.Server(t)
	s3srv := s3harness.Start(t)
	s3srv.SetEnv(t)
	src := dbtoolstest.Name(t, "src")
	dbtoolstest.CreateFixture(t, s, src, "")
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
	filestore := filepath.Join(t.TempDir(), "filestore")
	makeFilestore(t, filestore, 1<<20)
	s3store, err := objectstore.NewS3(s3srv.Config("damaged"))
	if err != nil {
		t.Fatal(err)
	}
	pvc := t.TempDir()
	dirStore, err := objectstore.NewDir(pvc)
	if err != nil {
		t.Fatal(err)
	}
	common := []string{"--pg-bin-dir", s.BinDir}
	for _, c := range []struct {
		name, url, key string
		store          objectstore.Store
		format         string
		damage         func([]byte) []byte
		want           string
	}{
		{"s3 zip truncated", "s3://" + s3srv.Bucket + "/damaged/a.zip", "a.zip", s3store, "zip", func(b []byte) []byte { return b[:len(b)*2/3] }, "truncated or corrupt"},
		{"s3 zip flipped byte", "s3://" + s3srv.Bucket + "/damaged/b.zip", "b.zip", s3store, "zip", func(b []byte) []byte { return flip(b, len(b)/2) }, "truncated or corrupt"},
		{"dir dump truncated", "file://" + pvc + "/c.dump", "c.dump", dirStore, "dump", func(b []byte) []byte { return b[:len(b)-10] }, "truncated or corrupt"},
		{"dir dump filestore flipped", "file://" + pvc + "/d.dump", "d.dump.filestore.tar", dirStore, "dump", func(b []byte) []byte { return flip(b, 700) }, "truncated or corrupt"},
		{"s3 zip without checksum", "s3://" + s3srv.Bucket + "/damaged/e.zip", "e.zip.sha256", s3store, "zip", nil, "has no checksum file e.zip.sha256"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
			if res, stderr, err := runData(t, append([]string{"backup", "--format", c.format, "--filestore", filestore, "--to", c.url}, common...)...); err != nil {
				t.Fatalf("backup: %v %+v %s", err, res, stderr)
			}
			if c.damage == nil {
				if err := c.store.Delete(dbtoolstest.Ctx(t), c.key); err != nil {
					t.Fatal(err)
				}
			} else if _, err := c.store.Put(dbtoolstest.Ctx(t), c.key, bytes.NewReader(c.damage(getObject(t, c.store, c.key)))); err != nil {
				t.Fatal(err)
			}
			target := dbtoolstest.Name(t, "target")
			dbtoolstest.CreateEmpty(t, s, target)
			fsDir := filepath.Join(t.TempDir(), "fs", target)
			res, _, err := runData(t, append([]string{"restore-backup", "--from", c.url, "--database", target, "--filestore", fsDir}, common...)...)
			if err == nil || res.OK || !strings.Contains(res.Error, c.want) {
				t.Fatalf("restore-backup of a damaged backup: %v, %+v; want an error saying %q", err, res, c.want)
			}
			if c.damage != nil && !errors.Is(err, odoozip.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			dbtoolstest.AssertUntouched(t, s, target)
			if entries, _ := os.ReadDir(filepath.Dir(fsDir)); len(entries) != 0 {
				t.Fatalf("files written beside the filestore: %v", entries)
			}
		})
	}
}

func TestDataBackupRefusesBadArguments(t *testing.T) {
	s := dbtoolstest.Server(t)
	missing := filepath.Join(t.TempDir(), "missing")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--to", "file:///tmp/x.zip", "--format", "sql"}, `--format "sql": want zip or dump`},
		{[]string{"backup", "--to", "ftp://host/x.zip"}, "want s3://BUCKET/PREFIX/NAME or file:///DIR/NAME"},
		{[]string{"backup", "--to", "s3://bucket/../x.zip"}, "no '.' or '..' segment"},
		{[]string{"restore-backup", "--from", "file://" + missing + "/x.zip", "--database", "t"}, "has no checksum file x.zip.sha256"},
	} {
		res, _, err := runData(t, append(c.args, "--pg-bin-dir", s.BinDir)...)
		if err == nil || res.OK || !strings.Contains(res.Error, c.want) {
			t.Errorf("%v: %v %+v, want %q", c.args, err, res, c.want)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("restore-backup from a missing directory created it: %v", err)
	}
}

// A new database has no filestore directory yet (Odoo makes it with the
// first attachment): its backup holds an empty filestore instead of failing.
func TestDataBackupOfANewDatabaseWithoutFilestore(t *testing.T) {
	s := dbtoolstest.Server(t)
	src := dbtoolstest.Name(t, "new")
	dbtoolstest.CreateFixture(t, s, src, "")
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
	dir := t.TempDir()
	missing := filepath.Join(dir, "filestore", src)
	res, stderr, err := runData(t, "backup", "--format", "zip", "--filestore", missing, "--to", "file://"+dir+"/new.zip", "--pg-bin-dir", s.BinDir)
	if err != nil || !res.OK || res.FilestoreFiles != 0 {
		t.Fatalf("backup: %v %+v\n%s", err, res, stderr)
	}
	if _, err := odoozip.Verify(dbtoolstest.Ctx(t), filepath.Join(dir, "new.zip"), res.SHA256); err != nil {
		t.Errorf("the archive does not verify: %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the backup created the filestore directory: %v", err)
	}
}
