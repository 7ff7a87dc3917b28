package logwatch

import (
	"sort"
	"strings"
	"testing"
)

// sampleCategories gives, for every sample in testdata/samples.txt, the
// category its heading names. except lists records (by a substring of their
// message) the heading does not describe, with the category they get and why.
var sampleCategories = map[int]struct {
	want   Category
	except map[string]Category
}{
	// "Schema mismatch — missing column".
	1: {DatabaseSchema, map[string]Category{
		// The request's traceback is cut before its exception line; on its
		// own it names no cause.
		"Exception during request handling": Other,
	}},
	// "Missing table during database initialisation + failed registry load":
	// the heading names two things. The bad query is the schema problem; the
	// two registry lines are module loading's reaction to it (docs B.3,
	// step 4), and they carry no trace of the missing table.
	3: {DatabaseSchema, map[string]Category{
		"Transient module states were reset": ModuleLoading,
		"Failed to load registry":            ModuleLoading,
	}},
	5:  {ModuleLoading, nil}, // "Module loading failure — Python package missing"
	7:  {ModuleLoading, nil}, // "Missing dependency — not installable, skipped + Unmet dependencies"
	8:  {ModuleLoading, nil}, // "Missing dependency / inconsistent module states"
	9:  {DatabaseConnection, nil},
	11: {DatabaseConnection, nil}, // wait-for-psql.py output: no Odoo prefix, a record with no level
	12: {Permission, nil},
	14: {Serialization, nil},
	16: {Serialization, map[string]Category{
		// "current transaction is aborted" follows any failed statement in
		// the transaction: a consequence, not a serialization failure.
		`bad query: b'SELECT "res_users"`: Other,
		// werkzeug's traceback is cut right after its first line.
		"Error on request:": Other,
	}},
	18: {Serialization, nil}, // Sentry rendering: no Odoo prefix
	19: {Resource, nil},      // memory limit, logged at INFO
	20: {Resource, nil},      // real time limit, logged at INFO
	22: {Resource, nil},      // pasted without timestamp and PID: read as an ERROR record (parseLoose)
	24: {ModuleLoading, nil}, // upgrade failing in a migration script; a ValueError, nothing more specific
	// A websocket request served by a prefork worker: a routing mistake
	// none of the categories describes.
	25: {Other, nil},
	// The Bitnami wrapper's own lines and the container's exit code; no Odoo
	// record says why the update failed.
	27: {Other, nil},
	// Startup warnings about configuration, not a failure. The runtime's
	// timestamp glued to Odoo's prefix is skipped (parseLoose), so each
	// line is its own WARNING or INFO record.
	28: {Other, nil},
	// The JSON layout is not parsed (one record with no level), but its
	// message is the one logged after a failed module load (docs B.3).
	29: {ModuleLoading, nil},
}

// TestClassifySamples checks every sample: records at WARNING and above, and
// records with no level (unprefixed lines), get the heading's category unless
// listed in except; INFO and DEBUG records get it or Other (they mostly
// carry context); and at least one record gets it, since some samples carry
// their signal only at INFO.
func TestClassifySamples(t *testing.T) {
	seen := map[int]bool{}
	for _, s := range loadSamples(t) {
		seen[s.num] = true
		exp, ok := sampleCategories[s.num]
		if !ok {
			t.Errorf("sample %d (%s) has no expected category", s.num, s.heading)
			continue
		}
		found := false
		for _, rec := range parseString(t, s.text()) {
			got := Classify(rec)
			found = found || got == exp.want
			want, excepted := exp.want, false
			for substr, c := range exp.except {
				if strings.Contains(rec.Message, substr) {
					want, excepted = c, true
				}
			}
			switch {
			case excepted || rec.Level == "" || rec.Level == LevelWarning || rec.Level == LevelError || rec.Level == LevelCritical:
				if got != want {
					t.Errorf("sample %d: %s %q: got %s, want %s", s.num, rec.Level, rec.Message, got, want)
				}
			case got != want && got != Other:
				t.Errorf("sample %d: %s %q: got %s, want %s or Other", s.num, rec.Level, rec.Message, got, want)
			}
		}
		if !found {
			t.Errorf("sample %d (%s): no record classified %s", s.num, s.heading, exp.want)
		}
	}
	var stale []int
	for n := range sampleCategories {
		if !seen[n] {
			stale = append(stale, n)
		}
	}
	sort.Ints(stale)
	if len(stale) > 0 {
		t.Errorf("expected categories for samples not in %s: %v", samplesPath, stale)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want Category
	}{
		{"request line with an error-like URL", Record{Level: LevelInfo, Logger: "werkzeug",
			Message: `10.0.0.1 - - [16/Mar/2025 17:46:54] "GET /permission denied HTTP/1.1" 404 - 1 0.001 0.002`}, Other},
		{"werkzeug error with a lock timeout", Record{Level: LevelError, Logger: "werkzeug", Message: "Error on request:",
			Continuation: []string{"Traceback (most recent call last):", "psycopg2.errors.LockNotAvailable: canceling statement due to lock timeout"}}, Serialization},
		{"root cause in the traceback beats the registry message", Record{Level: LevelCritical, Logger: "odoo.service.server",
			Message: "Failed to initialize database `db`.", Continuation: []string{
				"Traceback (most recent call last):",
				`psycopg2.OperationalError: connection to server at "db" (10.0.0.3), port 5432 failed: Connection refused`}}, DatabaseConnection},
		{"unknown database at connect", Record{Level: LevelError, Message: `FATAL:  database "prod" does not exist`}, DatabaseConnection},
		{"missing record is not schema", Record{Level: LevelWarning, Logger: "odoo.http",
			Message: "Record does not exist or has been deleted."}, Other},
		{"missing column in a traceback", Record{Level: LevelError, Logger: "odoo.http", Message: "Exception during request handling.",
			Continuation: []string{"Traceback (most recent call last):", `psycopg2.errors.UndefinedColumn: column "x" of relation "y" does not exist`}}, DatabaseSchema},
		{"postgres privilege", Record{Level: LevelError, Message: "bad query: b'SELECT 1'",
			Continuation: []string{"ERROR: permission denied for table res_partner"}}, Permission},
		{"cpu limit", Record{Level: LevelInfo, Logger: "odoo.service.server", Message: "Worker (42) CPU time limit (60) reached."}, Resource},
		{"disk full", Record{Level: LevelError, Message: "OSError: [Errno 28] No space left on device"}, Resource},
		{"deadlock", Record{Level: LevelError, Message: "bad query: b'UPDATE x'", Continuation: []string{"ERROR: deadlock detected"}}, Serialization},
		{"bare Connection refused (last-resort rule)", Record{Level: LevelError,
			Message: "Max retries exceeded: [Errno 111] Connection refused"}, DatabaseConnection},
		{"plain info", Record{Level: LevelInfo, Logger: "odoo.modules.loading", Message: "loading 48 modules..."}, Other},
	}
	for _, tt := range tests {
		if got := Classify(tt.rec); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}
