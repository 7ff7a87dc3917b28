package odoozip_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/backup/objectstore"
	"github.com/odoo-operator/odoo-operator/internal/backup/odoozip"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
)

// Odoo's "dump" format, with the filestore in a tar beside it: backup, drop,
// restore with dbtools.Restore and StageFilestoreTar.
func TestDumpAndFilestoreTarBackupDropRestore(t *testing.T) {
	s := dbtoolstest.Server(t)
	src := dbtoolstest.Name(t, "src")
	dbtoolstest.CreateFixture(t, s, src, "")
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
	filestore := filepath.Join(t.TempDir(), "filestore", src)
	makeFilestore(t, filestore, 1<<20)
	ctx := dbtoolstest.Ctx(t)
	dir := t.TempDir()

	dumpPath := filepath.Join(dir, "b.dump")
	var buf bytes.Buffer
	res, err := odoozip.WriteDump(ctx, &buf, odoozip.DumpOptions{PGBinDir: s.BinDir})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("PGDMP")) || res.Size != int64(buf.Len()) || res.SHA256 != sha256Bytes(buf.Bytes()) {
		t.Fatalf("dump: %d bytes, result %+v", buf.Len(), res)
	}
	writeFile(t, dumpPath, buf.Bytes())
	writeFile(t, dumpPath+".sha256", []byte(objectstore.ChecksumLine(res.SHA256, "b.dump")))

	tarPath := filepath.Join(dir, "b.dump.filestore.tar")
	buf.Reset()
	tres, err := odoozip.WriteFilestoreTar(ctx, &buf, filestore)
	if err != nil {
		t.Fatal(err)
	}
	if tres.FilestoreFiles != 4 || tres.SHA256 != sha256Bytes(buf.Bytes()) || tres.Size != int64(buf.Len()) {
		t.Fatalf("tar result %+v", tres)
	}
	// The tar holds the regular files under filestore/, without owners.
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Uname != "" || h.Uid != 0 {
			t.Fatalf("owner recorded: %+v", h)
		}
		names = append(names, h.Name)
	}
	if strings.Join(names, " ") != "filestore/3a/3a0000000000000000000000000000000000beef filestore/3a/3a6b1e0c4d7f0f4a8a39f1c3b6e2d9e1f0a1b2c3 filestore/checklist/ab/abcdef filestore/ff/ff0123456789abcdef0123456789abcdef012345" {
		t.Fatalf("tar members %v", names)
	}
	writeFile(t, tarPath, buf.Bytes())

	want, wantFiles := dbtoolstest.Checksums(t, s, src), fileSums(t, filestore)
	dropDatabase(t, s, src)
	if err := os.RemoveAll(filestore); err != nil {
		t.Fatal(err)
	}
	dbtoolstest.CreateEmpty(t, s, src)

	stage, err := odoozip.StageFilestoreTar(ctx, tarPath, tres.SHA256, filestore)
	if err != nil {
		t.Fatal(err)
	}
	if stage.Files != 4 {
		t.Fatalf("staged %d files", stage.Files)
	}
	if _, err := os.Stat(filestore); !os.IsNotExist(err) {
		t.Fatal("the filestore appeared before Commit")
	}
	if err := dbtools.Restore(ctx, dbtools.RestoreOptions{File: dumpPath, Database: src, PGBinDir: s.BinDir}); err != nil {
		t.Fatal(err)
	}
	if err := stage.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := dbtoolstest.Checksums(t, s, src); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored tables differ:\n got %v\nwant %v", got, want)
	}
	if got := fileSums(t, filestore); !reflect.DeepEqual(got, wantFiles) {
		t.Fatalf("restored filestore %v, want %v", got, wantFiles)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func tarOf(t *testing.T, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.Typeflag == tar.TypeReg {
			h.Size = 4
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			_, _ = tw.Write([]byte("data"))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestStageFilestoreTarRefusesBadArchives(t *testing.T) {
	good := tarOf(t, &tar.Header{Name: "filestore/ab/abc", Typeflag: tar.TypeReg, Mode: 0o644})
	cases := map[string]struct {
		data []byte
		sum  string
		want string
	}{
		"truncated":       {good[:700], sha256Bytes(good), "truncated or corrupt"},
		"path traversal":  {tarOf(t, &tar.Header{Name: "filestore/../../x", Typeflag: tar.TypeReg}), "", "path traversal"},
		"absolute":        {tarOf(t, &tar.Header{Name: "/etc/x", Typeflag: tar.TypeReg}), "", "absolute"},
		"outside":         {tarOf(t, &tar.Header{Name: "other/x", Typeflag: tar.TypeReg}), "", "not under filestore/"},
		"symbolic link":   {tarOf(t, &tar.Header{Name: "filestore/l", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}), "", "not a regular file"},
		"hard link":       {tarOf(t, &tar.Header{Name: "filestore/l", Typeflag: tar.TypeLink, Linkname: "/etc/shadow"}), "", "not a regular file"},
		"garbage":         {[]byte(strings.Repeat("x", 1024)), "", "filestore archive"},
		"truncated match": {good[:700], "", "filestore archive"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f.tar")
			writeFile(t, p, c.data)
			sum := c.sum
			if sum == "" {
				sum = sha256Bytes(c.data)
			}
			dest := filepath.Join(t.TempDir(), "fs", "db")
			_, err := odoozip.StageFilestoreTar(dbtoolstest.Ctx(t), p, sum, dest)
			if !errors.Is(err, odoozip.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want ErrInvalid saying %q, got %v", c.want, err)
			}
			if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 0 {
				t.Fatalf("left beside the destination: %v", entries)
			}
		})
	}
	// A destination that is not empty is refused before anything is written.
	p := filepath.Join(t.TempDir(), "f.tar")
	writeFile(t, p, good)
	dest := t.TempDir()
	writeFile(t, filepath.Join(dest, "live"), []byte("x"))
	if _, err := odoozip.StageFilestoreTar(dbtoolstest.Ctx(t), p, sha256Bytes(good), dest); err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Fatalf("staging over a live filestore: %v", err)
	}
}
