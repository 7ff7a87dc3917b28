package logwatch

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestParserSampleRecords(t *testing.T) {
	var one sample
	for _, s := range loadSamples(t) {
		if s.num == 1 {
			one = s
		}
	}
	recs := parseString(t, one.text())
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	bad := recs[0]
	if want := time.Date(2025, 3, 30, 17, 8, 55, 986e6, time.UTC); !bad.Time.Equal(want) || bad.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v", bad.Time, want)
	}
	if bad.PID != 1628032 || bad.Level != LevelError || bad.Database != "REDACTED" || bad.Logger != "odoo.sql_db" {
		t.Errorf("prefix fields = %d %q %q %q", bad.PID, bad.Level, bad.Database, bad.Logger)
	}
	if !strings.HasPrefix(bad.Message, `bad query: b'SELECT "res_lang"."id"`) || !strings.HasSuffix(bad.Message, `ORDER BY "res_lang"."name"  '`) {
		t.Errorf("Message = %q", bad.Message)
	}
	wantCont := []string{
		"ERROR: column res_lang.short_date_format does not exist",
		`LINE 1: ..."res_lang"."direction", "res_lang"."date_format", "res_lang"...`,
		"                                                             ^",
		`HINT:  Perhaps you meant to reference the column "res_lang.short_time_format".`,
		"",
	}
	if !reflect.DeepEqual(bad.Continuation, wantCont) {
		t.Errorf("Continuation = %q, want %q", bad.Continuation, wantCont)
	}
	if got := recs[1]; got.Message != "Exception during request handling." || len(got.Continuation) != 4 ||
		got.Continuation[0] != "Traceback (most recent call last):" || got.Continuation[3] != "        ~^^^^^" {
		t.Errorf("second record = %+v", got)
	}
}

func TestParserPrefixFields(t *testing.T) {
	recs := parseString(t, ""+
		"2025-02-19 18:09:27,482 1201 INFO  odoo.addons.base.models.ir_model: Access Denied by ACLs \n"+
		"2024-07-12 08:51:38,893 6390 CRITICAL ? odoo.modules.module: Couldn't load module web \n"+
		"2019-03-12 14:09:04,908 291 DEBUG ? odoo: \n"+
		"2019-03-12 14:09:04,909 7 WARNING odoo-db.prod odoo.tools.config: a: b \t\n")
	want := []struct {
		level       Level
		db, logger  string
		message     string
		pid, millis int
	}{
		{LevelInfo, "", "odoo.addons.base.models.ir_model", "Access Denied by ACLs", 1201, 482},
		{LevelCritical, "", "odoo.modules.module", "Couldn't load module web", 6390, 893},
		{LevelDebug, "", "odoo", "", 291, 908},
		{LevelWarning, "odoo-db.prod", "odoo.tools.config", "a: b", 7, 909},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		if r.Level != w.level || r.Database != w.db || r.Logger != w.logger || r.Message != w.message ||
			r.PID != w.pid || r.Time.Nanosecond() != w.millis*1e6 || len(r.Continuation) != 0 {
			t.Errorf("record %d = %+v, want %+v", i, r, w)
		}
	}
}

