package logwatch

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The regexps the hand-written matchers must agree with: the one from docs
// B.7 (PID capped at 9 digits) and the CRI log line.
var (
	refHeader = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (\d{1,9}) (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S*) ([\w.\-]+): (.*)$`)
	refCRI    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT[^ ]+ (?:stdout|stderr) ([FP])(?: (.*))?$`)

	// The layouts parseLoose reads around Odoo's prefix.
	refANSI    = regexp.MustCompile(`\x1b(?:\[[^\x40-\x7e]*[\x40-\x7e]?)?`)
	refOuter   = regexp.MustCompile(`^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:(?:[.,]\d*)(?:Z|[+-]\d\d(?::\d\d|\d\d)?)? ?|Z ?|[+-]\d\d(?::\d\d|\d\d)? ?| )`)
	refSyslog  = regexp.MustCompile(`^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d [^ ]+ (?:[\w.\-/]+(?:\[[^\]]*\])?: )?`)
	refOdooSys = regexp.MustCompile(`^(?:Odoo|OpenERP) Server [^:]*:([^:]*):(DEBUG|INFO|WARNING|ERROR|CRITICAL):([\w.\-]+):(.*)$`)
	refBare    = regexp.MustCompile(`^(DEBUG|INFO|WARNING|ERROR|CRITICAL) ([^ ]*) ((?:odoo|openerp|werkzeug)(?:\.[\w.\-]*)?): (.*)$`)
)

// refRecord is what the reference reads from a line that opens a record.
type refRecord struct {
	level, db, logger, msg string
	pid                    int
	stamp                  string // Odoo's timestamp, "" when none
}

// refParse opens a record from a line the slow way, or returns false.
func refParse(l string) (refRecord, bool) {
	if m := refHeader.FindStringSubmatch(l); m != nil {
		return refFromHeader(m), true
	}
	if len(l) < 8 {
		return refRecord{}, false
	}
	if strings.IndexByte(l, 0x1b) >= 0 {
		l = refANSI.ReplaceAllString(l, "")
		if m := refHeader.FindStringSubmatch(l); m != nil {
			return refFromHeader(m), true
		}
	}
	if m := refOuter.FindString(l); m != "" {
		if h := refHeader.FindStringSubmatch(l[len(m):]); h != nil {
			return refFromHeader(h), true
		}
		return refRecord{}, false
	}
	if m := refSyslog.FindString(l); m != "" {
		l = l[len(m):]
		if h := refHeader.FindStringSubmatch(l); h != nil {
			return refFromHeader(h), true
		}
	}
	if m := refOdooSys.FindStringSubmatch(l); m != nil {
		return refRecord{level: m[2], db: m[1], logger: m[3], msg: m[4]}, true
	}
	if m := refBare.FindStringSubmatch(l); m != nil {
		return refRecord{level: m[1], db: m[2], logger: m[3], msg: m[4]}, true
	}
	return refRecord{}, false
}

func refFromHeader(m []string) refRecord {
	pid, _ := strconv.Atoi(m[2])
	return refRecord{level: m[3], db: m[4], logger: m[5], msg: m[6], pid: pid, stamp: m[1]}
}

// refLines splits data into log lines the slow way: physical lines, "\r"
// removed, CRI prefixes removed with refCRI and P records joined to the next
// line. ok is false when a line would be cut at MaxLineBytes, which the
// parser tests cover on their own.
func refLines(data []byte) (lines []string, ok bool) {
	phys := strings.Split(string(data), "\n")
	if phys[len(phys)-1] == "" {
		phys = phys[:len(phys)-1]
	}
	var join strings.Builder
	joining := false
	for _, l := range phys {
		if len(l) >= MaxLineBytes-1 {
			return nil, false
		}
		l = strings.TrimSuffix(l, "\r")
		content, partial := l, false
		if m := refCRI.FindStringSubmatch(l); m != nil {
			content, partial = m[2], m[1] == "P"
		}
		if !joining && !partial {
			lines = append(lines, content)
			continue
		}
		join.WriteString(content)
		if join.Len() > MaxLineBytes {
			return nil, false
		}
		if joining = partial; !joining {
			lines = append(lines, join.String())
			join.Reset()
		}
	}
	if joining {
		lines = append(lines, join.String())
	}
	return lines, true
}

