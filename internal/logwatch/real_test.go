package logwatch

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The logs of real Odoo 18.0 runs, see testdata/real/README.md.
const realDir = "testdata/real"

func readRealLog(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(realDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noted is one record the log monitor counts, as the tests compare it.
type noted struct {
	level    Level
	category Category
	message  string // up to the first digit, so PIDs and sizes do not matter
}

var digits = regexp.MustCompile(`[0-9].*`)

func notedRecords(data []byte) []noted {
	var out []noted
	p := NewParser(bytes.NewReader(data))
	for rec, ok := p.Next(); ok; rec, ok = p.Next() {
		if Notable(rec) {
			out = append(out, noted{rec.Level, Classify(rec), digits.ReplaceAllString(rec.Message, "")})
		}
	}
	return out
}

// realExpect is, for each real log, the records the log monitor must count
// and their category, each with how often it occurs (at least once; for the
// server logs, whose length depends on timing, "at least").
var realExpect = map[string]struct {
	want    map[noted]int
	atLeast bool
}{
	"init.log":       {want: map[noted]int{}},
	"upgrade.log":    {want: map[noted]int{}},
	"neutralize.log": {want: map[noted]int{}},
	"upgrade-broken.log": {want: map[noted]int{
		{LevelError, ModuleLoading, "Failed to load registry"}:                    1,
		{LevelCritical, ModuleLoading, "Failed to initialize database `broken`."}: 1,
	}},
	"upgrade-missing.log": {want: map[noted]int{
		{LevelError, ModuleLoading, "Some modules have inconsistent states, some dependencies may be missing: ['odoo_operator_shop_report']"}: 1,
	}},
	"serve-missing.log": {want: map[noted]int{
		{LevelError, ModuleLoading, "Some modules are not loaded, some dependencies or manifest may be missing: ['odoo_operator_shop_report']"}: 1,
	}},
	"serve-errors.log": {atLeast: true, want: map[noted]int{
		{LevelError, DatabaseSchema, "bad query: b'SELECT price_eur FROM odoo_operator_shop_product'"}: 2,
		{LevelError, DatabaseSchema, "price sync of database errors failed"}:                           2,
	}},
	// The errors variant serves it, so its price sync errors are there too.
	"prefork-cpu-limit.log": {atLeast: true, want: map[noted]int{
		{LevelInfo, Resource, "Worker ("}:  1, // "Worker (N) CPU time limit (2) reached."
		{LevelError, Resource, "Worker ("}: 1, // "Worker (N) Exception occurred, exiting..." + "Exception: CPU time limit exceeded."
		{LevelError, DatabaseSchema, "bad query: b'SELECT price_eur FROM odoo_operator_shop_product'"}: 1,
		{LevelError, DatabaseSchema, "price sync of database prefork failed"}:                          1,
	}},
	"prefork-memory-limit.log": {atLeast: true, want: map[noted]int{
		{LevelInfo, Resource, "Worker ("}:                                 1, // "Worker (N) virtual memory limit (M) reached."
		{LevelWarning, Resource, "Gevent virtual memory limit reached: "}: 1,
	}},
}

// TestClassifyRealLogs checks the log monitor's reading of every real log:
// which records it counts and in which category, and that nothing else is
// counted.
func TestClassifyRealLogs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(realDir, "*.log"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no real logs: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		exp, ok := realExpect[name]
		if !ok {
			t.Errorf("%s has no expectation", name)
			continue
		}
		checkNoted(t, name, notedRecords(readRealLog(t, name)), exp.want, exp.atLeast)
	}
}

func checkNoted(t *testing.T, name string, got []noted, want map[noted]int, atLeast bool) {
	t.Helper()
	counts := map[noted]int{}
	for _, n := range got {
		counts[n]++
	}
	for n, c := range counts {
		w, ok := want[n]
		switch {
		case !ok:
			t.Errorf("%s: counted %d× %+v, not expected", name, c, n)
		case atLeast && c < w, !atLeast && c != w:
			t.Errorf("%s: %+v counted %d×, want %d", name, n, c, w)
		}
	}
	for n := range want {
		if counts[n] == 0 {
			t.Errorf("%s: %+v not counted", name, n)
		}
	}
}

// relayouts rewrite a real log the ways logs reach the operator or a person
// reading them; the monitor must count the same records in the same
// categories.
var relayouts = []struct {
	name string
	fn   func(line string) string
}{
	{"CRI file", func(l string) string { return "2026-12-07T03:09:06.680123456Z stderr F " + l }},
	{"kubectl logs --timestamps", func(l string) string { return "2026-12-07T03:09:06.680123456Z " + l }},
	{"journald", func(l string) string { return "Dec 07 03:09:06 node-1 odoo[1]: " + l }},
	{"coloured levels", func(l string) string {
		for _, lv := range []string{" INFO ", " WARNING ", " ERROR ", " CRITICAL "} {
			if i := strings.Index(l, lv); i > 0 && i < 40 {
				return l[:i+1] + "\x1b[1;32m\x1b[1;49m" + strings.TrimSpace(lv) + "\x1b[0m" + l[i+len(lv)-1:]
			}
		}
		return l
	}},
	{"pasted without timestamp and PID", func(l string) string {
		if m := odooPrefix.FindStringIndex(l); m != nil {
			return l[m[1]:]
		}
		return l
	}},
	{"Odoo's --syslog layout", func(l string) string {
		if m := odooFields.FindStringSubmatch(l); m != nil {
			return "Dec  7 03:09:06 node-1 Odoo Server 18.0:" + m[2] + ":" + m[1] + ":" + m[3] + ":" + m[4]
		}
		return l
	}},
	{"OpenERP logger names", func(l string) string {
		return strings.Replace(l, " odoo.", " openerp.", 1)
	}},
}

var (
	odooPrefix = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ `)
	odooFields = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ (\w+) (\S*) ([\w.\-]+): (.*)$`)
)

