package logwatch

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSignatureGroupsRepeats(t *testing.T) {
	pairs := []struct {
		name string
		a, b Record
	}{
		{"numbers",
			Record{Logger: "odoo.service.server", Message: "Worker (2083) virtual memory limit (487657472) reached."},
			Record{Logger: "odoo.service.server", Message: "Worker (17) virtual memory limit (501234688) reached."}},
		{"bad query on other ids: the SQL is left out",
			Record{Logger: "odoo.sql_db", Message: "bad query: b'DELETE FROM ir_attachment WHERE id IN (1045)'",
				Continuation: []string{"ERROR: could not serialize access due to concurrent update"}},
			Record{Logger: "odoo.sql_db", Message: "bad query: b'DELETE FROM ir_attachment WHERE id IN (7, 8)'",
				Continuation: []string{"ERROR:  could not serialize access due to concurrent update", "", ""}}},
		{"quoted values",
			Record{Logger: "odoo.http", Message: `You are not allowed to access 'Settings' (x) records. "a" ` + "`b`"},
			Record{Logger: "odoo.http", Message: `You are not allowed to access 'Sale Order' (x) records. "c d" ` + "`e`"}},
		{"database name in the message and in backquotes",
			Record{Logger: "odoo.service.server", Database: "walplast_mig", Message: "Failed to initialize database `walplast_mig`: walplast_mig is locked"},
			Record{Logger: "odoo.service.server", Database: "prod-2.eu", Message: "Failed to initialize database `prod-2.eu`: prod-2.eu is locked"}},
		{"hex ids and UUIDs",
			Record{Logger: "werkzeug", Message: "GET /web/webclient/load_menus/afd6d33d3fbcefc9 attachment 550e8400-e29b-41d4-a716-446655440000"},
			Record{Logger: "werkzeug", Message: "GET /web/webclient/load_menus/0123abcd99 attachment 6BA7B810-9DAD-11D1-80B4-00C04FD430C8"}},
		{"traceback exception values",
			Record{Logger: "odoo.http", Message: "Exception during request handling.",
				Continuation: []string{"Traceback (most recent call last):", `  File "a.py", line 12, in f`, "KeyError: 'socket'"}},
			Record{Logger: "odoo.http", Message: "Exception during request handling. ",
				Continuation: []string{"Traceback (most recent call last):", `  File "a.py", line 99, in f`, "KeyError: 'sock'"}}},
		{"blank runs", Record{Message: "a  \t b"}, Record{Message: "a b"}},
	}
	for _, tt := range pairs {
		if sa, sb := Signature(tt.a), Signature(tt.b); sa != sb {
			t.Errorf("%s: %q != %q", tt.name, sa, sb)
		}
	}
}

func TestSignatureTellsErrorsApart(t *testing.T) {
	recs := []Record{
		{Logger: "odoo.sql_db", Message: "bad query: SELECT 1", Continuation: []string{"ERROR: column res_lang.short_date_format does not exist"}},
		{Logger: "odoo.sql_db", Message: "bad query: SELECT 1", Continuation: []string{"ERROR: column res_partner.vat does not exist"}},
		{Logger: "odoo.sql_db", Message: "bad query: SELECT 1", Continuation: []string{"ERROR: could not serialize access due to concurrent update"}},
		{Logger: "odoo.service.server", Message: "Worker (1) virtual memory limit (2) reached."},
		{Logger: "odoo.service.server", Message: "Worker (1) CPU time limit (2) reached."},
		{Logger: "odoo.addons.base.models.ir_cron", Message: "Worker (1) virtual memory limit (2) reached."},
		{Logger: "odoo.http", Message: "Exception during request handling.", Continuation: []string{"Traceback (most recent call last):", "KeyError: 'socket'"}},
		{Logger: "odoo.http", Message: "Exception during request handling.", Continuation: []string{"Traceback (most recent call last):", "ValueError: 'socket'"}},
		{Logger: "odoo.modules.module", Message: "Couldn't load module web"},
		{Logger: "odoo.modules.module", Message: "Couldn't load module sale"},
		{Logger: "odoo", Message: "deadbeef is a word, so is odoo.addons.web"},
		{Logger: "odoo", Database: "odoo", Message: "deadbeef is a word, so is <db>.addons.web"},
	}
	seen := map[string]int{}
	for i, rec := range recs {
		s := Signature(rec)
		if j, dup := seen[s]; dup {
			t.Errorf("records %d and %d share signature %q", j, i, s)
		}
		seen[s] = i
	}
}

func TestSignatureShape(t *testing.T) {
	tests := []struct {
		rec  Record
		want string
	}{
		{Record{Logger: "odoo.sql_db", Message: "bad query: SELECT * FROM ir_model WHERE state='manual'",
			Continuation: []string{`ERROR: relation "ir_model" does not exist`, "LINE 1: SELECT * FROM ir_model WHERE state='manual'"}},
			`odoo.sql_db: ERROR: relation "?" does not exist`},
		{Record{Logger: "odoo.modules.module", Message: "Couldn't load module web"}, "odoo.modules.module: Couldn't load module web"},
		{Record{Logger: "odoo.service.server", Database: "odoo", Message: "module odoo.addons.web loaded in db odoo"},
			"odoo.service.server: module odoo.addons.web loaded in db <db>"},
		{Record{Message: "WorkerCron (2363) timeout after 120s 0x7f3a"}, "WorkerCron (<n>) timeout after <n> <n>"},
		{Record{Message: "unclosed 'quote stays"}, "unclosed 'quote stays"},
	}
	for _, tt := range tests {
		if got := Signature(tt.rec); got != tt.want {
			t.Errorf("Signature(%q) = %q, want %q", tt.rec.Message, got, tt.want)
		}
	}
	long := Signature(Record{Logger: "odoo", Message: strings.Repeat("é", 1000)})
	if len(long) > MaxSignatureBytes || !utf8.ValidString(long) {
		t.Errorf("long signature: %d bytes, valid UTF-8 %v", len(long), utf8.ValidString(long))
	}
}
