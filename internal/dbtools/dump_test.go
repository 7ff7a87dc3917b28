package dbtools_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/backup/odoozip"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

// dumped is a custom-format dump on disk with its sha256sum-style checksum
// file beside it, as `data backup --format dump` stores one on a claim.
type dumped struct {
	File, SHA256 string
}

// dumpFixture creates a fixture database, points the PG* environment at it
// and dumps it, with the backup code, into a new directory.
func dumpFixture(t *testing.T) (s *pgharness.Server, src string, res dumped) {
	t.Helper()
	s = dbtoolstest.Server(t)
	src = dbtoolstest.Name(t, "src")
	dbtoolstest.CreateFixture(t, s, src, "")
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, src)
	res.File = filepath.Join(t.TempDir(), "rp.dump")
	var buf, stderr bytes.Buffer
	out, err := odoozip.WriteDump(dbtoolstest.Ctx(t), &buf, odoozip.DumpOptions{PGBinDir: s.BinDir, Stderr: &stderr})
	if err != nil {
		t.Fatalf("WriteDump: %v (stderr: %s)", err, stderr.String())
	}
	res.SHA256 = out.SHA256
	writeFile(t, res.File, buf.Bytes())
	writeFile(t, dbtools.ChecksumPath(res.File), []byte(res.SHA256+"  rp.dump\n"))
	return s, src, res
}

func TestRestoreGivesIdenticalTables(t *testing.T) {
	s, src, res := dumpFixture(t)
	if got, err := dbtools.VerifyDump(dbtoolstest.Ctx(t), res.File); err != nil || got != res.SHA256 {
		t.Fatalf("VerifyDump: %q, %v", got, err)
	}

	target := dbtoolstest.Name(t, "target")
	dbtoolstest.CreateEmpty(t, s, target)
	if err := dbtools.Restore(dbtoolstest.Ctx(t), dbtools.RestoreOptions{File: res.File, Database: target, PGBinDir: s.BinDir}); err != nil {
		t.Fatalf("Restore: %v", err)
	}

	want := dbtoolstest.Checksums(t, s, src)
	got := dbtoolstest.Checksums(t, s, target)
	var tables []string
	for k := range want {
		tables = append(tables, k)
	}
	slices.Sort(tables)
	if !slices.Equal(tables, dbtoolstest.FixtureTables) {
		t.Fatalf("source tables %v, want %v", tables, dbtoolstest.FixtureTables)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("restored tables differ:\n got %v\nwant %v", got, want)
	}
	// Beyond the tables: sequences, indexes and views came along.
	tc := dbtoolstest.Connect(t, s, target)
	var last int64
	var idx, view bool
	if err := tc.QueryRow(dbtoolstest.Ctx(t), `SELECT (SELECT last_value FROM res_partner_id_seq),
		to_regclass('res_partner_email_idx') IS NOT NULL, to_regclass('res_partner_active') IS NOT NULL`).Scan(&last, &idx, &view); err != nil {
		t.Fatal(err)
	}
	if last != 41 || !idx || !view {
		t.Fatalf("sequence at %d, index %v, view %v", last, idx, view)
	}
	mods, err := dbtools.ReadModules(dbtoolstest.Ctx(t), tc)
	if err != nil || !slices.Equal(mods, dbtoolstest.FixtureModules) {
		t.Fatalf("restored modules %v, %v", mods, err)
	}
}

func TestRestoreRefusesABadDump(t *testing.T) {
	s, _, res := dumpFixture(t)
	good, err := os.ReadFile(res.File)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, 4096)
	_, _ = rand.Read(garbage)

	cases := []struct {
		name    string
		prepare func(dir string) string // returns the dump path
		want    string
	}{{
		name: "truncated",
		prepare: func(dir string) string {
			p := filepath.Join(dir, "rp.dump")
			writeFile(t, p, good[:len(good)/2])
			copyFile(t, dbtools.ChecksumPath(res.File), dbtools.ChecksumPath(p))
			return p
		},
		want: "the dump is truncated or corrupt",
	}, {
		name: "one flipped byte",
		prepare: func(dir string) string {
			p := filepath.Join(dir, "rp.dump")
			bad := slices.Clone(good)
			bad[len(bad)/3] ^= 0x01
			writeFile(t, p, bad)
			copyFile(t, dbtools.ChecksumPath(res.File), dbtools.ChecksumPath(p))
			return p
		},
		want: "the dump is truncated or corrupt",
	}, {
		name: "no checksum file",
		prepare: func(dir string) string {
			p := filepath.Join(dir, "rp.dump")
			writeFile(t, p, good)
			return p
		},
		want: "no checksum file",
	}, {
		name: "checksum file without a checksum",
		prepare: func(dir string) string {
			p := filepath.Join(dir, "rp.dump")
			writeFile(t, p, good)
			writeFile(t, dbtools.ChecksumPath(p), []byte("not a checksum\n"))
			return p
		},
		want: "holds no sha256 checksum",
	}, {
		// Its checksum matches, but it is not an archive: pg_restore --list
		// catches it.
		name: "not an archive",
		prepare: func(dir string) string {
			p := filepath.Join(dir, "rp.dump")
			writeFile(t, p, garbage)
			sum := sha256.Sum256(garbage)
			writeFile(t, dbtools.ChecksumPath(p), []byte(hex.EncodeToString(sum[:])+"  rp.dump\n"))
			return p
		},
		want: "pg_restore --list failed",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			target := dbtoolstest.Name(t, "target")
			dbtoolstest.CreateEmpty(t, s, target)
			file := c.prepare(t.TempDir())
			err := dbtools.Restore(dbtoolstest.Ctx(t), dbtools.RestoreOptions{File: file, Database: target, PGBinDir: s.BinDir})
			if !errors.Is(err, dbtools.ErrDumpInvalid) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Restore: want a one-line ErrDumpInvalid saying %q, got %v", c.want, err)
			}
			dbtoolstest.AssertUntouched(t, s, target)
		})
	}
}

