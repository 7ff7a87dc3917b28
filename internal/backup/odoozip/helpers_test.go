package odoozip_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dbtoolstest.CloseServer()
	os.Exit(code)
}

// makeFilestore writes an Odoo-like filestore (files named by their sha1
// under two-letter directories), with an empty file, a file of a few MB and
// a symbolic link that a backup leaves out.
func makeFilestore(t testing.TB, dir string, bigBytes int) {
	t.Helper()
	files := map[string][]byte{
		"3a/3a6b1e0c4d7f0f4a8a39f1c3b6e2d9e1f0a1b2c3": []byte("%PDF-1.4 invoice"),
		"3a/3a0000000000000000000000000000000000beef": {},
		"ff/ff0123456789abcdef0123456789abcdef012345": randomBytes(t, bigBytes),
		"checklist/ab/abcdef":                         []byte(""),
	}
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "3a", "link")); err != nil {
		t.Fatal(err)
	}
}

// fileSums maps each regular file under dir to its sha256.
func fileSums(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(b)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertSameFilestore(t testing.TB, got, want string) {
	t.Helper()
	g, w := fileSums(t, got), fileSums(t, want)
	if len(w) == 0 || !reflect.DeepEqual(g, w) {
		t.Fatalf("restored filestore differs:\n got %v\nwant %v", g, w)
	}
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func dropDatabase(t testing.TB, s *pgharness.Server, name string) {
	t.Helper()
	dbtoolstest.Exec(t, dbtoolstest.Connect(t, s, "postgres"), "DROP DATABASE "+quote(name)+" WITH (FORCE)")
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func sha256File(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func sha256Bytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
