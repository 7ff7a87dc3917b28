package dbtools_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

func mustExist(t *testing.T, admin *pgx.Conn, want map[string]bool) {
	t.Helper()
	for name, exists := range want {
		got, err := dbtools.DatabaseExists(dbtoolstest.Ctx(t), admin, name)
		if err != nil {
			t.Fatal(err)
		}
		if got != exists {
			t.Fatalf("database %s exists: %v, want %v", name, got, exists)
		}
	}
}

// swapFixture makes a live database (the fixture) and a restored one that
// differs from it.
func swapFixture(t *testing.T) (s *pgharness.Server, live, restored, keep string, liveSums, restoredSums map[string]string) {
	s = dbtoolstest.Server(t)
	live, restored, keep = dbtoolstest.Name(t, "live"), dbtoolstest.Name(t, "restored"), dbtoolstest.Name(t, "keep")
	dbtoolstest.CreateFixture(t, s, live, "")
	dbtoolstest.CreateFixture(t, s, restored, "")
	c := dbtoolstest.Connect(t, s, restored)
	dbtoolstest.Exec(t, c, "UPDATE ir_module_module SET latest_version = '18.0.0.1' WHERE name = 'sale'")
	_ = c.Close(context.Background())
	liveSums, restoredSums = dbtoolstest.Checksums(t, s, live), dbtoolstest.Checksums(t, s, restored)
	if reflect.DeepEqual(liveSums, restoredSums) {
		t.Fatal("the fixture databases do not differ")
	}
	return s, live, restored, keep, liveSums, restoredSums
}

func TestSwapDatabases(t *testing.T) {
	s, live, restored, keep, liveSums, restoredSums := swapFixture(t)
	admin := dbtoolstest.Connect(t, s, "postgres")
	ctx := dbtoolstest.Ctx(t)

	// An Odoo worker holds a session on each database; the swap ends them.
	worker := dbtoolstest.Connect(t, s, live)
	other := dbtoolstest.Connect(t, s, restored)
	if err := dbtools.SwapDatabases(ctx, admin, live, restored, keep); err != nil {
		t.Fatalf("SwapDatabases: %v", err)
	}
	for _, c := range []*pgx.Conn{worker, other} {
		if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
			t.Fatal("a session on a swapped database survived")
		}
	}
	mustExist(t, admin, map[string]bool{live: true, keep: true, restored: false})
	if got := dbtoolstest.Checksums(t, s, live); !reflect.DeepEqual(got, restoredSums) {
		t.Fatal("the live name does not hold the restored contents")
	}
	if got := dbtoolstest.Checksums(t, s, keep); !reflect.DeepEqual(got, liveSums) {
		t.Fatal("the kept database does not hold the old live contents")
	}

	// Called again (a retry after a crash that lost the answer): nothing to do.
	if err := dbtools.SwapDatabases(ctx, admin, live, restored, keep); err != nil {
		t.Fatalf("second SwapDatabases: %v", err)
	}
	if got := dbtoolstest.Checksums(t, s, live); !reflect.DeepEqual(got, restoredSums) {
		t.Fatal("the second swap changed the live database")
	}

	// The two renames are in one transaction.
	l, _ := s.ReadLog()
	i := strings.Index(l, `ALTER DATABASE "`+live+`" RENAME TO "`+keep+`"`)
	if i < 0 {
		t.Fatal("no rename of the live database in the server log")
	}
	begin := strings.LastIndex(l[:i], "statement: begin")
	commit := strings.Index(l[i:], "statement: commit")
	if begin < 0 || commit < 0 || !strings.Contains(l[begin:i+commit], `ALTER DATABASE "`+restored+`" RENAME TO "`+live+`"`) {
		t.Fatalf("the renames are not in one transaction:\n%s", l[max(0, i-2000):])
	}
}

