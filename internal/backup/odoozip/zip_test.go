package odoozip_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/backup/odoozip"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

// backupFixture creates the fixture database and a filestore, and writes
// a zip of both to a file.
func backupFixture(t *testing.T, version string) (s *pgharness.Server, src, filestore, file string, res odoozip.Result) {
	t.Helper()
	s = dbtoolstest.Server(t)
	src = dbtoolstest.Name(t, "src")
	dbtoolstest.CreateFixture(t, s, src, "")
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
	filestore = filepath.Join(t.TempDir(), "filestore", src)
	makeFilestore(t, filestore, 3<<20)
	file = filepath.Join(t.TempDir(), "backup.zip")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	res, err = odoozip.Write(dbtoolstest.Ctx(t), f, odoozip.WriteOptions{FilestoreDir: filestore, OdooVersion: version, PGBinDir: s.BinDir, Stderr: &stderr})
	if err != nil {
		t.Fatalf("Write: %v (%s)", err, stderr.String())
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return s, src, filestore, file, res
}

var fixtureInstalled = map[string]string{
	"account": "18.0.1.2", "base": "18.0.1.3", "sale": "18.0.1.0", "sale_stock": "18.0.1.0", "stock": "18.0.1.1", "web": "18.0.1.0",
}

// The zip is Odoo's: read back with archive/zip, its members, their order
// and the manifest's keys and JSON types are those of Odoo's dump_db.
func TestZipLayoutAndManifestAreOdoos(t *testing.T) {
	s, src, _, file, res := backupFixture(t, "")
	fi, _ := os.Stat(file)
	if res.Size != fi.Size() || res.SHA256 != sha256File(t, file) {
		t.Fatalf("result %d bytes %s; file %d bytes %s", res.Size, res.SHA256, fi.Size(), sha256File(t, file))
	}
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = zr.Close() }()
	var names []string
	members := map[string][]byte{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Method != zip.Deflate {
			t.Errorf("%s is not deflated", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		members[f.Name], err = io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
	}
	// dump.sql first, then manifest.json, then the filestore's regular files
	// (no directory entries, no symbolic link), as Odoo's zip_dir writes them.
	want := []string{"dump.sql", "manifest.json",
		"filestore/3a/3a0000000000000000000000000000000000beef",
		"filestore/3a/3a6b1e0c4d7f0f4a8a39f1c3b6e2d9e1f0a1b2c3",
		"filestore/checklist/ab/abcdef",
		"filestore/ff/ff0123456789abcdef0123456789abcdef012345"}
	if !slices.Equal(names, want) {
		t.Fatalf("members %v\nwant %v", names, want)
	}
	if res.FilestoreFiles != 4 || res.FilestoreBytes != int64(3<<20+len("%PDF-1.4 invoice")) {
		t.Fatalf("filestore counted %d files, %d bytes", res.FilestoreFiles, res.FilestoreBytes)
	}

	dump := string(members["dump.sql"])
	if !strings.HasPrefix(dump, "--\n-- PostgreSQL database dump\n") || !strings.Contains(dump, "CREATE TABLE public.ir_module_module") ||
		!strings.Contains(dump, "COPY public.res_partner ") || strings.Contains(dump, "OWNER TO") || strings.Contains(dump, "GRANT ") {
		t.Fatalf("dump.sql is not a plain dump without owners and privileges:\n%.400s", dump)
	}
	if res.DumpBytes != int64(len(dump)) {
		t.Fatalf("DumpBytes %d, dump.sql %d", res.DumpBytes, len(dump))
	}

	var m map[string]any
	if err := json.Unmarshal(members["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(keys, []string{"db_name", "major_version", "modules", "odoo_dump", "pg_version", "version", "version_info"}) {
		t.Fatalf("manifest keys %v", keys)
	}
	var serverVersion int
	if err := dbtoolstest.Connect(t, s, src).QueryRow(dbtoolstest.Ctx(t), "SELECT current_setting('server_version_num')::int").Scan(&serverVersion); err != nil {
		t.Fatal(err)
	}
	modules := map[string]any{}
	for k, v := range fixtureInstalled {
		modules[k] = v
	}
	wantManifest := map[string]any{
		"odoo_dump":     "1",
		"db_name":       src,
		"version":       "18.0",
		"version_info":  []any{18.0, 0.0, 0.0, "final", 0.0, ""},
		"major_version": "18.0",
		// Odoo: "%d.%d" % divmod(server_version / 100, 100)
		"pg_version": fmt.Sprintf("%d.%d", serverVersion/10000, serverVersion/100%100),
		"modules":    modules,
	}
	if !reflect.DeepEqual(m, wantManifest) {
		t.Fatalf("manifest.json:\n%s\nwant %v", members["manifest.json"], wantManifest)
	}
	if !bytes.HasPrefix(members["manifest.json"], []byte("{\n    \"odoo_dump\": \"1\",\n    \"db_name\": ")) {
		t.Fatalf("manifest.json is not indented by 4 with odoo_dump first:\n%s", members["manifest.json"])
	}
	if res.Manifest.Series() != "18.0" || res.Manifest.DBName != src {
		t.Fatalf("result manifest %+v", res.Manifest)
	}
	if string(members["filestore/3a/3a6b1e0c4d7f0f4a8a39f1c3b6e2d9e1f0a1b2c3"]) != "%PDF-1.4 invoice" {
		t.Fatal("filestore file content")
	}

	// Verify agrees, and reads the same manifest back.
	info, err := odoozip.Verify(dbtoolstest.Ctx(t), file, res.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(info.Manifest, res.Manifest) || info.FilestoreFiles != 4 || info.DumpBytes != res.DumpBytes || len(info.Ignored) != 0 {
		t.Fatalf("Verify: %+v\nwant manifest %+v", info, res.Manifest)
	}
}

func TestManifestVersions(t *testing.T) {
	for v, want := range map[string][]any{
		"18.0":      {18, 0, 0, "final", 0, ""},
		"saas~17.1": {"saas~17", 1, 0, "final", 0, ""},
		"19.0rc1":   {19, 0, 0, "candidate", 1, ""},
		"17.0alpha": {17, 0, 0, "alpha", 0, ""},
		"16.0+e":    {16, 0, 0, "final", 0, "+e"},
	} {
		info, major, err := odoozip.ParseVersion(v)
		if err != nil || !reflect.DeepEqual(info, want) || major != fmt.Sprint(want[0], ".", want[1]) {
			t.Errorf("ParseVersion(%q) = %v %q %v", v, info, major, err)
		}
	}
	for _, v := range []string{"", "18", "v18.0", "eighteen.0"} {
		if _, _, err := odoozip.ParseVersion(v); err == nil {
			t.Errorf("ParseVersion(%q) succeeded", v)
		}
	}
	if odoozip.SeriesOf("saas~17.1.1.0") != "saas~17.1" || odoozip.SeriesOf("18") != "" {
		t.Error("SeriesOf")
	}

	// The version given by the caller wins over base's.
	_, _, _, file, res := backupFixture(t, "saas~18.2")
	if res.Manifest.Version != "saas~18.2" || res.Manifest.MajorVersion != "saas~18.2" ||
		!reflect.DeepEqual(res.Manifest.VersionInfo, []any{"saas~18", 2, 0, "final", 0, ""}) {
		t.Fatalf("manifest %+v", res.Manifest)
	}
	info, err := odoozip.Verify(dbtoolstest.Ctx(t), file, res.SHA256)
	if err != nil || info.Manifest.Series() != "saas~18.2" {
		t.Fatalf("Verify: %+v %v", info.Manifest, err)
	}
}

// Backup, drop the database, restore it under the same name: the tables,
// sequences, modules and filestore are the same.
func TestZipBackupDropRestore(t *testing.T) {
	s, src, filestore, file, res := backupFixture(t, "")
	want := dbtoolstest.Checksums(t, s, src)
	wantFiles := fileSums(t, filestore)
	dropDatabase(t, s, src)
	if err := os.RemoveAll(filestore); err != nil {
		t.Fatal(err)
	}
	dbtoolstest.CreateEmpty(t, s, src)
	info, err := odoozip.Restore(dbtoolstest.Ctx(t), odoozip.RestoreOptions{
		File: file, SHA256: res.SHA256, Database: src, FilestoreDir: filestore, PGBinDir: s.BinDir,
	})
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := dbtoolstest.Checksums(t, s, src); !reflect.DeepEqual(got, want) || len(got) != len(dbtoolstest.FixtureTables) {
		t.Fatalf("restored tables differ:\n got %v\nwant %v", got, want)
	}
	if got := fileSums(t, filestore); !reflect.DeepEqual(got, wantFiles) || len(got) != 4 {
		t.Fatalf("restored filestore %v, want %v", got, wantFiles)
	}
	if info.FilestoreFiles != 4 || info.Manifest.DBName != src {
		t.Fatalf("info %+v", info)
	}
	conn := dbtoolstest.Connect(t, s, src)
	var last int64
	var view bool
	if err := conn.QueryRow(dbtoolstest.Ctx(t), `SELECT (SELECT last_value FROM res_partner_id_seq), to_regclass('res_partner_active') IS NOT NULL`).Scan(&last, &view); err != nil {
		t.Fatal(err)
	}
	mods, err := dbtools.ReadModules(dbtoolstest.Ctx(t), conn)
	if last != 41 || !view || err != nil || !slices.Equal(mods, dbtoolstest.FixtureModules) {
		t.Fatalf("sequence %d, view %v, modules %v %v", last, view, mods, err)
	}
	// The restored files are private to the Odoo user and group.
	fi, err := os.Stat(filepath.Join(filestore, "ff", "ff0123456789abcdef0123456789abcdef012345"))
	if err != nil || fi.Mode().Perm() != odoozip.FilestoreFileMode {
		t.Fatalf("restored file mode %v, %v", fi, err)
	}
	// Nothing is left beside the filestore.
	if entries, _ := os.ReadDir(filepath.Dir(filestore)); len(entries) != 1 {
		t.Fatalf("beside the filestore: %v", entries)
	}
}

// zipWith builds a zip of the given members (name → content), with a
// valid manifest unless one is given.
func zipWith(t *testing.T, members [][2]string, modify func(*zip.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.Create(m[0])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(m[1]))
	}
	if modify != nil {
		modify(zw)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const goodManifest = `{"odoo_dump": "1", "db_name": "x", "version": "18.0", "version_info": [18, 0, 0, "final", 0, ""],
 "major_version": "18.0", "pg_version": "15.0", "modules": {"base": "18.0.1.3", "web": null}}`

// A corrupt, truncated or malformed archive is refused before any database
// or filestore is touched, with an error that says why.
func TestRestoreRefusesBadArchives(t *testing.T) {
	s, _, _, file, res := backupFixture(t, "")
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// A byte flipped inside the compressed dump, with a matching sha256:
	// only the zip's CRC (or the inflater) catches it.
	crcBad := slices.Clone(good)
	crcBad[len("PK..")+200] ^= 0x55
	symlink := zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}, {"manifest.json", goodManifest}}, func(zw *zip.Writer) {
		h := &zip.FileHeader{Name: "filestore/evil"}
		h.SetMode(os.ModeSymlink | 0o777)
		w, _ := zw.CreateHeader(h)
		_, _ = w.Write([]byte("/etc/shadow"))
	})
	cases := []struct {
		name string
		data []byte
		sum  string // empty: the data's own
		want string
	}{
		{"truncated", good[:len(good)/2], res.SHA256, "the backup is truncated or corrupt"},
		{"one flipped byte", flip(good, len(good)/3), res.SHA256, "the backup is truncated or corrupt"},
		{"wrong checksum", good, strings.Repeat("0", 64), "the backup is truncated or corrupt"},
		{"no checksum", good, "-", "no sha256 to check"},
		{"bad CRC with a matching checksum", crcBad, "", "member dump.sql is corrupt"},
		{"truncated with a matching checksum", good[:len(good)-100], "", "not a readable zip archive"},
		{"not a zip", []byte("PGDMP this is no zip"), "", "not a readable zip archive"},
		{"path traversal", zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}, {"manifest.json", goodManifest}, {"filestore/../../etc/cron.d/x", "boom"}}, nil), "", "path traversal"},
		{"absolute name", zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}, {"manifest.json", goodManifest}, {"/etc/x", "boom"}}, nil), "", "absolute"},
		{"backslash", zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}, {"manifest.json", goodManifest}, {`filestore\..\x`, "boom"}}, nil), "", "absolute or Windows path"},
		{"symbolic link", symlink, "", "not a file"},
		{"duplicate member", zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}, {"manifest.json", goodManifest}, {"dump.sql", "DROP TABLE x;"}}, nil), "", "appears twice"},
		{"no manifest", zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}}, nil), "", "manifest.json is missing"},
		{"no dump", zipWith(t, [][2]string{{"manifest.json", goodManifest}}, nil), "", "dump.sql or manifest.json is missing"},
		{"manifest not JSON", zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}, {"manifest.json", "{"}}, nil), "", "manifest.json is not a JSON object"},
		{"manifest without version", zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}, {"manifest.json", strings.Replace(goodManifest, `"version": "18.0",`, "", 1)}}, nil), "", "manifest.json has no version"},
		{"manifest with a number for a string", zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}, {"manifest.json", strings.Replace(goodManifest, `"pg_version": "15.0"`, `"pg_version": 15`, 1)}}, nil), "", "pg_version"},
		{"manifest with modules as a list", zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}, {"manifest.json", strings.Replace(goodManifest, `{"base": "18.0.1.3", "web": null}`, `["base"]`, 1)}}, nil), "", "modules is not an object"},
		{"manifest of another format", zipWith(t, [][2]string{{"dump.sql", "SELECT 1;"}, {"manifest.json", strings.Replace(goodManifest, `"odoo_dump": "1"`, `"odoo_dump": "2"`, 1)}}, nil), "", `odoo_dump is "2"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "b.zip")
			if err := os.WriteFile(p, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			sum := c.sum
			switch sum {
			case "":
				sum = sha256Bytes(c.data)
			case "-":
				sum = ""
			}
			target := dbtoolstest.Name(t, "target")
			dbtoolstest.CreateEmpty(t, s, target)
			fsDir := filepath.Join(t.TempDir(), "filestore", target)
			_, err := odoozip.Restore(dbtoolstest.Ctx(t), odoozip.RestoreOptions{File: p, SHA256: sum, Database: target, FilestoreDir: fsDir, PGBinDir: s.BinDir})
			if !errors.Is(err, odoozip.ErrInvalid) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Restore: want a one-line ErrInvalid saying %q, got %v", c.want, err)
			}
			dbtoolstest.AssertUntouched(t, s, target)
			if entries, _ := os.ReadDir(filepath.Dir(fsDir)); len(entries) != 0 {
				t.Fatalf("files written beside the filestore: %v", entries)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestRestoreRefusesALiveTargetOrFilestore(t *testing.T) {
	s, src, filestore, file, res := backupFixture(t, "")
	before := dbtoolstest.Checksums(t, s, src)
	beforeFiles := fileSums(t, filestore)
	ctx := dbtoolstest.Ctx(t)

	// The live database itself.
	_, err := odoozip.Restore(ctx, odoozip.RestoreOptions{File: file, SHA256: res.SHA256, Database: src, FilestoreDir: filepath.Join(t.TempDir(), "new"), PGBinDir: s.BinDir})
	if !errors.Is(err, odoozip.ErrTargetNotEmpty) || !errors.Is(err, dbtools.ErrTargetNotEmpty) {
		t.Fatalf("Restore into the live database: %v", err)
	}
	// The live filestore.
	target := dbtoolstest.Name(t, "target")
	dbtoolstest.CreateEmpty(t, s, target)
	_, err = odoozip.Restore(ctx, odoozip.RestoreOptions{File: file, SHA256: res.SHA256, Database: target, FilestoreDir: filestore, PGBinDir: s.BinDir})
	if err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Fatalf("Restore into the live filestore: %v", err)
	}
	// No filestore directory for a backup that has one.
	_, err = odoozip.Restore(ctx, odoozip.RestoreOptions{File: file, SHA256: res.SHA256, Database: target, PGBinDir: s.BinDir})
	if err == nil || !strings.Contains(err.Error(), "holds a filestore of 4 files") {
		t.Fatalf("Restore without a filestore directory: %v", err)
	}
	// A missing target, and system databases.
	_, err = odoozip.Restore(ctx, odoozip.RestoreOptions{File: file, SHA256: res.SHA256, Database: dbtoolstest.Name(t, "missing"), SkipFilestore: true, PGBinDir: s.BinDir})
	if err == nil || !strings.Contains(err.Error(), "does not exist: create it empty first") {
		t.Fatalf("Restore into a missing database: %v", err)
	}
	for _, db := range []string{"postgres", "template1", ""} {
		if _, err := odoozip.Restore(ctx, odoozip.RestoreOptions{File: file, SHA256: res.SHA256, Database: db, SkipFilestore: true, PGBinDir: s.BinDir}); err == nil {
			t.Fatalf("Restore into %q succeeded", db)
		}
	}
	dbtoolstest.AssertUntouched(t, s, target)
	if !reflect.DeepEqual(dbtoolstest.Checksums(t, s, src), before) || !reflect.DeepEqual(fileSums(t, filestore), beforeFiles) {
		t.Fatal("a refused restore changed the live database or filestore")
	}

	// SkipFilestore restores the database only.
	if _, err := odoozip.Restore(ctx, odoozip.RestoreOptions{File: file, SHA256: res.SHA256, Database: target, SkipFilestore: true, PGBinDir: s.BinDir}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dbtoolstest.Checksums(t, s, target), before) {
		t.Fatal("restored tables differ")
	}
}

// A load that fails half way is rolled back: the target stays empty, and
// no filestore is left.
func TestRestoreFailureLeavesNothing(t *testing.T) {
	s, _, _, file, res := backupFixture(t, "")
	target := dbtoolstest.Name(t, "target")
	dbtoolstest.CreateEmpty(t, s, target)
	// A type is no relation, so the target counts as empty, but its name
	// clashes with the row type of table res_partner.
	dbtoolstest.Exec(t, dbtoolstest.Connect(t, s, target), "CREATE TYPE public.res_partner AS ENUM ('x')")
	fsDir := filepath.Join(t.TempDir(), "filestore", target)
	var stderr bytes.Buffer
	_, err := odoozip.Restore(dbtoolstest.Ctx(t), odoozip.RestoreOptions{File: file, SHA256: res.SHA256, Database: target, FilestoreDir: fsDir, PGBinDir: s.BinDir, Stderr: &stderr})
	if err == nil || !regexp.MustCompile(`^dump\.sql line [0-9]+: `).MatchString(err.Error()) || !strings.Contains(err.Error(), `type "res_partner" already exists`) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Restore: %v", err)
	}
	if !strings.Contains(stderr.String(), "res_partner") {
		t.Fatalf("the server's messages did not reach Stderr: %q", stderr.String())
	}
	if n := dbtoolstest.RelationCount(t, s, target); n != 0 {
		t.Fatalf("the failed load left %d relations", n)
	}
	if entries, _ := os.ReadDir(filepath.Dir(fsDir)); len(entries) != 0 {
		t.Fatalf("the failed restore left %v beside the filestore", entries)
	}
}

// A restore into an existing, empty filestore directory (a mount point, for
// example) fills it.
func TestRestoreIntoAnEmptyFilestoreDirectory(t *testing.T) {
	s, _, filestore, file, res := backupFixture(t, "")
	target := dbtoolstest.Name(t, "target")
	dbtoolstest.CreateEmpty(t, s, target)
	fsDir := filepath.Join(t.TempDir(), "empty")
	if err := os.Mkdir(fsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := odoozip.Restore(dbtoolstest.Ctx(t), odoozip.RestoreOptions{File: file, SHA256: res.SHA256, Database: target, FilestoreDir: fsDir, PGBinDir: s.BinDir}); err != nil {
		t.Fatal(err)
	}
	assertSameFilestore(t, fsDir, filestore)
}