// TestParserNearMisses feeds lines that must not open a record: each is the
// continuation of the record before it, as with the regexp in docs B.7.
func TestParserNearMisses(t *testing.T) {
	misses := []string{
		"2025-03-30 17:08:55 1 ERROR db odoo: no milliseconds",
		"2025-03-30 17:08:55.986 1 ERROR db odoo: dot before milliseconds",
		"2025-03-30T17:08:55,986 1 ERROR db odoo: T separator",
		"2025-03-30 17:08:55,986 x1 ERROR db odoo: letter in pid",
		"2025-03-30 17:08:55,986 1234567890 ERROR db odoo: ten-digit pid",
		"2025-03-30 17:08:55,986 1 WARN db odoo: unknown level",
		"2025-03-30 17:08:55,986 1 error db odoo: lower-case level",
		"2025-03-30 17:08:55,986 1 ERROR db odoo:no space after colon",
		"2025-03-30 17:08:55,986 1 ERROR db odoo sql: space in logger",
		"2025-03-30 17:08:55,986 1 ERROR db\todoo: tab in database",
		"2025-03-30 17:08:55,986 1 ERROR db : empty logger",
		"2025-03-30 17:08:55,986 1 ERROR db odoo:",
		// The prefix-less and glued lines this list had are records now
		// (issue 12, point 5): TestParserLooseLayouts.
	}
	in := "2025-03-30 17:08:55,900 1 INFO db odoo: first\n" + strings.Join(misses, "\n") + "\n"
	recs := parseString(t, in)
	if len(recs) != 1 || !reflect.DeepEqual(recs[0].Continuation, misses) {
		t.Fatalf("got %+v", recs)
	}
}