func TestRestoreRefusesANonEmptyTarget(t *testing.T) {
	s, src, res := dumpFixture(t)
	before := dbtoolstest.Checksums(t, s, src)
	err := dbtools.Restore(dbtoolstest.Ctx(t), dbtools.RestoreOptions{File: res.File, Database: src, PGBinDir: s.BinDir})
	if !errors.Is(err, dbtools.ErrTargetNotEmpty) || !strings.Contains(err.Error(), `database "`+src+`" holds 10 relations (public.Weird "Table" Name, public.ir_attachment, public.ir_attachment_id_seq)`) {
		t.Fatalf("Restore into the source: %v", err)
	}
	if after := dbtoolstest.Checksums(t, s, src); !reflect.DeepEqual(after, before) {
		t.Fatal("the refused restore changed the database")
	}

	// A table in another schema makes a database just as non-empty.
	other := dbtoolstest.Name(t, "other")
	dbtoolstest.CreateEmpty(t, s, other)
	dbtoolstest.Exec(t, dbtoolstest.Connect(t, s, other), "CREATE SCHEMA app", "CREATE TABLE app.t (x int)")
	err = dbtools.Restore(dbtoolstest.Ctx(t), dbtools.RestoreOptions{File: res.File, Database: other, PGBinDir: s.BinDir})
	if !errors.Is(err, dbtools.ErrTargetNotEmpty) || !strings.Contains(err.Error(), "app.t") {
		t.Fatalf("Restore into a database with app.t: %v", err)
	}

	missing := dbtoolstest.Name(t, "missing")
	err = dbtools.Restore(dbtoolstest.Ctx(t), dbtools.RestoreOptions{File: res.File, Database: missing, PGBinDir: s.BinDir})
	if err == nil || err.Error() != `target database "`+missing+`" does not exist: create it empty first` {
		t.Fatalf("Restore into a missing database: %v", err)
	}
	exists, err := dbtools.DatabaseExists(dbtoolstest.Ctx(t), dbtoolstest.Connect(t, s, "postgres"), missing)
	if err != nil || exists {
		t.Fatalf("the missing target was created: %v %v", exists, err)
	}
	for _, db := range []string{"postgres", "template1", ""} {
		if err := dbtools.Restore(context.Background(), dbtools.RestoreOptions{File: res.File, Database: db, PGBinDir: s.BinDir}); err == nil {
			t.Fatalf("Restore into %q succeeded", db)
		}
	}
}

// A restore that fails half way stops there, and leaves a target that a
// new restore refuses.
func TestRestoreStopsAtTheFirstError(t *testing.T) {
	s, _, res := dumpFixture(t)
	target := dbtoolstest.Name(t, "target")
	dbtoolstest.CreateEmpty(t, s, target)
	// A type is no relation, so the target counts as empty, but its name
	// clashes with the row type of table res_partner.
	dbtoolstest.Exec(t, dbtoolstest.Connect(t, s, target), "CREATE TYPE public.res_partner AS ENUM ('x')")
	var stderr bytes.Buffer
	err := dbtools.Restore(dbtoolstest.Ctx(t), dbtools.RestoreOptions{File: res.File, Database: target, PGBinDir: s.BinDir, Stderr: &stderr})
	if err == nil || !strings.Contains(err.Error(), "pg_restore failed (exit status 1)") ||
		!strings.Contains(err.Error(), `type "res_partner" already exists`) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Restore: want a one-line pg_restore error, got %v", err)
	}
	if !strings.Contains(stderr.String(), "res_partner") {
		t.Fatalf("pg_restore's messages did not reach Stderr: %q", stderr.String())
	}
	sums := dbtoolstest.Checksums(t, s, target)
	if _, ok := sums["res_partner"]; ok || len(sums) == 0 || len(sums) >= len(dbtoolstest.FixtureTables) {
		t.Fatalf("want a partly loaded target without res_partner, got tables %v", sums)
	}
	err = dbtools.Restore(dbtoolstest.Ctx(t), dbtools.RestoreOptions{File: res.File, Database: target, PGBinDir: s.BinDir})
	if !errors.Is(err, dbtools.ErrTargetNotEmpty) {
		t.Fatalf("second Restore into the partly loaded target: %v", err)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, data)
}
