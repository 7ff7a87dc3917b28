package objectstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/internal/testutil/s3harness"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

// stores are the two implementations, each with a way to see the object
// behind a key from outside the store.
func stores(t *testing.T) map[string]struct {
	store  objectstore.Store
	file   func(key string) string
	bucket string
} {
	s3srv := s3harness.Start(t)
	cfg := s3srv.Config("team/prod/")
	cfg.PartSize = 5 << 20 // the minimum, to upload in several parts
	s3, err := objectstore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "pvc", "backups")
	dir, err := objectstore.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]struct {
		store  objectstore.Store
		file   func(key string) string
		bucket string
	}{
		"s3":  {s3, func(key string) string { return filepath.Join(s3srv.Dir, s3srv.Bucket, "team", "prod", key) }, s3srv.Bucket},
		"dir": {dir, func(key string) string { return filepath.Join(root, key) }, ""},
	}
}

func TestStores(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := st.store
			c := ctx(t)
			big := randomBytes(t, 13<<20+12345) // three parts and a bit
			small := []byte("small object")
			for key, data := range map[string][]byte{"db1/2025-01-01.zip": big, "db1/2025-01-02.zip": small, "db2/x.dump": small, "top": small} {
				n, err := s.Put(c, key, bytes.NewReader(data))
				if err != nil || n != int64(len(data)) {
					t.Fatalf("Put %s: %d, %v", key, n, err)
				}
			}
			r, err := s.Get(c, "db1/2025-01-01.zip")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			_ = r.Close()
			if err != nil || !bytes.Equal(got, big) {
				t.Fatalf("Get: %d bytes back of %d, %v", len(got), len(big), err)
			}
			// The object is where the store says: a plain file.
			if onDisk, err := os.ReadFile(st.file("db1/2025-01-01.zip")); err != nil || !bytes.Equal(onDisk, big) {
				t.Fatalf("the object is not the file %s: %v", st.file("db1/2025-01-01.zip"), err)
			}
			if o, err := s.Stat(c, "db1/2025-01-01.zip"); err != nil || o.Size != int64(len(big)) || o.Key != "db1/2025-01-01.zip" || time.Since(o.LastModified) > time.Hour {
				t.Fatalf("Stat: %+v, %v", o, err)
			}

			list, err := s.List(c, "db1/")
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range list {
				keys = append(keys, o.Key)
			}
			if !slices.Equal(keys, []string{"db1/2025-01-01.zip", "db1/2025-01-02.zip"}) || list[0].Size != int64(len(big)) {
				t.Fatalf("List db1/: %+v", list)
			}
			all, _ := s.List(c, "")
			if len(all) != 4 || all[3].Key != "top" {
				t.Fatalf("List: %+v", all)
			}
			if l, err := s.List(c, "nothing-here/"); err != nil || len(l) != 0 {
				t.Fatalf("List of an empty prefix: %v, %v", l, err)
			}

			// Replacing keeps one object, with the new content.
			if _, err := s.Put(c, "db2/x.dump", strings.NewReader("v2")); err != nil {
				t.Fatal(err)
			}
			if b := readAll(t, s, "db2/x.dump"); b != "v2" {
				t.Fatalf("replaced object holds %q", b)
			}

			// A Put whose reader fails, after several parts, leaves the old object
			// in place, and no new one.
			for _, key := range []string{"db2/x.dump", "db2/new.dump"} {
				boom := errors.New("pg_dump died")
				_, err := s.Put(c, key, &failingReader{n: 12 << 20, err: boom})
				if err == nil || !strings.Contains(err.Error(), "pg_dump died") {
					t.Fatalf("Put with a failing reader: %v", err)
				}
			}
			if b := readAll(t, s, "db2/x.dump"); b != "v2" {
				t.Fatalf("a failed Put changed the object: %q", b)
			}
			if _, err := s.Stat(c, "db2/new.dump"); !errors.Is(err, objectstore.ErrNotFound) {
				t.Fatalf("a failed Put left an object: %v", err)
			}
			// So does a cancelled one.
			cc, cancel := context.WithCancel(c)
			pr, pw := io.Pipe()
			go func() {
				_, _ = pw.Write(make([]byte, 6<<20))
				cancel()
				_, _ = pw.Write(make([]byte, 1<<20))
				_ = pw.Close()
			}()
			if _, err := s.Put(cc, "db2/cancelled.dump", pr); err == nil {
				t.Fatal("a cancelled Put succeeded")
			}
			if _, err := s.Stat(c, "db2/cancelled.dump"); !errors.Is(err, objectstore.ErrNotFound) {
				t.Fatalf("a cancelled Put left an object: %v", err)
			}
			if l, _ := s.List(c, "db2/"); len(l) != 1 {
				t.Fatalf("after failed Puts, db2/ holds %+v", l)
			}
			if s3, ok := s.(*objectstore.S3); ok {
				// The failed multipart uploads were aborted: no parts are left
				// taking space.
				for u := range s3.Client().ListIncompleteUploads(c, st.bucket, "", true) {
					t.Errorf("incomplete upload left: %+v", u)
				}
			}

			// Missing objects.
			if _, err := s.Get(c, "db1/missing.zip"); !errors.Is(err, objectstore.ErrNotFound) {
				t.Fatalf("Get of a missing object: %v", err)
			}
			if _, err := s.Stat(c, "db1/missing.zip"); !errors.Is(err, objectstore.ErrNotFound) {
				t.Fatalf("Stat of a missing object: %v", err)
			}

			// Delete, twice.
			for range 2 {
				if err := s.Delete(c, "db1/2025-01-02.zip"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Stat(c, "db1/2025-01-02.zip"); !errors.Is(err, objectstore.ErrNotFound) {
				t.Fatalf("deleted object still there: %v", err)
			}
			if err := s.Delete(c, "never/was"); err != nil {
				t.Fatalf("Delete of a missing object: %v", err)
			}

			// Checksum files beside a backup.
			if err := objectstore.WriteChecksum(c, s, "db1/2025-01-01.zip", strings.Repeat("ab", 32)); err != nil {
				t.Fatal(err)
			}
			if b := readAll(t, s, "db1/2025-01-01.zip.sha256"); b != strings.Repeat("ab", 32)+"  2025-01-01.zip\n" {
				t.Fatalf("checksum file %q", b)
			}
			if sum, err := objectstore.ReadChecksum(c, s, "db1/2025-01-01.zip"); err != nil || sum != strings.Repeat("ab", 32) {
				t.Fatalf("ReadChecksum: %q, %v", sum, err)
			}
			if _, err := objectstore.ReadChecksum(c, s, "db2/x.dump"); !errors.Is(err, objectstore.ErrNotFound) {
				t.Fatalf("ReadChecksum without a checksum file: %v", err)
			}

			// Keys that could leave the root are refused.
			for _, key := range []string{"", "../escape", "a/../../b", "/abs", "a//b", "a/", "./a", `a\b`, "a\x00b", "a\nb"} {
				if _, err := s.Put(c, key, strings.NewReader("x")); err == nil {
					t.Errorf("Put(%q) succeeded", key)
				}
				if _, err := s.Get(c, key); err == nil || errors.Is(err, objectstore.ErrNotFound) {
					t.Errorf("Get(%q): %v", key, err)
				}
			}
		})
	}
}