func FuzzParser(f *testing.F) {
	for _, s := range loadSamples(f) {
		f.Add([]byte(s.text()))
		f.Add([]byte(criWrap(s.text(), true)))
	}
	for _, path := range []string{"../../hack/kwok/logs/broken.log", "../../hack/kwok/logs/healthy.log"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, l := range looseLines {
		f.Add([]byte(l.line + "\n"))
	}
	f.Add([]byte("\n \r\n2025-03-30 17:08:55,986 1 ERROR  x: \n2026-01-01T00:00:00Z stdout P a\n2026-01-01T00:00:00Z stdout P"))

	f.Fuzz(func(t *testing.T, data []byte) {
		p := NewParser(bytes.NewReader(data))
		var recs []Record
		for rec, ok := p.Next(); ok; rec, ok = p.Next() {
			recs = append(recs, rec)
		}
		if p.Err() != nil {
			t.Fatalf("Err = %v", p.Err())
		}
		st := p.Stats()

		// Every line is in exactly one record or counted as dropped.
		inRecords, dropped := 0, 0
		for i, r := range recs {
			inRecords += 1 + len(r.Continuation)
			dropped += r.Dropped
			size := 0
			for _, l := range r.Continuation {
				size += len(l)
			}
			if len(r.Continuation) > MaxContinuationLines || size > MaxContinuationBytes {
				t.Fatalf("record %d keeps %d lines, %d bytes", i, len(r.Continuation), size)
			}
			if r.Level == "" && i > 0 {
				t.Fatalf("record %d has no level but is not first", i)
			}
			if c := Classify(r); !validCategory(c) {
				t.Fatalf("Classify = %q", c)
			}
			if s := Signature(r); len(s) > MaxSignatureBytes {
				t.Fatalf("signature of %d bytes", len(s))
			}
		}
		if inRecords+st.Dropped != st.Lines || dropped > st.Dropped || st.Records != len(recs) {
			t.Fatalf("%d lines in records + %d dropped != %d lines read (records %d/%d)",
				inRecords, st.Dropped, st.Lines, st.Records, len(recs))
		}

		v := JudgeUpgradeLog(bytes.NewReader(data))
		errs := 0
		for _, r := range recs {
			if r.Level == LevelError || r.Level == LevelCritical {
				errs++
			}
		}
		if v.Errors != errs || len(v.ErrorLine) > MaxErrorLineBytes || (v.Module != "" && !v.Failed) {
			t.Fatalf("verdict %+v for %d error records", v, errs)
		}

		// The hand-written matchers agree with the regexps.
		lines, ok := refLines(data)
		if !ok {
			return
		}
		if len(lines) != st.Lines {
			t.Fatalf("parser read %d lines, reference %d", st.Lines, len(lines))
		}
		var headers []refRecord
		for _, l := range lines {
			if m, ok := refParse(l); ok {
				headers = append(headers, m)
			}
		}
		if len(recs) > 0 && recs[0].Level == "" {
			recs = recs[1:]
		}
		if len(recs) != len(headers) {
			t.Fatalf("%d records with a level, %d header lines", len(recs), len(headers))
		}
		for i, m := range headers {
			r := recs[i]
			db := m.db
			if db == "?" {
				db = ""
			}
			if string(r.Level) != m.level || r.PID != m.pid || r.Database != db || r.Logger != m.logger ||
				r.Message != strings.TrimRight(m.msg, " \t") {
				t.Fatalf("record %d = %+v, header %+v", i, r, m)
			}
			if m.stamp == "" && !r.Time.IsZero() {
				t.Fatalf("record %d: Time %v, want none", i, r.Time)
			}
			if ts, err := time.Parse("2006-01-02 15:04:05,000", m.stamp); err == nil && !ts.Equal(r.Time) {
				t.Fatalf("record %d: Time %v, want %v", i, r.Time, ts)
			}
		}
	})
}

func validCategory(c Category) bool {
	switch c {
	case DatabaseSchema, ModuleLoading, DatabaseConnection, Permission, Serialization, Resource, Other:
		return true
	}
	return false
}
