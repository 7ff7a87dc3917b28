package logwatch

import (
	"slices"
	"time"
)

// MaxErrors is how many distinct errors a Health lists (status.health.errors).
const MaxErrors = 10

// ErrorEntry is one distinct error (one signature) seen in the window.
type ErrorEntry struct {
	Signature string
	// Time is the newest occurrence.
	Time     time.Time
	Level    Level
	Message  string
	Category Category
	// Count is the number of occurrences in the window.
	Count int
	// times are the occurrences in the window, oldest first.
	times []time.Time
}

// Health is an instance's error picture over the window.
type Health struct {
	// Errors is the number of Notable records in the window: ERROR and
	// CRITICAL records and the limit hits Odoo logs at INFO or WARNING.
	Errors int
	// LastMinute is the number of them in the minute before the newest
	// sample: the rate compared with spec.rollback.errorThreshold.
	LastMinute int
	// LastError is the newest error's time (zero when none).
	LastError time.Time
	// Distinct are the distinct errors, newest first, at most MaxErrors.
	Distinct []ErrorEntry
	// Sampled is true once at least one sample was read.
	Sampled bool
}

// Aggregator keeps the errors of one instance within a sliding window,
// deduplicated by signature. It holds at most maxSignatures signatures, so
// its memory is bounded whatever the logs say.
type Aggregator struct {
	window  time.Duration
	entries map[string]*ErrorEntry
	sampled bool
	// fresh are signatures first seen since the last TakeNew, and critical
	// counts CRITICAL records since then: the material of Warning events.
	fresh    []ErrorEntry
	critical []ErrorEntry
}

// maxSignatures bounds the distinct errors an Aggregator tracks; the oldest
// are forgotten first.
const maxSignatures = 200

// maxOccurrences bounds the occurrences kept per signature; counts above it
// saturate.
const maxOccurrences = 10000

// NewAggregator returns an Aggregator over window.
func NewAggregator(window time.Duration) *Aggregator {
	return &Aggregator{window: window, entries: map[string]*ErrorEntry{}}
}

// Sampled records that a sample was read, even one without errors.
func (a *Aggregator) Sampled() { a.sampled = true }

// Add records rec if it is Notable: an ERROR or CRITICAL record, or a
// limit hit or unprefixed problem line.
func (a *Aggregator) Add(rec Record) {
	if !Notable(rec) {
		return
	}
	sig := Signature(rec)
	e, ok := a.entries[sig]
	if !ok {
		if len(a.entries) >= maxSignatures {
			a.forgetOldest()
		}
		e = &ErrorEntry{Signature: sig, Category: Classify(rec)}
		a.entries[sig] = e
	}
	if !rec.Time.Before(e.Time) {
		e.Time, e.Level, e.Message = rec.Time, rec.Level, headline(rec)
	}
	i, _ := slices.BinarySearchFunc(e.times, rec.Time, func(t, target time.Time) int { return t.Compare(target) })
	e.times = slices.Insert(e.times, i, rec.Time)
	if len(e.times) > maxOccurrences {
		// A storm of one error: keep the newest occurrences only.
		e.times = slices.Delete(e.times, 0, len(e.times)-maxOccurrences)
	}
	if !ok {
		a.fresh = append(a.fresh, *e)
	}
	if rec.Level == LevelCritical {
		a.critical = append(a.critical, *e)
	}
}

// headline is the message shown for a record: logger and first line, bounded.
func headline(rec Record) string {
	msg := rec.Message
	if rec.Logger != "" {
		msg = rec.Logger + ": " + msg
	}
	if len(msg) > MaxErrorLineBytes {
		msg = msg[:MaxErrorLineBytes]
	}
	return msg
}

func (a *Aggregator) forgetOldest() {
	var oldest *ErrorEntry
	for _, e := range a.entries {
		if oldest == nil || e.Time.Before(oldest.Time) {
			oldest = e
		}
	}
	delete(a.entries, oldest.Signature)
}

// Health prunes what fell out of the window before now and returns the
// picture.
func (a *Aggregator) Health(now time.Time) Health {
	h := Health{Sampled: a.sampled}
	cutoff, minute := now.Add(-a.window), now.Add(-time.Minute)
	for sig, e := range a.entries {
		i, _ := slices.BinarySearchFunc(e.times, cutoff, func(t, target time.Time) int { return t.Compare(target) })
		e.times = e.times[i:]
		if len(e.times) == 0 {
			delete(a.entries, sig)
			continue
		}
		e.Count = len(e.times)
		h.Errors += e.Count
		j, _ := slices.BinarySearchFunc(e.times, minute, func(t, target time.Time) int { return t.Compare(target) })
		h.LastMinute += len(e.times) - j
		if e.Time.After(h.LastError) {
			h.LastError = e.Time
		}
		entry := *e
		entry.times = nil
		h.Distinct = append(h.Distinct, entry)
	}
	slices.SortFunc(h.Distinct, func(x, y ErrorEntry) int {
		if c := y.Time.Compare(x.Time); c != 0 {
			return c
		}
		return compareStrings(x.Signature, y.Signature)
	})
	if len(h.Distinct) > MaxErrors {
		h.Distinct = h.Distinct[:MaxErrors]
	}
	return h
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TakeNew returns the signatures first seen and the CRITICAL records since
// the last call, and forgets them.
func (a *Aggregator) TakeNew() (fresh, critical []ErrorEntry) {
	fresh, critical = a.fresh, a.critical
	a.fresh, a.critical = nil, nil
	return fresh, critical
}
