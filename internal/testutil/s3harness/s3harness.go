// Package s3harness runs a real S3-compatible server for tests: versitygw
// (github.com/versity/versitygw) with its POSIX backend, on a random free
// port of 127.0.0.1, storing objects as files in a temporary directory.
//
// The versitygw binary is built from the Go module proxy on first use
// (`go install github.com/versity/versitygw/cmd/versitygw@Version`) into
// $ODOO_OPERATOR_CACHE/tools/bin (default ~/.cache/odoo-operator/tools/bin),
// beside the Makefile's tools, and reused afterwards; $VERSITYGW_BIN names
// another binary. The first build takes about a minute.
package s3harness

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/internal/testutil/proc"
)

// Version is the versitygw release built and run.
const Version = "v1.8.0"

// Region is the region the server answers for.
const Region = "us-east-1"

// StartTimeout bounds how long Start waits for the server to answer.
var StartTimeout = 30 * time.Second

// Server is a running versitygw.
type Server struct {
	// Endpoint is host:port (plain HTTP).
	Endpoint  string
	AccessKey string
	SecretKey string
	// Bucket was created at start.
	Bucket string
	// Dir holds the buckets: object k of bucket b is the file Dir/b/k.
	Dir string

	dir    string
	cmd    *exec.Cmd
	exited <-chan struct{}
	log    *bytes.Buffer
	mu     sync.Mutex
	closed bool
}

// Start starts a server with one bucket for the test and stops it, removing
// its files, when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartMain()
	if err != nil {
		t.Fatalf("s3harness: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("s3harness: versitygw log:\n%s", s.Log())
		}
		_ = s.Close()
	})
	return s
}

// StartMain starts a server without a testing.TB, for TestMain; the caller
// calls Close.
func StartMain() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "s3harness-")
	if err != nil {
		return nil, err
	}
	s := &Server{
		AccessKey: "harness" + proc.RandomHex(6),
		SecretKey: proc.RandomHex(20),
		Bucket:    "backups-" + proc.RandomHex(4),
		Dir:       filepath.Join(dir, "root"),
		dir:       dir,
	}
	if err := os.Mkdir(s.Dir, 0o700); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// A free port can be taken between probing and binding: retry.
	for attempt := 0; ; attempt++ {
		err = s.start(bin)
		if err == nil {
			break
		}
		if attempt >= 2 {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := s.createBucket(s.Bucket); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(bin string) error {
	port, err := proc.FreePort()
	if err != nil {
		return err
	}
	s.Endpoint = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.log = &bytes.Buffer{}
	cmd := exec.Command(bin, "--port", s.Endpoint, "--region", Region, "--quiet", "posix", s.Dir) //nolint:gosec // the harness's own binary
	cmd.Dir = s.dir
	// The keys go by environment, not on the command line.
	cmd.Env = []string{
		"PATH=/usr/bin:/bin", "HOME=" + s.dir,
		"ROOT_ACCESS_KEY=" + s.AccessKey, "ROOT_SECRET_KEY=" + s.SecretKey,
	}
	cmd.Stdout, cmd.Stderr = lockedWriter{&s.mu, s.log}, lockedWriter{&s.mu, s.log}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	exited, err := proc.Start(cmd)
	if err != nil {
		return fmt.Errorf("starting versitygw: %w", err)
	}
	s.cmd, s.exited = cmd, exited

	deadline := time.Now().Add(StartTimeout)
	for {
		c, err := net.DialTimeout("tcp", s.Endpoint, time.Second)
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("versitygw exited at start: %s", s.Log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("versitygw not listening on %s after %v: %s", s.Endpoint, StartTimeout, s.Log())
		}
	}
}

// createBucket creates a bucket, retrying while the server warms up.
func (s *Server) createBucket(name string) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	for {
		err := c.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: Region})
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("creating bucket %s: %w; log: %s", name, err, s.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// CreateBucket creates another bucket.
func (s *Server) CreateBucket(name string) error { return s.createBucket(name) }

// Client is a minio client of the server, for tests that look behind the
// store.
func (s *Server) Client() (*minio.Client, error) {
	return minio.New(s.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region: Region,
	})
}

// Config is the objectstore configuration of the bucket with prefix.
func (s *Server) Config(prefix string) objectstore.S3Config {
	return objectstore.S3Config{
		Endpoint:        s.Endpoint,
		Bucket:          s.Bucket,
		Prefix:          prefix,
		Region:          Region,
		AccessKeyID:     s.AccessKey,
		SecretAccessKey: s.SecretKey,
		Insecure:        true,
	}
}

// Env is the environment that objectstore.S3ConfigFromEnv (and so the
// `data` commands) reads to reach the server.
func (s *Server) Env() map[string]string {
	return map[string]string{
		objectstore.EnvEndpoint:  s.Endpoint,
		objectstore.EnvBucket:    s.Bucket,
		objectstore.EnvRegion:    Region,
		objectstore.EnvAccessKey: s.AccessKey,
		objectstore.EnvSecretKey: s.SecretKey,
		objectstore.EnvInsecure:  "true",
	}
}

// SetEnv sets Env in the test's process environment (t.Setenv).
func (s *Server) SetEnv(t testing.TB) {
	t.Helper()
	for k, v := range s.Env() {
		t.Setenv(k, v)
	}
}

// Log is what the server wrote so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return ""
	}
	return strings.TrimSpace(s.log.String())
}

// Close stops the server and removes its files. It is idempotent.
func (s *Server) Close() error {
	s.stop()
	s.mu.Lock()
	closed := s.closed
	s.closed = true
	s.mu.Unlock()
	if closed {
		return nil
	}
	return os.RemoveAll(s.dir)
}

func (s *Server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	proc.WaitOrKill(s.cmd, s.exited, 10*time.Second)
	s.cmd = nil
}

// Binary returns the versitygw binary: $VERSITYGW_BIN, or the one built
// into the tools directory, building it first when missing. Concurrent
// callers (test binaries of several packages) build it once: a lock file
// serialises them.
func Binary() (string, error) {
	if p := os.Getenv("VERSITYGW_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil { //nolint:gosec // the developer's own setting
			return "", fmt.Errorf("VERSITYGW_BIN: %w", err)
		}
		return p, nil
	}
	dir, err := ToolsDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "versitygw-"+Version)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".versitygw.lock"), os.O_CREATE|os.O_RDWR, 0o600) //nolint:gosec // the tools directory
	if err != nil {
		return "", err
	}
	defer func() { _ = lock.Close() }()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking the tools directory: %w", err)
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // built by another process meanwhile
	}
	if err := build(dir, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// ToolsDir is where the Makefile keeps its tools.
func ToolsDir() (string, error) {
	base := os.Getenv("ODOO_OPERATOR_CACHE")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no tools directory: %w", err)
		}
		base = filepath.Join(home, ".cache", "odoo-operator")
	}
	return filepath.Join(base, "tools", "bin"), nil
}

// build runs go install into a temporary directory and moves the binary
// into place, so that a failed build leaves nothing half-written.
func build(dir, bin string) error {
	gobin, err := os.MkdirTemp(dir, ".versitygw-build-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(gobin) }()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = "/usr/local/go/bin/go"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "install", "-trimpath", "github.com/versity/versitygw/cmd/versitygw@"+Version) //nolint:gosec // a fixed module path and version
	cmd.Dir = gobin                                                                                                        // outside any module: go install pkg@version uses the tool's own go.mod
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("building versitygw %s from the Go module proxy: %w\n%s", Version, err, out)
	}
	if err := os.Rename(filepath.Join(gobin, "versitygw"), bin); err != nil {
		return err
	}
	return nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