func readAll(t *testing.T, s objectstore.Store, key string) string {
	t.Helper()
	r, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDirWritesPrivateFilesAtomically(t *testing.T) {
	root := t.TempDir()
	d, err := objectstore.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	// While a Put runs, its data is in a temporary file that List skips.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := d.Put(c, "a/b.zip", pr)
		done <- err
	}()
	if _, err := pw.Write([]byte("half")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "a"))
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), ".b.zip.partial-") {
		t.Fatalf("during Put, a/ holds %v", entries)
	}
	if l, _ := d.List(c, ""); len(l) != 0 {
		t.Fatalf("List during Put: %+v", l)
	}
	if _, err := d.Stat(c, "a/b.zip"); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("Stat during Put: %v", err)
	}
	_ = pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(root, "a", "b.zip"))
	if err != nil || fi.Mode().Perm() != objectstore.FileMode || fi.Size() != 4 {
		t.Fatalf("stored file: %v, %v", fi, err)
	}
	entries, _ = os.ReadDir(filepath.Join(root, "a"))
	if len(entries) != 1 {
		t.Fatalf("after Put, a/ holds %v", entries)
	}
	if d.String() != "directory "+root || d.Root() != root {
		t.Fatalf("String %q, Root %q", d, d.Root())
	}
}

