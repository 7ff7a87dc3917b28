package dbtools_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
)

func TestReadModules(t *testing.T) {
	s := dbtoolstest.Server(t)
	db := dbtoolstest.Name(t, "")
	dbtoolstest.CreateFixture(t, s, db, "")
	conn := dbtoolstest.Connect(t, s, db)

	mods, err := dbtools.ReadModules(dbtoolstest.Ctx(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mods, dbtoolstest.FixtureModules) {
		t.Fatalf("ReadModules:\n got %v\nwant %v", mods, dbtoolstest.FixtureModules)
	}

	// Inside a transaction it reads the transaction's snapshot.
	tx, err := conn.Begin(dbtoolstest.Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	dbtoolstest.Exec(t, conn, "UPDATE ir_module_module SET state = 'to upgrade' WHERE name = 'sale'")
	mods, err = dbtools.ReadModules(dbtoolstest.Ctx(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(mods, func(m dbtools.Module) bool { return m.Name == "sale" }); mods[i].State != "to upgrade" {
		t.Fatalf("sale in the transaction: %+v", mods[i])
	}
	if err := tx.Rollback(dbtoolstest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestReadModulesWithoutModuleTable(t *testing.T) {
	s := dbtoolstest.Server(t)
	conn := dbtoolstest.Connect(t, s, "postgres")
	_, err := dbtools.ReadModules(dbtoolstest.Ctx(t), conn)
	if !errors.Is(err, dbtools.ErrNoModuleTable) {
		t.Fatalf("want ErrNoModuleTable, got %v", err)
	}
	const want = "database has no ir_module_module table: is it an initialised Odoo database?"
	if err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
}
