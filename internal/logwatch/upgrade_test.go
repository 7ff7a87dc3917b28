package logwatch

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

func judgeFile(t *testing.T, path string) UpgradeLogVerdict {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return JudgeUpgradeLog(bytes.NewReader(data))
}

func sampleText(t *testing.T, nums ...int) string {
	t.Helper()
	var b strings.Builder
	for _, n := range nums {
		found := false
		for _, s := range loadSamples(t) {
			if s.num == n {
				b.WriteString(s.text())
				found = true
			}
		}
		if !found {
			t.Fatalf("no sample %d", n)
		}
	}
	return b.String()
}

// The kwok sandbox serves these files (CRI format) as the upgrade Job's log.
func TestJudgeUpgradeLogKwokFiles(t *testing.T) {
	broken := judgeFile(t, "../../hack/kwok/logs/broken.log")
	want := UpgradeLogVerdict{
		Failed: true,
		Module: "web",
		// The CRITICAL line names no cause; the traceback of the failure
		// that follows does.
		ErrorLine:   "odoo.modules.module: Couldn't load module web | ModuleNotFoundError: No module named 'odoo.addons.web'",
		Category:    ModuleLoading,
		StatesReset: true,
		// CRITICAL Couldn't load module, ERROR server-wide module, ERROR
		// bad query, ERROR registry, CRITICAL initialize database.
		Errors: 5,
	}
	if broken != want {
		t.Errorf("broken.log: got %+v, want %+v", broken, want)
	}
	if healthy := judgeFile(t, "../../hack/kwok/logs/healthy.log"); healthy != (UpgradeLogVerdict{}) {
		t.Errorf("healthy.log: got %+v, want a clean verdict", healthy)
	}
}

func TestJudgeUpgradeLog(t *testing.T) {
	const failingUpgrade = `2026-01-01 00:00:01,000 1 INFO db odoo.modules.loading: loading 48 modules... 
2026-01-01 00:00:01,100 1 DEBUG db odoo.modules.loading: loading module account (7/48) 
2026-01-01 00:00:01,150 1 INFO db odoo.modules.migration: module account: Running migration [18.0.1.3>] pre-migrate 
2026-01-01 00:00:01,200 1 INFO db odoo.modules.loading: loading sale/views/sale_views.xml 
2026-01-01 00:00:01,300 1 WARNING db odoo.modules.loading: Transient module states were reset 
2026-01-01 00:00:01,300 1 ERROR db odoo.modules.registry: Failed to load registry 
2026-01-01 00:00:01,301 1 CRITICAL db odoo.service.server: Failed to initialize database ` + "`db`" + `. 
Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/odoo/service/server.py", line 1301, in preload_registries
  File "/mnt/extra-addons/sale_custom/models/sale.py", line 12, in _compute
odoo.tools.convert.ParseError: while parsing /usr/lib/python3/dist-packages/odoo/addons/sale/views/sale_views.xml:4
2026-01-01 00:00:02,000 1 INFO db odoo.modules.loading: loading stock/views/stock_views.xml 
2026-01-01 00:00:02,001 1 ERROR db odoo.sql_db: later error 
`
	const tracebackOnly = `2026-01-01 00:00:01,301 1 CRITICAL db odoo.service.server: Failed to initialize database ` + "`db`" + `.
Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/odoo/modules/loading.py", line 151, in load_module_graph
  File "/mnt/extra-addons/my_mod/migrations/18.0.2.0/pre-migrate.py", line 3, in migrate
KeyError: 'x'
`
	tests := []struct {
		name string
		log  string
		want UpgradeLogVerdict
	}{
		{"last progress line names the module", failingUpgrade, UpgradeLogVerdict{
			Failed: true, Module: "sale", Errors: 3, Category: ModuleLoading, StatesReset: true,
			ErrorLine: "odoo.modules.registry: Failed to load registry | odoo.tools.convert.ParseError: while parsing /usr/lib/python3/dist-packages/odoo/addons/sale/views/sale_views.xml:4",
		}},
		{"traceback names the module", tracebackOnly, UpgradeLogVerdict{
			Failed: true, Module: "my_mod", Errors: 1, Category: ModuleLoading,
			ErrorLine: "odoo.service.server: Failed to initialize database `db`. | KeyError: 'x'",
		}},
		{"migration script failure (sample 24)", sampleText(t, 24), UpgradeLogVerdict{
			Failed: true, Errors: 1, Category: ModuleLoading,
			ErrorLine: "odoo.service.server: Failed to initialize database `walplast_mig`. | ValueError: load_module arg#2 should be a file or None",
		}},
		{"missing table (sample 3): psycopg's line says why", sampleText(t, 3), UpgradeLogVerdict{
			Failed: true, Errors: 2, Category: DatabaseSchema, StatesReset: true,
			ErrorLine: `odoo.sql_db: bad query: SELECT * FROM ir_model WHERE state='manual' | ERROR: relation "ir_model" does not exist`,
		}},
		{"inconsistent states exit 0 but fail (sample 8)", sampleText(t, 8), UpgradeLogVerdict{
			Failed: true, Module: "my_library", Errors: 1, Category: ModuleLoading,
			ErrorLine: "odoo.modules.loading: Some modules have inconsistent states, some dependencies may be missing: ['my_library']",
		}},
		{"unmet dependency alone is an error, not a failure (sample 7)", sampleText(t, 7), UpgradeLogVerdict{
			Errors: 1, Category: ModuleLoading,
			ErrorLine: "odoo.modules.graph: module payment: Unmet dependencies: account",
		}},
		{"modules not loaded", "2026-01-01 00:00:01,000 1 ERROR db odoo.modules.loading: Some modules are not loaded, some dependencies or manifest may be missing: ['x']\n",
			UpgradeLogVerdict{Failed: true, Errors: 1, Category: ModuleLoading,
				ErrorLine: "odoo.modules.loading: Some modules are not loaded, some dependencies or manifest may be missing: ['x']"}},
		{"warnings only", sampleText(t, 28), UpgradeLogVerdict{}},
		{"empty log", "", UpgradeLogVerdict{}},
	}
	for _, tt := range tests {
		if got := JudgeUpgradeLog(strings.NewReader(tt.log)); got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

func TestJudgeUpgradeLogErrorLineBounded(t *testing.T) {
	log := "2026-01-01 00:00:01,000 1 ERROR db odoo.sql_db: bad query: SELECT " + strings.Repeat("col, ", 500) + "\n" +
		"ERROR: column x." + strings.Repeat("y", 400) + " does not exist\n"
	v := JudgeUpgradeLog(strings.NewReader(log))
	if len(v.ErrorLine) > MaxErrorLineBytes || !strings.Contains(v.ErrorLine, " | ERROR: column x.yyy") ||
		!strings.HasPrefix(v.ErrorLine, "odoo.sql_db: bad query: SELECT col,") {
		t.Errorf("ErrorLine (%d bytes) = %q", len(v.ErrorLine), v.ErrorLine)
	}
}

func TestJudgeUpgradeLogReadError(t *testing.T) {
	boom := errors.New("boom")
	log := "2026-01-01 00:00:01,000 1 CRITICAL db odoo.service.server: Failed to initialize database `db`.\n"
	v := JudgeUpgradeLog(io.MultiReader(strings.NewReader(log), iotest.ErrReader(boom)))
	if !errors.Is(v.Err, boom) || !v.Failed || v.Errors != 1 {
		t.Errorf("got %+v", v)
	}
}
