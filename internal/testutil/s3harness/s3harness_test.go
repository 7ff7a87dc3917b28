package s3harness

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

func TestServerStoresObjectsAsFiles(t *testing.T) {
	s := Start(t)
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := []byte("hello from the harness")
	if _, err := c.PutObject(ctx, s.Bucket, "a/b/c.txt", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	// The POSIX backend keeps the object as a plain file.
	got, err := os.ReadFile(filepath.Join(s.Dir, s.Bucket, "a", "b", "c.txt"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file behind the object: %q, %v", got, err)
	}
	obj, err := c.GetObject(ctx, s.Bucket, "a/b/c.txt", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("GetObject: %q, %v", back, err)
	}

	// Wrong credentials are refused: the server checks signatures.
	bad := &Server{Endpoint: s.Endpoint, AccessKey: s.AccessKey, SecretKey: "not-the-secret"}
	bc, _ := bad.Client()
	if _, err := bc.StatObject(ctx, s.Bucket, "a/b/c.txt", minio.StatObjectOptions{}); err == nil {
		t.Fatal("a request signed with a wrong secret was accepted")
	}

	// Close stops the server and removes its files.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("data dir left after Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", s.Endpoint, time.Second); err == nil {
		_ = conn.Close()
		t.Fatal("server still listening after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestServersAreIndependent(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Endpoint == b.Endpoint || a.Bucket == b.Bucket || a.AccessKey == b.AccessKey || a.Dir == b.Dir {
		t.Fatalf("two servers share settings: %+v %+v", a, b)
	}
	env := a.Env()
	if env["S3_ENDPOINT"] != a.Endpoint || env["S3_BUCKET"] != a.Bucket || env["AWS_SECRET_ACCESS_KEY"] != a.SecretKey || env["S3_INSECURE"] != "true" {
		t.Fatalf("Env: %v", env)
	}
}
