package logwatch

import (
	"strings"
	"testing"
)

// looseLines are Odoo records in the layouts parseLoose reads, with what the
// parser must make of them.
var looseLines = []struct {
	name, line          string
	level               Level
	db, logger, message string
	pid                 int
	stamped             bool
}{
	{"pasted without timestamp and PID (sample 22)", "ERROR ? odoo.service.server: WorkerCron (2363) timeout after 120s",
		LevelError, "", "odoo.service.server", "WorkerCron (2363) timeout after 120s", 0, false},
	{"a log viewer's stamp glued to Odoo's (sample 28)", "2026-06-25 14:32:18.910104+00:002026-06-25 14:32:18,909 1 WARNING ? odoo.tools.config: glued prefix ",
		LevelWarning, "", "odoo.tools.config", "glued prefix", 1, true},
	{"kubectl logs --timestamps", "2026-12-07T03:09:06.680123456Z 2026-12-07 03:09:06,680 16007 ERROR b1 odoo.modules.registry: Failed to load registry ",
		LevelError, "b1", "odoo.modules.registry", "Failed to load registry", 16007, true},
	{"journald", "Dec 07 03:09:06 node-1 odoo[16007]: 2026-12-07 03:09:06,680 16007 CRITICAL b1 odoo.service.server: Failed to initialize database `b1`.",
		LevelCritical, "b1", "odoo.service.server", "Failed to initialize database `b1`.", 16007, true},
	{"Odoo's --syslog layout through rsyslog", "Dec  7 03:09:06 node-1 Odoo Server 18.0:b1:ERROR:odoo.sql_db:bad query: SELECT 1",
		LevelError, "b1", "odoo.sql_db", "bad query: SELECT 1", 0, false},
	{"OpenERP's --syslog layout alone", "OpenERP Server 7.0:prod:INFO:openerp.service.server:Worker (12) virtual memory limit (2147483648) reached.",
		LevelInfo, "prod", "openerp.service.server", "Worker (12) virtual memory limit (2147483648) reached.", 0, false},
	{"coloured level (a terminal or ODOO_PY_COLORS)", "2026-12-07 03:10:25,298 22445 \x1b[1;31m\x1b[1;49mERROR\x1b[0m p1 odoo.service.server: Worker (22445) Exception occurred, exiting...",
		LevelError, "p1", "odoo.service.server", "Worker (22445) Exception occurred, exiting...", 22445, true},
	{"older openerp logger, pasted", "INFO db openerp.service.server: Worker (7) CPU time limit (60) reached.",
		LevelInfo, "db", "openerp.service.server", "Worker (7) CPU time limit (60) reached.", 0, false},
}

func TestParserLooseLayouts(t *testing.T) {
	for _, tt := range looseLines {
		recs := parseString(t, "2026-12-07 03:09:00,000 1 INFO db odoo: before\n"+tt.line+"\n  continuation\n")
		if len(recs) != 2 {
			t.Errorf("%s: %d records, want 2: %+v", tt.name, len(recs), recs)
			continue
		}
		r := recs[1]
		if r.Level != tt.level || r.Database != tt.db || r.Logger != tt.logger || r.Message != tt.message || r.PID != tt.pid ||
			r.Time.IsZero() == tt.stamped || len(r.Continuation) != 1 {
			t.Errorf("%s: got %+v", tt.name, r)
		}
		if tt.stamped && r.Time.Year() != 2026 {
			t.Errorf("%s: Time %v is not Odoo's stamp", tt.name, r.Time)
		}
	}
}

// Lines that look a little like the loose layouts but are continuation
// lines: psycopg's error lines, traceback lines, an addon's own logger
// pasted bare, a syslog line with no Odoo record.
func TestParserLooseNearMisses(t *testing.T) {
	misses := []string{
		"ERROR:  column res_lang.short_date_format does not exist",
		"ERROR: column x does not exist",
		"INFO db my_module.models: not an Odoo logger",
		"Exception: odoo_operator_shop_report: cannot convert the price column",
		"Dec  7 03:09:06 node-1 kernel: Out of memory: Killed process 123 (python3)",
		"Odoo Server 18.0:db:NOTICE:odoo:unknown level",
		"2026-12-07T03:09:06Z not an Odoo line",
		"2026-12-07 03:09:06.123 1 ERROR db odoo: dot before milliseconds",
		"\x1b[0m",
	}
	in := "2026-12-07 03:09:00,000 1 INFO db odoo: first\n" + strings.Join(misses, "\n") + "\n"
	recs := parseString(t, in)
	if len(recs) != 1 || len(recs[0].Continuation) != len(misses) {
		t.Fatalf("got %+v", recs)
	}
}

// The public samples that were one record without a level before: the line
// pasted without timestamp and PID (22) and the log viewer's glued stamps
// (28) are Odoo records now, counted by the monitor when they matter.
func TestLooseSamples(t *testing.T) {
	recs := parseString(t, sampleText(t, 22))
	if len(recs) != 1 || recs[0].Level != LevelError || !Notable(recs[0]) || Classify(recs[0]) != Resource {
		t.Errorf("sample 22: %+v", recs)
	}
	recs = parseString(t, sampleText(t, 28))
	if len(recs) != 6 {
		t.Fatalf("sample 28: %d records, want 6", len(recs))
	}
	for _, r := range recs {
		if r.PID != 1 || (r.Level != LevelWarning && r.Level != LevelInfo) || Notable(r) || r.Time.Year() != 2026 {
			t.Errorf("sample 28: %+v", r)
		}
	}
}
