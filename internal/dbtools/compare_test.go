package dbtools_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
)

func mod(name, state, version string) dbtools.Module {
	return dbtools.Module{Name: name, State: state, LatestVersion: version}
}

func TestCompareModules(t *testing.T) {
	base := []dbtools.Module{
		mod("base", "installed", "18.0.1.3"),
		mod("sale", "installed", "18.0.1.0"),
		mod("stock", "installed", "18.0.1.1"),
		mod("website", "uninstalled", ""),
	}
	cases := []struct {
		name          string
		before, after []dbtools.Module
		want          dbtools.ModuleReport
		ok            bool
		summary       string
	}{{
		name:    "nothing changed",
		before:  base,
		after:   base,
		want:    dbtools.ModuleReport{Unchanged: 3},
		ok:      true,
		summary: "no module changed",
	}, {
		name:   "full upgrade",
		before: base,
		after: []dbtools.Module{
			mod("base", "installed", "18.0.1.3"),
			mod("sale", "installed", "18.0.1.1"),
			mod("stock", "installed", "18.0.1.2"),
			mod("website", "uninstalled", ""),
		},
		want: dbtools.ModuleReport{
			Upgraded:  []dbtools.ModuleChange{{Name: "sale", From: "18.0.1.0", To: "18.0.1.1"}, {Name: "stock", From: "18.0.1.1", To: "18.0.1.2"}},
			Unchanged: 1,
		},
		ok:      true,
		summary: "2 modules upgraded (sale 18.0.1.0 → 18.0.1.1, stock 18.0.1.1 → 18.0.1.2)",
	}, {
		// Odoo committed sale, then failed on stock: sale is upgraded, stock
		// still carries the old version and its flag.
		name:   "partial upgrade with one module pending",
		before: base,
		after: []dbtools.Module{
			mod("base", "installed", "18.0.1.3"),
			mod("sale", "installed", "18.0.1.1"),
			mod("stock", "to upgrade", "18.0.1.1"),
			mod("website", "uninstalled", ""),
		},
		want: dbtools.ModuleReport{
			Pending:       []string{"stock"},
			PendingStates: map[string]string{"stock": "to upgrade"},
			Upgraded:      []dbtools.ModuleChange{{Name: "sale", From: "18.0.1.0", To: "18.0.1.1"}},
			Unchanged:     2,
		},
		summary: "1 module upgraded (sale 18.0.1.0 → 18.0.1.1); still pending: stock (to upgrade)",
	}, {
		name:   "leftover 'to upgrade' with no version change",
		before: base,
		after: []dbtools.Module{
			mod("base", "installed", "18.0.1.3"),
			mod("sale", "to upgrade", "18.0.1.0"),
			mod("stock", "installed", "18.0.1.1"),
			mod("website", "to install", ""),
		},
		want: dbtools.ModuleReport{
			Pending:       []string{"sale", "website"},
			PendingStates: map[string]string{"sale": "to upgrade", "website": "to install"},
			Unchanged:     3,
		},
		summary: "still pending: sale (to upgrade), website (to install)",
	}, {
		name:   "installed, removed, gone and new modules",
		before: append(base, mod("crm", "installed", "18.0.1.0"), mod("old_addon", "installed", "17.0.1.0")),
		after: []dbtools.Module{
			mod("base", "installed", "18.0.1.3"),
			mod("crm", "uninstalled", ""),
			mod("new_addon", "uninstalled", ""),
			mod("sale", "installed", "18.0.1.0"),
			mod("stock", "to remove", "18.0.1.1"),
			mod("website", "installed", "18.0.1.0"),
		},
		want: dbtools.ModuleReport{
			Pending:       []string{"stock"},
			PendingStates: map[string]string{"stock": "to remove"},
			Installed:     []string{"website"},
			Removed:       []string{"crm", "old_addon"},
			Unchanged:     3,
		},
		summary: "1 module installed (website); 2 modules removed (crm, old_addon); still pending: stock (to remove)",
	}, {
		name:   "fresh database",
		before: nil,
		after:  []dbtools.Module{mod("base", "installed", "18.0.1.3"), mod("web", "to install", "")},
		want: dbtools.ModuleReport{
			Pending:       []string{"web"},
			PendingStates: map[string]string{"web": "to install"},
			Installed:     []string{"base"},
		},
		summary: "1 module installed (base); still pending: web (to install)",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := dbtools.CompareModules(c.before, c.after)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("CompareModules:\n got %+v\nwant %+v", got, c.want)
			}
			if got.OK() != c.ok {
				t.Fatalf("OK() = %v, want %v", got.OK(), c.ok)
			}
			if s := got.Summary(10); s != c.summary {
				t.Fatalf("Summary:\n got %q\nwant %q", s, c.summary)
			}
		})
	}
}

