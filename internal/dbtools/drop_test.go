package dbtools_test

import (
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
)

// TestDropDatabase: the named database goes even with a session open on
// it, a neighbour whose name only starts the same stays, a second drop is
// a no-op, and the admin connection's own database or an invalid name is
// refused.
func TestDropDatabase(t *testing.T) {
	s := dbtoolstest.Server(t)
	ctx := dbtoolstest.Ctx(t)
	kept := dbtoolstest.Name(t, "pre_restore")
	neighbour := kept + "x"
	dbtoolstest.CreateFixture(t, s, kept, "")
	dbtoolstest.CreateFixture(t, s, neighbour, "")
	admin := dbtoolstest.Connect(t, s, "postgres")
	session := dbtoolstest.Connect(t, s, kept)

	for run := 1; run <= 2; run++ {
		if err := dbtools.DropDatabase(ctx, admin, kept); err != nil {
			t.Fatalf("drop %d: %v", run, err)
		}
	}
	if _, err := session.Exec(ctx, "SELECT 1"); err == nil {
		t.Error("a session on the dropped database survived")
	}
	mustExist(t, admin, map[string]bool{kept: false, neighbour: true})

	if err := dbtools.DropDatabase(ctx, admin, "postgres"); err == nil {
		t.Error("the maintenance database was accepted")
	}
	inNeighbour := dbtoolstest.Connect(t, s, neighbour)
	if err := dbtools.DropDatabase(ctx, inNeighbour, neighbour); err == nil || !strings.Contains(err.Error(), "maintenance database") {
		t.Errorf("dropping the admin connection's own database: %v", err)
	}
	mustExist(t, admin, map[string]bool{neighbour: true})
	if err := dbtools.DropDatabase(ctx, admin, ""); err == nil {
		t.Error("an empty name was accepted")
	}
}