func TestS3ConfigKeepsTheSecret(t *testing.T) {
	env := map[string]string{
		"S3_ENDPOINT": "https://minio.example.com:9000", "S3_BUCKET": "b", "S3_REGION": "eu-west-3",
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-very-secret", "S3_PART_SIZE_MB": "64",
	}
	cfg, err := objectstore.S3ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != env["S3_ENDPOINT"] || cfg.Bucket != "b" || cfg.Region != "eu-west-3" || cfg.AccessKeyID != "AKIDEXAMPLE" ||
		cfg.SecretAccessKey != env["AWS_SECRET_ACCESS_KEY"] || cfg.PartSize != 64<<20 || cfg.Insecure {
		t.Fatalf("config %+v", cfg)
	}
	s, err := objectstore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{cfg.String(), s.String()} {
		if strings.Contains(text, "very-secret") || !strings.Contains(text, `s3 bucket "b"`) || !strings.Contains(text, "https://minio.example.com:9000") {
			t.Fatalf("description %q", text)
		}
	}
	for k, v := range map[string]string{"S3_INSECURE": "maybe", "S3_PART_SIZE_MB": "1"} {
		bad := map[string]string{k: v}
		if _, err := objectstore.S3ConfigFromEnv(func(k string) string { return bad[k] }); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
	for _, c := range []objectstore.S3Config{
		{Bucket: "b", AccessKeyID: "a"},
		{AccessKeyID: "a", SecretAccessKey: "s"},
		{Bucket: "b", AccessKeyID: "a", SecretAccessKey: "s", Endpoint: "ftp://host"},
		{Bucket: "b", AccessKeyID: "a", SecretAccessKey: "s", Endpoint: "http://host/path"},
	} {
		if _, err := objectstore.NewS3(c); err == nil {
			t.Errorf("NewS3(%+v) succeeded", c)
		}
	}
}

// A request that the server refuses names the bucket, not the secret.
func TestS3ErrorsNameTheBucketNotTheSecret(t *testing.T) {
	srv := s3harness.Start(t)
	cfg := srv.Config("")
	cfg.SecretAccessKey = "wrong-" + srv.SecretKey
	s, err := objectstore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Put(ctx(t), "x", strings.NewReader("x"))
	if err == nil || !strings.Contains(err.Error(), srv.Bucket) || strings.Contains(err.Error(), cfg.SecretAccessKey) {
		t.Fatalf("Put with a wrong secret: %v", err)
	}
	cfg = srv.Config("")
	cfg.Bucket = "no-such-bucket"
	s, _ = objectstore.NewS3(cfg)
	if _, err := s.Stat(ctx(t), "x"); err == nil || errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("Stat in a missing bucket: want an error other than ErrNotFound, got %v", err)
	}
}

