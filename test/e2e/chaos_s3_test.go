//go:build e2e

package e2e

// The S3 server stopped in the middle of a backup's upload and of a
// restore's download (issue 17, docs/reliability.md). Under a minute, so
// it runs with the e2e suite in CI as well as in `make chaos`. The S3 server is a
// real versitygw; the data Jobs reach it through a small TCP relay on a
// tenant-reachable port (the sandbox's egress policy lets tenant URLs reach
// 127.0.0.1:31000-31999 only), which counts the bytes each way so that the
// server is stopped while a transfer is under way, not before or after it.

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/testutil/s3harness"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// faultyS3 is a versitygw behind a relay that can be stopped and started.
type faultyS3 struct {
	t                      *testing.T
	bin, dir               string
	backend, front         string // host:port of versitygw, of the relay
	access, secret, bucket string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	ln      net.Listener
	conns   map[net.Conn]bool
	up      atomic.Int64 // bytes client → server since the last reset
	down    atomic.Int64 // bytes server → client since the last reset
	stopped bool
}

func startFaultyS3(t *testing.T) *faultyS3 {
	t.Helper()
	bin, err := s3harness.Binary()
	if err != nil {
		t.Fatal(err)
	}
	internal := framework.InternalListener(t)
	backend := internal.Addr().String()
	_ = internal.Close()
	s := &faultyS3{t: t, bin: bin, dir: t.TempDir(), backend: backend, conns: map[net.Conn]bool{},
		access: "chaos" + strings.ToLower(rand.Text()[:8]), secret: rand.Text(), bucket: "chaos-backups"}
	s.ln = framework.TenantListener(t)
	s.front = s.ln.Addr().String()
	s.startServer()
	go s.serve(s.ln)
	t.Cleanup(func() { s.stop() })
	c := s.client()
	framework.Eventually(t, 30*time.Second, "bucket created", func() error {
		return c.MakeBucket(context.Background(), s.bucket, minio.MakeBucketOptions{Region: s3harness.Region})
	})
	return s
}

func (s *faultyS3) startServer() {
	s.t.Helper()
	cmd := exec.Command(s.bin, "--port", s.backend, "--region", s3harness.Region, "--quiet", "posix", s.dir)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + s.dir, "ROOT_ACCESS_KEY=" + s.access, "ROOT_SECRET_KEY=" + s.secret}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting versitygw: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	framework.Eventually(s.t, 30*time.Second, "versitygw listening", func() error {
		c, err := net.DialTimeout("tcp", s.backend, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// serve relays each connection to versitygw, counting the bytes.
func (s *faultyS3) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", s.backend)
		if err != nil {
			_ = c.Close()
			continue
		}
		s.mu.Lock()
		s.conns[c], s.conns[b] = true, true
		s.mu.Unlock()
		relay := func(dst, src net.Conn, n *atomic.Int64) {
			buf := make([]byte, 64<<10)
			for {
				k, err := src.Read(buf)
				if k > 0 {
					n.Add(int64(k))
					if _, werr := dst.Write(buf[:k]); werr != nil {
						err = werr
					}
				}
				if err != nil {
					_ = dst.Close()
					_ = src.Close()
					return
				}
			}
		}
		go relay(b, c, &s.up)
		go relay(c, b, &s.down)
	}
}

// stop kills versitygw (SIGKILL: the server is gone, mid-request), stops
// accepting and cuts every open connection.
func (s *faultyS3) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	_ = s.ln.Close()
	for c := range s.conns {
		_ = c.Close()
	}
	s.conns = map[net.Conn]bool{}
	if s.cmd != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
		s.cmd = nil
	}
}

// start brings versitygw and the relay back on the same ports.
func (s *faultyS3) start() {
	s.t.Helper()
	s.startServer()
	var ln net.Listener
	framework.Eventually(s.t, 30*time.Second, "relay listening on "+s.front, func() error {
		var err error
		ln, err = net.Listen("tcp", s.front)
		return err
	})
	s.mu.Lock()
	s.ln, s.stopped = ln, false
	s.mu.Unlock()
	go s.serve(ln)
}