func relayout(data []byte, fn func(string) string) []byte {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, l := range lines {
		lines[i] = fn(l)
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

func TestClassifyRealLogsRelaidOut(t *testing.T) {
	for name, exp := range realExpect {
		data := readRealLog(t, name)
		for _, rl := range relayouts {
			checkNoted(t, name+" ("+rl.name+")", notedRecords(relayout(data, rl.fn)), exp.want, exp.atLeast)
		}
	}
}

// TestClassifyRealTracebackWithoutHeader cuts each real traceback's
// "Traceback (most recent call last):" line and the lines before it in the
// record: the exception is still found and the category unchanged.
func TestClassifyRealTracebackWithoutHeader(t *testing.T) {
	for _, name := range []string{"upgrade-broken.log", "serve-errors.log", "prefork-cpu-limit.log"} {
		p := NewParser(bytes.NewReader(readRealLog(t, name)))
		n := 0
		for rec, ok := p.Next(); ok; rec, ok = p.Next() {
			if len(rec.Continuation) == 0 || rec.Continuation[0] != tracebackStart {
				continue
			}
			n++
			cut := rec
			cut.Continuation = rec.Continuation[1:]
			if got, want := exceptionLine(cut), exceptionLine(rec); got != want || want == "" {
				t.Errorf("%s: %q: exception %q without the header, %q with", name, rec.Message, got, want)
			}
			if got, want := Classify(cut), Classify(rec); got != want {
				t.Errorf("%s: %q: %s without the header, %s with", name, rec.Message, got, want)
			}
			// Read from the middle: the record starts at a frame line.
			orphan := Record{Message: cut.Continuation[0], Continuation: cut.Continuation[1:]}
			if exceptionLine(orphan) == "" && len(cut.Continuation) > 2 {
				t.Errorf("%s: %q: no exception in the headless record", name, rec.Message)
			}
		}
		if n == 0 {
			t.Errorf("%s: no traceback", name)
		}
	}
}

// TestRealLogSummary logs the monitor's reading of all real logs by
// category and layout: the figures of docs/performance.md.
func TestRealLogSummary(t *testing.T) {
	type key struct{ layout, cat string }
	counts := map[key]int{}
	names := make([]string, 0, len(realExpect))
	for name := range realExpect {
		names = append(names, name)
	}
	sort.Strings(names)
	layouts := append([]struct {
		name string
		fn   func(string) string
	}{{"as written", func(l string) string { return l }}}, relayouts...)
	for _, rl := range layouts {
		for _, name := range names {
			for _, n := range notedRecords(relayout(readRealLog(t, name), rl.fn)) {
				counts[key{rl.name, fmt.Sprintf("%s/%s", n.category, n.level)}]++
			}
		}
	}
	for _, rl := range layouts {
		var parts []string
		for k, c := range counts {
			if k.layout == rl.name {
				parts = append(parts, fmt.Sprintf("%s=%d", k.cat, c))
			}
		}
		sort.Strings(parts)
		t.Logf("%-34s %s", rl.name, strings.Join(parts, " "))
	}
}

// BenchmarkParseClassifyReal parses every real log and counts the records
// the monitor notes, as written and in the other layouts.
func BenchmarkParseClassifyReal(b *testing.B) {
	names := make([]string, 0, len(realExpect))
	for name := range realExpect {
		names = append(names, name)
	}
	sort.Strings(names)
	var all []byte
	for _, name := range names {
		all = append(all, readRealLog(b, name)...)
	}
	layouts := append([]struct {
		name string
		fn   func(string) string
	}{{"as written", func(l string) string { return l }}}, relayouts...)
	for _, rl := range layouts {
		data := relayout(all, rl.fn)
		b.Run(strings.ReplaceAll(rl.name, " ", "_"), func(b *testing.B) {
			r := bytes.NewReader(data)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			noted := 0
			for b.Loop() {
				r.Reset(data)
				p := NewParser(r)
				for rec, ok := p.Next(); ok; rec, ok = p.Next() {
					if Notable(rec) && Classify(rec) != "" {
						noted++
					}
				}
			}
			if noted == 0 {
				b.Fatal("nothing noted")
			}
		})
	}
}