func TestParseLocation(t *testing.T) {
	good := map[string]objectstore.Location{
		"s3://bucket/prefix/sub/prod.zip": {Scheme: "s3", Bucket: "bucket", Dir: "prefix/sub", Name: "prod.zip"},
		"s3://bucket/prod.zip":            {Scheme: "s3", Bucket: "bucket", Name: "prod.zip"},
		"s3:///prefix/prod.zip":           {Scheme: "s3", Dir: "prefix", Name: "prod.zip"},
		"file:///var/backups/prod.dump":   {Scheme: "file", Dir: "/var/backups", Name: "prod.dump"},
		"file:///prod.dump":               {Scheme: "file", Dir: "/", Name: "prod.dump"},
		"file://localhost/b/prod.dump":    {Scheme: "file", Dir: "/b", Name: "prod.dump"},
	}
	for raw, want := range good {
		got, err := objectstore.ParseLocation(raw)
		if err != nil || got != want {
			t.Errorf("ParseLocation(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
	if l, _ := objectstore.ParseLocation("s3://bucket/prefix/sub/prod.zip"); l.String() != "s3://bucket/prefix/sub/prod.zip" {
		t.Errorf("String: %s", l)
	}
	for _, raw := range []string{
		"", "prod.zip", "/abs/prod.zip", "http://host/prod.zip", "s3://bucket/", "s3://bucket/prefix/", "s3://bucket/a//b",
		"s3://bucket/../x", "file://host/x", "file:///a/../b", "file:///a/./b", "file:///a/b/", "file:relative/x",
		"s3://bucket/x?versionId=1", "s3://user:pw@bucket/x",
	} {
		if l, err := objectstore.ParseLocation(raw); err == nil {
			t.Errorf("ParseLocation(%q) = %+v, want an error", raw, l)
		}
	}
}

func TestOpen(t *testing.T) {
	env := map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "S3_ENDPOINT": "127.0.0.1:1", "S3_INSECURE": "true"}
	getenv := func(k string) string { return env[k] }
	l, _ := objectstore.ParseLocation("s3://b1/team/prod/x.zip")
	s, err := objectstore.Open(l, getenv)
	if err != nil || s.String() != `s3 bucket "b1" prefix "team/prod/" at http://127.0.0.1:1` {
		t.Fatalf("Open: %v, %v", s, err)
	}
	env["S3_BUCKET"] = "b2"
	if _, err := objectstore.Open(l, getenv); err == nil || !strings.Contains(err.Error(), `names bucket "b1" but S3_BUCKET is "b2"`) {
		t.Fatalf("Open with two buckets: %v", err)
	}
	l, _ = objectstore.ParseLocation("s3:///x.zip")
	if s, err := objectstore.Open(l, getenv); err != nil || !strings.Contains(s.String(), `"b2"`) {
		t.Fatalf("Open with S3_BUCKET: %v, %v", s, err)
	}
	delete(env, "S3_BUCKET")
	if _, err := objectstore.Open(l, getenv); err == nil {
		t.Fatal("Open without a bucket succeeded")
	}
	dir := filepath.Join(t.TempDir(), "new")
	l, _ = objectstore.ParseLocation("file://" + dir + "/x.dump")
	s, err = objectstore.Open(l, getenv)
	if err != nil || s.String() != "directory "+dir {
		t.Fatalf("Open file: %v, %v", s, err)
	}
	// Opening, listing and reading create nothing; the first Put creates
	// the directory.
	if l, err := s.List(ctx(t), ""); err != nil || len(l) != 0 {
		t.Fatalf("List of a missing directory: %v, %v", l, err)
	}
	if _, err := s.Get(ctx(t), "x.dump"); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("Get from a missing directory: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the directory was created: %v", err)
	}
	if _, err := s.Put(ctx(t), "x.dump", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("Put did not create the directory: %v", err)
	}
}

func TestParseChecksum(t *testing.T) {
	sum := strings.Repeat("0f", 32)
	for in, ok := range map[string]bool{
		sum + "  x.zip\n": true, strings.ToUpper(sum) + "\n": true, sum: true,
		"": false, "nope": false, sum[:62] + "  x\n": false, strings.Repeat("zz", 32) + "\n": false,
	} {
		got, err := objectstore.ParseChecksum([]byte(in))
		if ok != (err == nil) || (ok && got != sum) {
			t.Errorf("ParseChecksum(%q) = %q, %v", in, got, err)
		}
	}
	if objectstore.ChecksumLine(sum, "a/b/c.zip") != sum+"  c.zip\n" {
		t.Error("ChecksumLine")
	}
}

// An S3 server that goes away in the middle of a PutWriter: the error says
// what failed (the upload of the key, to that store), not only that the
// writer's writes stopped, and no object is left at the key.
func TestPutWriterServerGoneMidUploadSaysWhy(t *testing.T) {
	srv := s3harness.Start(t)
	cfg := srv.Config("")
	cfg.PartSize = 5 << 20
	s, err := objectstore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	chunk := randomBytes(t, 1<<20)
	_, err = objectstore.PutWriter(ctx(t), s, "cut/backup.zip", func(w io.Writer) error {
		for i := range 64 {
			if i == 12 { // two parts sent or under way
				if err := srv.Close(); err != nil {
					return err
				}
			}
			if _, err := w.Write(chunk); err != nil {
				return fmt.Errorf("chunk %d: %w", i, err)
			}
		}
		return nil
	})
	if err == nil {
		t.Fatal("PutWriter succeeded with the server gone")
	}
	if msg := err.Error(); !strings.Contains(msg, "uploading cut/backup.zip") || !strings.Contains(msg, srv.Endpoint) ||
		strings.Contains(msg, "upload stopped") || strings.Contains(msg, srv.SecretKey) {
		t.Fatalf("error %q: want the failed upload of cut/backup.zip to %s named, without the secret", msg, srv.Endpoint)
	}
}