// A swap interrupted between two renames (live already renamed) is
// completed; states that make no sense are refused.
func TestSwapDatabasesRecoversAndRefuses(t *testing.T) {
	s, live, restored, keep, liveSums, restoredSums := swapFixture(t)
	admin := dbtoolstest.Connect(t, s, "postgres")
	ctx := dbtoolstest.Ctx(t)

	// The kept name is taken while the live and restored databases exist.
	dbtoolstest.Exec(t, admin, "CREATE DATABASE "+pgx.Identifier{keep}.Sanitize())
	err := dbtools.SwapDatabases(ctx, admin, live, restored, keep)
	if err == nil || !strings.Contains(err.Error(), "cannot swap from this state") || !strings.Contains(err.Error(), keep+`" exists`) {
		t.Fatalf("SwapDatabases onto an existing kept name: %v", err)
	}
	dbtoolstest.Exec(t, admin, "DROP DATABASE "+pgx.Identifier{keep}.Sanitize())

	for _, args := range [][3]string{{live, live, keep}, {live, restored, "postgres"}, {live, restored, strings.Repeat("x", 64)}} {
		if err := dbtools.SwapDatabases(ctx, admin, args[0], args[1], args[2]); err == nil {
			t.Fatalf("SwapDatabases%v succeeded", args)
		}
	}
	onLive := dbtoolstest.Connect(t, s, live)
	if err := dbtools.SwapDatabases(ctx, onLive, live, restored, keep); err == nil ||
		!strings.Contains(err.Error(), "connect to the maintenance database") {
		t.Fatalf("SwapDatabases on a connection to the live database: %v", err)
	}
	_ = onLive.Close(ctx)

	// Interrupted half way: live renamed, restored not yet.
	dbtoolstest.Exec(t, admin, "ALTER DATABASE "+pgx.Identifier{live}.Sanitize()+" RENAME TO "+pgx.Identifier{keep}.Sanitize())
	if err := dbtools.SwapDatabases(ctx, admin, live, restored, keep); err != nil {
		t.Fatalf("completing the swap: %v", err)
	}
	mustExist(t, admin, map[string]bool{live: true, keep: true, restored: false})
	if !reflect.DeepEqual(dbtoolstest.Checksums(t, s, live), restoredSums) || !reflect.DeepEqual(dbtoolstest.Checksums(t, s, keep), liveSums) {
		t.Fatal("the completed swap left the wrong contents")
	}

	// Nothing to swap from.
	missing := dbtoolstest.Name(t, "missing")
	err = dbtools.SwapDatabases(ctx, admin, missing, dbtoolstest.Name(t, "r2"), dbtoolstest.Name(t, "k2"))
	if err == nil || !strings.Contains(err.Error(), `live "`+missing+`" missing`) {
		t.Fatalf("SwapDatabases without databases: %v", err)
	}
}

func TestCreateEmptyDatabase(t *testing.T) {
	s := dbtoolstest.Server(t)
	admin := dbtoolstest.Connect(t, s, "postgres")
	ctx := dbtoolstest.Ctx(t)
	role, db := dbtoolstest.Name(t, "role"), dbtoolstest.Name(t, "db")+` "odd" name`
	dbtoolstest.Exec(t, admin, "CREATE ROLE "+pgx.Identifier{role}.Sanitize())

	mustExist(t, admin, map[string]bool{db: false})
	if err := dbtools.CreateEmptyDatabase(ctx, admin, db, role); err != nil {
		t.Fatal(err)
	}
	mustExist(t, admin, map[string]bool{db: true})
	var owner, encoding, collate string
	if err := admin.QueryRow(ctx, `SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate
		FROM pg_database WHERE datname = $1`, db).Scan(&owner, &encoding, &collate); err != nil {
		t.Fatal(err)
	}
	if owner != role || encoding != "UTF8" || collate != "C" {
		t.Fatalf("owner %s, encoding %s, collate %s", owner, encoding, collate)
	}
	if err := dbtools.CreateEmptyDatabase(ctx, admin, db, role); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("creating it again: %v", err)
	}
	for _, args := range [][2]string{{"template1", role}, {"", role}, {db + "2", ""}} {
		if err := dbtools.CreateEmptyDatabase(ctx, admin, args[0], args[1]); err == nil {
			t.Fatalf("CreateEmptyDatabase%v succeeded", args)
		}
	}
}
