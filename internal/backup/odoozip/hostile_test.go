package odoozip_test

import (
	"archive/zip"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/backup/odoozip"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
)

// A dump.sql carrying psql meta-commands is refused: the shell command
// never runs, and what the dump created before it is rolled back.
func TestRestoreNeverRunsMetaCommands(t *testing.T) {
	s := dbtoolstest.Server(t)
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, "postgres")
	dir := t.TempDir()
	for _, tc := range []struct{ name, line string }{
		{"shell", `\! touch PWNED`},
		{"copy to program", `\copy (SELECT 1) TO PROGRAM 'touch PWNED'`},
		{"output pipe", `\o |touch PWNED`},
		{"after a statement", `SELECT 1; \! touch PWNED`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pwned := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			dump := "SET standard_conforming_strings = on;\nCREATE TABLE public.before_the_attack (a int);\n" +
				strings.ReplaceAll(tc.line, "PWNED", pwned) + "\nSELECT 1;\n\\o\n"
			p := filepath.Join(t.TempDir(), "b.zip")
			data := zipWith(t, [][2]string{{"dump.sql", dump}, {"manifest.json", goodManifest}}, nil)
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			target := dbtoolstest.Name(t, "target")
			dbtoolstest.CreateEmpty(t, s, target)
			_, err := odoozip.Restore(dbtoolstest.Ctx(t), odoozip.RestoreOptions{File: p, SHA256: sha256Bytes(data), Database: target, SkipFilestore: true})
			if !errors.Is(err, dbtools.ErrMetaCommand) || !strings.Contains(err.Error(), "dump.sql line 3") {
				t.Fatalf("Restore: %v; want ErrMetaCommand naming dump.sql line 3", err)
			}
			if _, err := os.Stat(pwned); !os.IsNotExist(err) {
				t.Fatalf("the meta-command ran: %s exists (%v)", pwned, err)
			}
			if n := dbtoolstest.RelationCount(t, s, target); n != 0 {
				t.Fatalf("the refused load left %d relations", n)
			}
		})
	}
}

// A zip whose filestore declares more than the volume holds is refused
// before anything is inflated or written.
func TestRestoreRefusesAZipBomb(t *testing.T) {
	s := dbtoolstest.Server(t)
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, "postgres")
	data := zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}, {"manifest.json", goodManifest}}, func(zw *zip.Writer) {
		// 1 PiB declared, a few bytes stored: the size a bomb declares.
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "filestore/ab/bomb", Method: zip.Store,
			UncompressedSize64: 1 << 50, CompressedSize64: 4, CRC32: crc32.ChecksumIEEE([]byte("boom"))})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("boom"))
	})
	p := filepath.Join(t.TempDir(), "bomb.zip")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	target := dbtoolstest.Name(t, "target")
	dbtoolstest.CreateEmpty(t, s, target)
	fsDir := filepath.Join(t.TempDir(), "filestore", target)
	_, err := odoozip.Restore(dbtoolstest.Ctx(t), odoozip.RestoreOptions{File: p, SHA256: sha256Bytes(data), Database: target, FilestoreDir: fsDir})
	if !errors.Is(err, odoozip.ErrNoSpace) || !strings.Contains(err.Error(), "1.0 PiB") || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("Restore: %v; want ErrNoSpace naming the declared 1.0 PiB", err)
	}
	dbtoolstest.AssertUntouched(t, s, target)
	if entries, _ := os.ReadDir(filepath.Dir(fsDir)); len(entries) != 0 {
		t.Fatalf("files written beside the filestore: %v", entries)
	}
}

func TestCheckFits(t *testing.T) {
	for _, tc := range []struct {
		need, free uint64
		ok         bool
	}{
		{0, odoozip.SpaceReserve, true},
		{1, odoozip.SpaceReserve, false},
		{1 << 30, 1<<30 + odoozip.SpaceReserve, true},
		{1 << 30, 1<<30 + odoozip.SpaceReserve - 1, false},
		{1 << 50, 1 << 40, false},
		{^uint64(0), 1 << 40, false},
	} {
		err := odoozip.CheckFits(tc.need, tc.free)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, odoozip.ErrNoSpace) {
			t.Errorf("CheckFits(%d, %d) = %v, want ok=%v", tc.need, tc.free, err, tc.ok)
		}
	}
}
