package logwatch

import (
	"testing"
	"time"
)

func rec(t time.Time, level Level, msg string) Record {
	return Record{Time: t, Level: level, Logger: "odoo.sql_db", Message: msg}
}

func TestAggregatorDeduplicatesAndWindows(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	a := NewAggregator(10 * time.Minute)
	a.Sampled()
	a.Add(rec(now.Add(-30*time.Second), LevelError, `bad query: SELECT 1 FROM res_partner WHERE id = 42`))
	a.Add(rec(now.Add(-20*time.Second), LevelError, `bad query: SELECT 1 FROM res_partner WHERE id = 43`))
	a.Add(rec(now.Add(-5*time.Minute), LevelCritical, `Failed to initialize database `+"`shop`"))
	a.Add(rec(now.Add(-20*time.Minute), LevelError, `too old to count`))
	a.Add(rec(now.Add(-10*time.Second), LevelWarning, `warnings are not errors`))

	h := a.Health(now)
	if h.Errors != 3 {
		t.Errorf("errors in the window = %d, want 3", h.Errors)
	}
	if h.LastMinute != 2 {
		t.Errorf("errors in the last minute = %d, want 2", h.LastMinute)
	}
	if len(h.Distinct) != 2 {
		t.Fatalf("distinct = %+v, want 2 signatures", h.Distinct)
	}
	if h.Distinct[0].Count != 2 || h.Distinct[0].Time != now.Add(-20*time.Second) {
		t.Errorf("newest first with the count of repeats: %+v", h.Distinct[0])
	}
	if h.Distinct[1].Level != LevelCritical {
		t.Errorf("second = %+v", h.Distinct[1])
	}
	if !h.LastError.Equal(now.Add(-20 * time.Second)) {
		t.Errorf("last error = %v", h.LastError)
	}
	fresh, critical := a.TakeNew()
	if len(fresh) != 3 || len(critical) != 1 {
		t.Errorf("new signatures %d (want 3, the old one included), critical %d (want 1)", len(fresh), len(critical))
	}
	if fresh, critical = a.TakeNew(); len(fresh)+len(critical) != 0 {
		t.Error("TakeNew returned the same errors twice")
	}
	if h := a.Health(now.Add(11 * time.Minute)); h.Errors != 0 || len(h.Distinct) != 0 {
		t.Errorf("after the window: %+v", h)
	}
}

func TestAggregatorMemoryIsBounded(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	a := NewAggregator(time.Hour)
	for i := range 5000 {
		a.Add(rec(now.Add(time.Duration(i)*time.Millisecond), LevelError, "error kind "+string(rune('a'+i%26))+string(rune('a'+(i/26)%26))+string(rune('a'+(i/676)%26))))
	}
	if len(a.entries) > maxSignatures {
		t.Errorf("%d signatures kept, bound is %d", len(a.entries), maxSignatures)
	}
	for i := range 3 * maxOccurrences {
		a.Add(rec(now.Add(time.Duration(i)*time.Microsecond), LevelError, "the same error"))
	}
	for _, e := range a.entries {
		if len(e.times) > maxOccurrences {
			t.Errorf("%d occurrences kept for one signature, bound is %d", len(e.times), maxOccurrences)
		}
	}
}
