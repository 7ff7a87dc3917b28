package dbtools_test

import (
	"reflect"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
)

func TestTableChecksums(t *testing.T) {
	s := dbtoolstest.Server(t)
	a, b := dbtoolstest.Name(t, "a"), dbtoolstest.Name(t, "b")
	dbtoolstest.CreateFixture(t, s, a, "")
	dbtoolstest.CreateFixture(t, s, b, "")
	ca, cb := dbtoolstest.Connect(t, s, a), dbtoolstest.Connect(t, s, b)
	ctx := dbtoolstest.Ctx(t)

	sumA := dbtoolstest.Checksums(t, s, a)
	if len(sumA) != len(dbtoolstest.FixtureTables) {
		t.Fatalf("checksums of %d tables, want %d: %v", len(sumA), len(dbtoolstest.FixtureTables), sumA)
	}
	if got := sumA[`Weird "Table" Name`]; got[:2] != "3:" {
		t.Fatalf("the table with a quoted name and a column named t: %q", got)
	}
	if !reflect.DeepEqual(dbtoolstest.Checksums(t, s, b), sumA) {
		t.Fatal("two identical databases have different checksums")
	}

	// Session settings do not change the text of the rows hashed.
	dbtoolstest.Exec(t, cb, "SET TimeZone = 'Asia/Kolkata'", "SET bytea_output = 'escape'",
		"SET DateStyle = 'German'", "SET extra_float_digits = -3")
	sumB, err := dbtools.TableChecksums(ctx, cb)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sumB, sumA) {
		t.Fatalf("session settings changed the checksums:\n%v\n%v", sumB, sumA)
	}

	// Row order does not matter; contents do, down to a NULL and a byte.
	dbtoolstest.Exec(t, cb, "CLUSTER res_partner USING res_partner_email_idx", "VACUUM FULL ir_attachment")
	dbtoolstest.Exec(t, cb, "UPDATE res_partner SET name = name")
	if sumB, _ = dbtools.TableChecksums(ctx, cb); !reflect.DeepEqual(sumB, sumA) {
		t.Fatal("rewriting the rows in another order changed the checksums")
	}
	for table, change := range map[string][]string{
		"res_partner": {"UPDATE res_partner SET email = NULL WHERE email = ''"},
		"ir_attachment": {"UPDATE ir_attachment SET db_datas = overlay(db_datas placing '\\x00'::bytea from 1000 for 1) WHERE name = 'big.bin'",
			"UPDATE ir_attachment SET db_datas = overlay(db_datas placing '\\x01'::bytea from 1000 for 1) WHERE name = 'big.bin'"},
		`Weird "Table" Name`: {`DELETE FROM "Weird ""Table"" Name" WHERE ctid = (SELECT min(ctid) FROM "Weird ""Table"" Name" WHERE t = 2)`},
	} {
		dbtoolstest.Exec(t, ca, change...)
		after := dbtoolstest.Checksums(t, s, a)
		for k, v := range after {
			if (k == table) == (v == sumA[k]) {
				t.Fatalf("after %v: table %s %s -> %s", change, k, sumA[k], v)
			}
		}
		sumA = after
	}
}