func TestSummaryIsBounded(t *testing.T) {
	var before, after []dbtools.Module
	for i := range 300 {
		name := fmt.Sprintf("module_%03d_%s", i, strings.Repeat("x", 40))
		before = append(before, mod(name, "installed", "18.0.1.0"))
		state := "installed"
		if i%50 == 7 {
			state = "to upgrade"
		}
		after = append(after, mod(name, state, "18.0.1.1"))
	}
	r := dbtools.CompareModules(before, after)
	if len(r.Upgraded) != 300 || len(r.Pending) != 6 {
		t.Fatalf("report: %d upgraded, %d pending", len(r.Upgraded), len(r.Pending))
	}
	x := strings.Repeat("x", 40)
	for _, c := range []struct {
		max  int
		want string
	}{
		{0, "300 modules upgraded; 6 modules still pending"},
		{2, "300 modules upgraded; still pending: module_007_" + x + " (to upgrade), module_057_" + x + " (to upgrade), +4 more"},
		{7, "300 modules upgraded (module_000_" + x + " 18.0.1.0 → 18.0.1.1, +299 more); still pending: module_007_" + x + " (to upgrade), " +
			"module_057_" + x + " (to upgrade), module_107_" + x + " (to upgrade), module_157_" + x + " (to upgrade), " +
			"module_207_" + x + " (to upgrade), module_257_" + x + " (to upgrade)"},
	} {
		if got := r.Summary(c.max); got != c.want {
			t.Errorf("Summary(%d):\n got %q\nwant %q", c.max, got, c.want)
		}
	}
	// Too long for MaxSummaryLen: fewer upgraded modules are named, all the
	// pending ones still are.
	s := r.Summary(1000)
	if len(s) > dbtools.MaxSummaryLen || len(s) < dbtools.MaxSummaryLen-100 || !utf8.ValidString(s) ||
		!strings.HasPrefix(s, "300 modules upgraded (module_000_") || !strings.HasSuffix(s, "module_257_"+x+" (to upgrade)") {
		t.Fatalf("Summary(1000) is %d bytes: %q", len(s), s)
	}
}

// An upgrade that failed half way, as Odoo leaves it in the database: the
// modules before the failing one committed with their new version, the
// failing one still marked.
func TestCompareModulesAfterPartialUpgradeInDatabase(t *testing.T) {
	s := dbtoolstest.Server(t)
	db := dbtoolstest.Name(t, "")
	dbtoolstest.CreateFixture(t, s, db, "")
	conn := dbtoolstest.Connect(t, s, db)
	ctx := dbtoolstest.Ctx(t)

	before, err := dbtools.ReadModules(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	dbtoolstest.Exec(t, conn,
		"UPDATE ir_module_module SET latest_version = '18.0.1.4' WHERE name = 'base'",
		"UPDATE ir_module_module SET latest_version = '18.0.1.1' WHERE name = 'sale'",
		"UPDATE ir_module_module SET state = 'to upgrade' WHERE name IN ('stock', 'sale_stock')",
	)
	after, err := dbtools.ReadModules(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	r := dbtools.CompareModules(before, after)
	want := dbtools.ModuleReport{
		Pending:       []string{"sale_stock", "stock"},
		PendingStates: map[string]string{"sale_stock": "to upgrade", "stock": "to upgrade"},
		Upgraded:      []dbtools.ModuleChange{{Name: "base", From: "18.0.1.3", To: "18.0.1.4"}, {Name: "sale", From: "18.0.1.0", To: "18.0.1.1"}},
		Unchanged:     4,
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("report:\n got %+v\nwant %+v", r, want)
	}
	if r.OK() {
		t.Fatal("OK() with modules pending")
	}
	const summary = "2 modules upgraded (base 18.0.1.3 → 18.0.1.4, sale 18.0.1.0 → 18.0.1.1); " +
		"still pending: sale_stock (to upgrade), stock (to upgrade)"
	if got := r.Summary(10); got != summary {
		t.Fatalf("Summary:\n got %q\nwant %q", got, summary)
	}
}
