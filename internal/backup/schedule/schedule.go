// Package schedule parses and checks spec.backup.schedule and finds the
// backup due after a pause, at a cost that does not depend on how long the
// pause was.
//
// A schedule is a standard 5-field cron expression in UTC (or one of the
// named descriptors @yearly, @monthly, @weekly, @daily, @hourly). It is
// refused when it fires closer together than the administrator's floor
// (--backup-min-interval), when it never fires (30 February), for
// "@every <duration>" (a fixed delay, not times), and with a TZ= prefix
// (schedules are in UTC).
package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultMinInterval is the floor when the administrator sets none.
const DefaultMinInterval = time.Hour

// Floor is minInterval, or DefaultMinInterval when it is not set.
func Floor(minInterval time.Duration) time.Duration {
	if minInterval <= 0 {
		return DefaultMinInterval
	}
	return minInterval
}

// Example is a schedule every message can offer as a fix.
const Example = `"0 3 * * *" (03:00 UTC every day)`

// Parse parses a schedule and checks it against the floor minInterval: the
// error says what is wrong and how to fix it (the caller names the field).
func Parse(expr string, minInterval time.Duration) (*cron.SpecSchedule, error) {
	trimmed := strings.TrimSpace(expr)
	switch {
	case strings.HasPrefix(trimmed, "@every"):
		return nil, fmt.Errorf("%q is a fixed delay, not schedule times; use 5 cron fields in UTC, e.g. %s", expr, Example)
	case strings.HasPrefix(trimmed, "TZ=") || strings.HasPrefix(trimmed, "CRON_TZ="):
		return nil, fmt.Errorf("%q: schedules are in UTC; remove the time zone prefix and give the times in UTC, e.g. %s", expr, Example)
	}
	parsed, err := cron.ParseStandard(trimmed)
	if err != nil {
		return nil, fmt.Errorf("%w; use 5 cron fields in UTC, e.g. %s", err, Example)
	}
	s, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("%q is not a cron schedule; use 5 cron fields in UTC, e.g. %s", expr, Example)
	}
	// ParseStandard reads the times in the process's local zone; the
	// schedule is in UTC whatever the operator's host says.
	s.Location = time.UTC
	gap, fires := MinInterval(s)
	if !fires {
		return nil, fmt.Errorf("%q never fires (no such date, e.g. 30 February); choose a date that exists, e.g. %s", expr, Example)
	}
	if gap < minInterval {
		return nil, fmt.Errorf("%q fires every %s at the closest, below the minimum of %s between backups set by the administrator (--backup-min-interval); choose times at least %s apart, e.g. %s",
			expr, gap, minInterval, minInterval, Example)
	}
	return s, nil
}

// The calendar window MinInterval reads: 28 years, over which every
// combination of weekday and leap year occurs (the cycle holds from 1901 to
// 2099).
const (
	windowStart = 2001
	windowYears = 28
)

// MinInterval is the smallest gap between two consecutive times of s, and
// false when s never fires. It reads the times of one day (minutes × hours)
// and the days of a 28-year window once: a bounded cost, whatever the
// schedule.
func MinInterval(s *cron.SpecSchedule) (time.Duration, bool) {
	var times []int // minutes of the day, ascending
	for h := 0; h < 24; h++ {
		if s.Hour&(1<<uint(h)) == 0 {
			continue
		}
		for m := 0; m < 60; m++ {
			if s.Minute&(1<<uint(m)) != 0 {
				times = append(times, h*60+m)
			}
		}
	}
	if len(times) == 0 || s.Second&1 == 0 {
		return 0, false
	}
	const never = 1 << 62
	best := never
	for i := 1; i < len(times); i++ {
		best = min(best, times[i]-times[i-1])
	}
	// The days that fire: the smallest gap between two of them gives the
	// gap from the last time of one to the first time of the next.
	dayGap, prev, day := never, -1, 0
	weekday := int(time.Date(windowStart, 1, 1, 0, 0, 0, 0, time.UTC).Weekday())
	for y := windowStart; y < windowStart+windowYears; y++ {
		for m := time.January; m <= time.December; m++ {
			for d, n := 1, daysIn(y, m); d <= n; d++ {
				if fires(s, m, d, weekday) {
					if prev >= 0 {
						dayGap = min(dayGap, day-prev)
					}
					prev = day
				}
				day, weekday = day+1, (weekday+1)%7
			}
		}
	}
	if prev < 0 {
		return 0, false
	}
	if dayGap != never {
		best = min(best, dayGap*24*60-times[len(times)-1]+times[0])
	}
	if best == never {
		// One time in the whole window (never happens with a 28-year
		// window); it is at least that far apart.
		best = windowYears * 365 * 24 * 60
	}
	return time.Duration(best) * time.Minute, true
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// starBit is robfig/cron's mark of a field given as '*' or '?'.
const starBit = 1 << 63

// fires says whether s fires on that day, as robfig/cron decides: day of
// month and day of week are ANDed when either is '*', else ORed.
func fires(s *cron.SpecSchedule, m time.Month, dom, dow int) bool {
	if s.Month&(1<<uint(m)) == 0 {
		return false
	}
	domMatch := s.Dom&(1<<uint(dom)) != 0
	dowMatch := s.Dow&(1<<uint(dow)) != 0
	if s.Dom&starBit != 0 || s.Dow&starBit != 0 {
		return domMatch && dowMatch
	}
	return domMatch || dowMatch
}

// lookBack bounds Prev's search, as robfig/cron bounds Next's.
const lookBack = 5

// Prev is the newest time of s at or before t (UTC), zero when there is none
// in the five years before t. It walks back month by month, day by day, hour
// by hour and minute by minute, skipping what cannot match: at most a few
// thousand steps, however far back the answer is.
func Prev(s *cron.SpecSchedule, t time.Time) time.Time {
	if s.Second&1 == 0 {
		return time.Time{}
	}
	t = t.UTC().Truncate(time.Minute)
	limit := t.Year() - lookBack
	for t.Year() >= limit {
		y, m, d := t.Date()
		switch {
		case s.Month&(1<<uint(m)) == 0:
			t = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Add(-time.Minute)
		case !fires(s, m, d, int(t.Weekday())):
			t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(-time.Minute)
		case s.Hour&(1<<uint(t.Hour())) == 0:
			t = time.Date(y, m, d, t.Hour(), 0, 0, 0, time.UTC).Add(-time.Minute)
		case s.Minute&(1<<uint(t.Minute())) == 0:
			t = t.Add(-time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

// Due returns the newest schedule time after last and not after now (ok
// false when none), and the next schedule time after now (zero when there
// is none within five years). However long the operator was down, only the
// newest missed time is returned, and the cost does not grow with the
// length of the pause.
func Due(s *cron.SpecSchedule, last, now time.Time) (due, next time.Time, ok bool) {
	p := Prev(s, now)
	if !p.IsZero() && p.After(last) {
		due, ok = p, true
	}
	return due, s.Next(now), ok
}