func (s *faultyS3) resetCounts() { s.up.Store(0); s.down.Store(0) }

func (s *faultyS3) client() *minio.Client {
	s.t.Helper()
	c, err := minio.New(s.front, &minio.Options{Creds: credentials.NewStaticV4(s.access, s.secret, ""), Region: s3harness.Region})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// objects lists every object of the bucket, and the keys of the
// unfinished multipart uploads.
func (s *faultyS3) objects() (objects map[string]int64, unfinished []string) {
	s.t.Helper()
	c := s.client()
	ctx := context.Background()
	objects = map[string]int64{}
	for o := range c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			s.t.Fatalf("listing the bucket: %v", o.Err)
		}
		objects[o.Key] = o.Size
	}
	for u := range c.ListIncompleteUploads(ctx, s.bucket, "", true) {
		if u.Err != nil {
			s.t.Fatalf("listing the unfinished uploads: %v", u.Err)
		}
		unfinished = append(unfinished, u.Key)
	}
	return objects, unfinished
}

// s3Fields is the S3 location of key, for a backup's destination or a
// restore's source.
func (s *faultyS3) s3Fields(key string) string {
	return fmt.Sprintf(`{bucket: %s, objectKey: %q, endpoint: %q, insecure: true, s3CredentialsSecretRef: {name: chaos-s3}}`, s.bucket, key, s.front)
}

// stopWhen stops the server as soon as moved() passes threshold bytes
// (polled every 5 ms), and returns when it stopped.
func (s *faultyS3) stopWhen(t *testing.T, what string, moved func() int64, threshold int64, ended func() bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(wait)
	for moved() < threshold {
		if ended() {
			t.Fatalf("%s ended before %d bytes moved (%d): the payload is too small to stop the server mid-way", what, threshold, moved())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d bytes moved after %v, want %d", what, moved(), wait, threshold)
		}
		time.Sleep(5 * time.Millisecond)
	}
	at := moved()
	s.stop()
	t.Logf("chaos: S3 stopped during the %s, after %d MiB went through", what, at>>20)
	return time.Now()
}

