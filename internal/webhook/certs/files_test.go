package certs

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
)

func servingFiles(data map[string][]byte) map[string][]byte {
	return map[string][]byte{TLSCertKey: data[TLSCertKey], TLSKeyKey: data[TLSKeyKey]}
}

func TestWriteFiles(t *testing.T) {
	g := NewWithT(t)
	o := testOptions(t)
	dir := t.TempDir()
	// A plain file from an earlier layout is replaced by the symlink.
	g.Expect(os.WriteFile(filepath.Join(dir, TLSCertKey), []byte("old"), 0o600)).To(Succeed())

	first := servingFiles(fresh(t, t0, o))
	wrote, err := writeFiles(dir, first)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(wrote).To(BeTrue())
	for name, want := range first {
		got, err := os.ReadFile(filepath.Join(dir, name))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(Equal(want))
		link, err := os.Readlink(filepath.Join(dir, name))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(link).To(Equal(filepath.Join(dataLink, name)))
		info, err := os.Stat(filepath.Join(dir, name))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))
	}

	wrote, err = writeFiles(dir, first)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(wrote).To(BeFalse(), "current files are not rewritten")

	second := servingFiles(fresh(t, t0, o))
	wrote, err = writeFiles(dir, second)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(wrote).To(BeTrue())
	got, err := os.ReadFile(filepath.Join(dir, TLSKeyKey))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(second[TLSKeyKey]))

	entries, err := os.ReadDir(dir)
	g.Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	g.Expect(names).To(HaveLen(4), "tls.crt, tls.key, ..data and one generation: %v", names)
}

// TestCertWatcherReloadsAtOnce checks the point of the symlink swap:
// controller-runtime's certwatcher sees the new pair through inotify, well
// before its 10 s poll.
func TestCertWatcherReloadsAtOnce(t *testing.T) {
	g := NewWithT(t)
	o := testOptions(t)
	dir := t.TempDir()
	first := servingFiles(fresh(t, t0, o))
	_, err := writeFiles(dir, first)
	g.Expect(err).NotTo(HaveOccurred())

	w, err := certwatcher.New(filepath.Join(dir, TLSCertKey), filepath.Join(dir, TLSKeyKey))
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = w.Start(ctx) }()
	time.Sleep(200 * time.Millisecond) // the watches are added asynchronously

	for range 3 {
		next := servingFiles(fresh(t, t0, o))
		_, err = writeFiles(dir, next)
		g.Expect(err).NotTo(HaveOccurred())
		g.Eventually(func() bool {
			c, _ := w.GetCertificate(nil)
			return c != nil && bytes.Equal(derOf(next[TLSCertKey]), c.Certificate[0])
		}).WithTimeout(3 * time.Second).WithPolling(20 * time.Millisecond).Should(BeTrue())
	}
}

func derOf(certPEM []byte) []byte {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil
	}
	return block.Bytes
}