func TestParserLinesBeforeFirstRecord(t *testing.T) {
	recs, st := parseAll(t, strings.NewReader("\n  \n  File \"x.py\", line 1, in f\nValueError: boom\n"+
		"2025-03-30 17:08:55,900 1 INFO db odoo: first\n"))
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	if r := recs[0]; r.Level != "" || !r.Time.IsZero() || r.Message != `  File "x.py", line 1, in f` ||
		!reflect.DeepEqual(r.Continuation, []string{"ValueError: boom"}) {
		t.Errorf("orphan record = %+v", r)
	}
	if want := (Stats{Lines: 5, Records: 2, Dropped: 2}); st != want {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}

func TestParserCRI(t *testing.T) {
	for _, s := range loadSamples(t) {
		plain := parseString(t, s.text())
		for _, split := range []bool{false, true} {
			if got := parseString(t, criWrap(s.text(), split)); !reflect.DeepEqual(got, plain) {
				t.Errorf("sample %d, split %v: CRI-wrapped records differ\n got %+v\nwant %+v", s.num, split, got, plain)
			}
		}
	}
	// A P record continues in the next one; "\r\n" endings are accepted.
	recs := parseString(t, ""+
		"2026-01-01T00:00:00.04Z stderr P 2024-07-12 08:51:38,893 6390 CRITICAL ? odoo.modules.module: Couldn't lo\r\n"+
		"2026-01-01T00:00:00.04Z stderr P ad mod\r\n"+
		"2026-01-01T00:00:00.04Z stderr F ule web \r\n"+
		"2026-01-01T00:00:00.05Z stdout F\r\n"+
		"2026-01-01T00:00:00.06Z stdout F   indented\n")
	if len(recs) != 1 || recs[0].Message != "Couldn't load module web" ||
		!reflect.DeepEqual(recs[0].Continuation, []string{"", "  indented"}) {
		t.Fatalf("got %+v", recs)
	}
}

func TestParserOverlongLine(t *testing.T) {
	head := "2025-03-30 17:08:55,986 1 ERROR db odoo.sql_db: bad query: "
	in := head + strings.Repeat("x", 3*MaxLineBytes) + "\n" +
		"ERROR: " + strings.Repeat("y", 2*MaxLineBytes) + "\n" +
		"2025-03-30 17:08:55,987 1 INFO db odoo: next\n"
	recs, st := parseAll(t, strings.NewReader(in))
	if len(recs) != 2 || recs[1].Message != "next" {
		t.Fatalf("got %d records", len(recs))
	}
	if got := len(recs[0].Message); got != MaxLineBytes-len(head)+len("bad query: ") {
		t.Errorf("message length %d", got)
	}
	if got := recs[0].Continuation; len(got) != 1 || len(got[0]) != MaxLineBytes {
		t.Errorf("continuation not cut to MaxLineBytes")
	}
	if st.Truncated != 2 || st.Lines != 3 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestParserContinuationCaps(t *testing.T) {
	var b strings.Builder
	b.WriteString("2025-03-30 17:08:55,986 1 ERROR db odoo.http: Exception during request handling.\nTraceback (most recent call last):\n")
	const frames = 1000
	for i := 0; i < frames; i++ {
		b.WriteString("  File \"odoo/models.py\", line 1, in f\n")
	}
	b.WriteString("RecursionError: maximum recursion depth exceeded\n")
	// Long lines hit the byte cap before the line cap.
	long := strings.Repeat("z", 2000)
	for i := 0; i < 100; i++ {
		b.WriteString("  " + long + "\n")
	}
	b.WriteString("ValueError: last\n2025-03-30 17:08:55,987 1 INFO db odoo: next\n")

	recs, st := parseAll(t, strings.NewReader(b.String()))
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	r := recs[0]
	size := 0
	for _, l := range r.Continuation {
		size += len(l)
	}
	if len(r.Continuation) > MaxContinuationLines || size > MaxContinuationBytes {
		t.Errorf("kept %d lines, %d bytes", len(r.Continuation), size)
	}
	if total := 1 + frames + 1 + 100 + 1; len(r.Continuation)+r.Dropped != total || st.Dropped != r.Dropped {
		t.Errorf("kept %d + dropped %d != %d lines; Stats %+v", len(r.Continuation), r.Dropped, total, st)
	}
	if r.Continuation[0] != "Traceback (most recent call last):" || r.Continuation[len(r.Continuation)-1] != "ValueError: last" {
		t.Errorf("first and last lines not kept: %q ... %q", r.Continuation[0], r.Continuation[len(r.Continuation)-1])
	}
	if got := exceptionLine(r); got != "ValueError: last" {
		t.Errorf("exceptionLine = %q", got)
	}
}

func TestParserReadError(t *testing.T) {
	boom := errors.New("boom")
	in := "2025-03-30 17:08:55,986 1 ERROR db odoo: one\n2025-03-30 17:08:55,987 1 ERROR db odoo: tw"
	p := NewParser(io.MultiReader(iotest.OneByteReader(strings.NewReader(in)), iotest.ErrReader(boom)))
	var msgs []string
	for rec, ok := p.Next(); ok; rec, ok = p.Next() {
		msgs = append(msgs, rec.Message)
	}
	if !errors.Is(p.Err(), boom) || !reflect.DeepEqual(msgs, []string{"one", "tw"}) {
		t.Fatalf("Err = %v, messages %q", p.Err(), msgs)
	}
	if _, ok := p.Next(); ok {
		t.Fatal("Next after the error returned a record")
	}
}

// TestParserMemoryBounded streams 32 MiB twice, as a mixed log with
// over-long lines and as one runaway record, and checks that the heap does
// not grow with the input.
func TestParserMemoryBounded(t *testing.T) {
	const total = 32 << 20
	frame := "  File \"odoo/models.py\", line 1, in f\n"
	inputs := map[string]io.Reader{
		"mixed": &repeatReader{buf: []byte(string(mixedLog(1<<20)) +
			"2025-03-30 17:08:55,986 1 ERROR db odoo: " + strings.Repeat("x", 1<<20) + "\n"), n: total},
		"runaway record": io.MultiReader(
			strings.NewReader("2025-03-30 17:08:55,986 1 ERROR db odoo: recursion\n"),
			&repeatReader{buf: []byte(frame), n: total}),
	}
	for name, r := range inputs {
		peak, base, st := peakHeap(t, r)
		if grown := int64(peak) - int64(base); grown > 16<<20 {
			t.Errorf("%s: heap grew by %d MiB while parsing %d MiB", name, grown>>20, total>>20)
		}
		if name == "runaway record" && (st.Records != 1 || st.Dropped != (total+len(frame)-1)/len(frame)-MaxContinuationLines) {
			t.Errorf("%s: Stats = %+v", name, st)
		}
	}
}