// TestChaosS3StoppedMidTransfer: an instance with a 256 MiB filestore
// (random bytes: the zip cannot shrink it) is backed up to S3 and the S3
// server is stopped (SIGKILL, connections cut) once 16 MiB of the upload
// went through. The backup fails with a message, no object or checksum is
// left at its key, the instance's status.lastBackup is not set, and once
// the server is back a new backup completes. Then a restore from S3 of that
// backup has the server stopped once 16 MiB were downloaded: it fails, the
// live database is untouched and still the instance's, the lock is
// released; once the server is back a new restore completes. One Job per
// backup and restore.
func TestChaosS3StoppedMidTransfer(t *testing.T) {
	ns := framework.Namespace(t, fmt.Sprintf("chaos-s3-%d", time.Now().UnixMilli()%1_000_000))
	c := framework.NewClients(t)
	s3 := startFaultyS3(t)
	framework.Apply(t, ns, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: chaos-s3
stringData: {accessKey: %q, secretKey: %q}
---
%s`, s3.access, s3.secret, instanceManifest("shop")))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=3m")
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	framework.ModuleFixture(t, db)
	framework.SandboxSQL(t, db, neutralizedFixture)
	framework.GiveTablesToOwner(t, db)
	filestore := filepath.Join(claimDir(t, ns, "shop-filestore-pvc"), "filestore", db)
	for i := range 4 {
		randomFile(t, filepath.Join(filestore, fmt.Sprintf("%02x", i), fmt.Sprintf("chaos%d", i)), 64<<20)
	}
	backedUp := checksums(t, db)
	jobs := recordJobs(t, c, ns, "shop")

	backup := func(name string) {
		framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooBackupJob
metadata:
  name: %s
spec:
  odooInstanceRef: {name: shop}
  format: zip
  destination: %s
`, name, s3.s3Fields("chaos/"+name+".zip")))
	}
	backupEnded := func(name string) func() bool {
		return func() bool {
			p := jsonpath(t, ns, backupRef+name, "{.status.phase}")
			return p == string(odoov1alpha2.JobCompleted) || p == string(odoov1alpha2.JobFailed)
		}
	}

	var key string
	t.Run("upload", func(t *testing.T) {
		s3.resetCounts()
		backup("mid-upload")
		stoppedAt := s3.stopWhen(t, "backup's upload", s3.up.Load, 16<<20, backupEnded("mid-upload"))
		framework.Eventually(t, 2*wait, "the backup ended while S3 is down", func() error {
			if !backupEnded("mid-upload")() {
				return fmt.Errorf("phase %q", jsonpath(t, ns, backupRef+"mid-upload", "{.status.phase}"))
			}
			return nil
		})
		st := strings.SplitN(jsonpath(t, ns, backupRef+"mid-upload", "{.status.phase}|{.status.sha256}|{.status.message}"), "|", 3)
		t.Logf("chaos: the backup ended %s %v after S3 stopped: %s", st[0], time.Since(stoppedAt).Round(100*time.Millisecond), st[2])
		if st[0] != string(odoov1alpha2.JobFailed) || st[1] != "" || !strings.Contains(st[2], "uploading") || !strings.Contains(st[2], s3.front) {
			t.Errorf("backup cut mid-upload: phase %q sha256 %q message %q, want Failed, no checksum, and a message naming the upload to %s",
				st[0], st[1], st[2], s3.front)
		}
		if strings.Contains(st[2], s3.secret) {
			t.Error("the failed backup's message carries the S3 secret key")
		}
		s3.start()
		back := time.Now()
		objects, unfinished := s3.objects()
		t.Logf("chaos: after the cut upload the bucket holds %v; unfinished multipart uploads (invisible to List and Get): %v", objects, unfinished)
		for k := range objects {
			if strings.Contains(k, "mid-upload") {
				t.Errorf("the cut backup left object %s in the bucket", k)
			}
		}
		if got := jsonpath(t, ns, "odoo/shop", "{.status.lastBackup}"); got != "" {
			t.Errorf("status.lastBackup = %s after a failed backup", got)
		}
		jobs.expectOneNewJob(t, resources.JobKindBackup, nil, "mid-upload-backup")

		before := jobs.jobs(t, resources.JobKindBackup)
		backup("after-upload")
		framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", backupRef+"after-upload", "--timeout=4m")
		t.Logf("chaos: a new backup Completed %v after S3 was back", time.Since(back).Round(100*time.Millisecond))
		jobs.expectOneNewJob(t, resources.JobKindBackup, before, "after-upload-backup")
		key = jsonpath(t, ns, backupRef+"after-upload", "{.status.objectKey}")
		objects, _ = s3.objects()
		if objects[key] < 256<<20 {
			t.Errorf("the completed backup's object %s is %d bytes, want the 256 MiB filestore and more", key, objects[key])
		}
		if _, ok := objects[key+".sha256"]; !ok {
			t.Errorf("the completed backup has no checksum object %s.sha256; bucket: %v", key, objects)
		}
		if got := jsonpath(t, ns, "odoo/shop", "{.status.lastBackup}"); got == "" {
			t.Error("status.lastBackup is empty after the completed backup")
		}

		// The cut upload's parts take space on the server although no
		// object lists them: pruning the failed backup removes them, and
		// leaves the completed one alone.
		framework.Kubectl(t, "annotate", "-n", ns, backupRef+"mid-upload", odoov1alpha2.AnnotationPrune+"=after-outage")
		framework.Eventually(t, wait, "the failed backup pruned", func() error {
			if out, err := framework.KubectlE("get", "-n", ns, backupRef+"mid-upload", "--ignore-not-found", "-o", "name"); err != nil || out != "" {
				return fmt.Errorf("still there: %q (%w)", out, err)
			}
			return nil
		})
		jobs.expectOneNewJob(t, resources.JobKindPrune, nil, "mid-upload-prune")
		after, unfinished := s3.objects()
		if len(unfinished) > 0 {
			t.Errorf("unfinished uploads after the prune: %v", unfinished)
		}
		if !maps.Equal(after, objects) {
			t.Errorf("the prune of the failed backup changed the bucket:\n got %v\nwant %v", after, objects)
		}
	})
	if key == "" {
		t.FailNow()
	}

	t.Run("download", func(t *testing.T) {
		framework.SandboxSQL(t, db, `CREATE TABLE live_rows (id serial PRIMARY KEY, note text); INSERT INTO live_rows (note) VALUES ('live')`)
		framework.GiveTablesToOwner(t, db)
		live := checksums(t, db)
		restore := func(name string) {
			framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: %s
spec:
  odooInstanceRef: {name: shop}
  format: zip
  neutralize: false
  keepPreviousDatabase: true
  source:
    type: s3
    s3: %s
`, name, s3.s3Fields(key)))
		}
		ended := func(name string) func() bool {
			return func() bool {
				rj, err := getRestore(context.Background(), c, ns, name)
				return err == nil && (rj.Status.Phase == odoov1alpha2.JobCompleted || rj.Status.Phase == odoov1alpha2.JobFailed)
			}
		}
		s3.resetCounts()
		restore("mid-download")
		stoppedAt := s3.stopWhen(t, "restore's download", s3.down.Load, 16<<20, ended("mid-download"))
		framework.Eventually(t, 2*wait, "the restore ended while S3 is down", func() error {
			if !ended("mid-download")() {
				return fmt.Errorf("not ended")
			}
			return nil
		})
		rj, err := getRestore(context.Background(), c, ns, "mid-download")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("chaos: the restore ended %s at step %s %v after S3 stopped: %s", rj.Status.Phase, rj.Status.Step,
			time.Since(stoppedAt).Round(100*time.Millisecond), rj.Status.Message)
		if rj.Status.Phase != odoov1alpha2.JobFailed || rj.Status.Message == "" {
			t.Errorf("restore cut mid-download: phase %q message %q, want Failed with a message", rj.Status.Phase, rj.Status.Message)
		}
		if got := jsonpath(t, ns, "odoo/shop", "{.status.database.name}"); got != db {
			t.Errorf("the instance's database is %q after the failed restore, want %s", got, db)
		}
		if got := checksums(t, db); !maps.Equal(got, live) {
			t.Errorf("the live database %s changed by a failed restore:\n got %v\nwant %v", db, got, live)
		}
		jobs.expectOneNewJob(t, resources.JobKindRestoreBackup, nil, "mid-download-restore")
		framework.Eventually(t, wait, "lock released", func() error {
			if op, err := operationOf(context.Background(), c, ns, "shop"); err != nil || op != nil {
				return fmt.Errorf("status.operation %+v (%w)", op, err)
			}
			return nil
		})
		waitTier(t, ns, "shop", fromImage)

		s3.start()
		back := time.Now()
		before := jobs.jobs(t, resources.JobKindRestoreBackup)
		restore("after-download")
		framework.Eventually(t, 2*wait, "the restore after S3 came back ended", func() error {
			if !ended("after-download")() {
				return fmt.Errorf("not ended")
			}
			return nil
		})
		if rj, err = getRestore(context.Background(), c, ns, "after-download"); err != nil || rj.Status.Phase != odoov1alpha2.JobCompleted {
			t.Fatalf("the restore after S3 came back: %+v (%v)", rj.Status, err)
		}
		t.Logf("chaos: a new restore Completed %v after S3 was back", time.Since(back).Round(100*time.Millisecond))
		jobs.expectOneNewJob(t, resources.JobKindRestoreBackup, before, "after-download-restore")
		if got := checksums(t, db); !maps.Equal(got, backedUp) {
			t.Errorf("database %s after the completed restore:\n got %v\nwant %v (the backup's)", db, got, backedUp)
		}
		if got := checksums(t, rj.Status.KeptDatabase); !maps.Equal(got, live) {
			t.Errorf("the kept database %s:\n got %v\nwant %v (the live one before the restore)", rj.Status.KeptDatabase, got, live)
		}
		waitTier(t, ns, "shop", fromImage)
		waitTier(t, ns, "shop-cron", fromImage)
	})
}

// randomFile writes size random bytes to path.
func randomFile(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
