package retention

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func good(name, at string) Backup { return Backup{Name: name, Time: day(at), OK: true} }
func bad(name, at string) Backup  { return Backup{Name: name, Time: day(at)} }

func names(bs []Backup) []string {
	out := []string{}
	for _, b := range bs {
		out = append(out, b.Name)
	}
	return out
}

func TestSelect(t *testing.T) {
	now := day("2025-06-30 12:00")
	cases := []struct {
		name       string
		policy     Policy
		backups    []Backup
		keep, drop []string
	}{{
		name:   "nothing",
		policy: DefaultPolicy(),
		keep:   []string{}, drop: []string{},
	}, {
		name:    "fewer backups than slots are all kept, newest first",
		policy:  DefaultPolicy(),
		backups: []Backup{good("a", "2025-06-28 02:00"), good("c", "2025-06-30 02:00"), good("b", "2025-06-29 02:00")},
		keep:    []string{"c", "b", "a"}, drop: []string{},
	}, {
		name:   "one backup per day: the newest of the day",
		policy: Policy{KeepDaily: 2},
		backups: []Backup{good("d30-a", "2025-06-30 02:00"), good("d30-b", "2025-06-30 14:00"),
			good("d29-a", "2025-06-29 02:00"), good("d29-b", "2025-06-29 03:00"), good("d28", "2025-06-28 02:00")},
		keep: []string{"d30-b", "d29-b"}, drop: []string{"d30-a", "d29-a", "d28"},
	}, {
		name:    "a zero policy still keeps the newest good backup",
		policy:  Policy{},
		backups: []Backup{good("old", "2025-06-01 02:00"), good("new", "2025-06-29 02:00")},
		keep:    []string{"new"}, drop: []string{"old"},
	}, {
		name:    "negative counts are zero",
		policy:  Policy{KeepDaily: -1, KeepWeekly: -5, KeepMonthly: -2},
		backups: []Backup{good("old", "2025-06-01 02:00"), good("new", "2025-06-29 02:00")},
		keep:    []string{"new"}, drop: []string{"old"},
	}, {
		name:   "failed backups take no slot and go once older than the newest good one",
		policy: Policy{KeepDaily: 2},
		backups: []Backup{bad("f30", "2025-06-30 02:00"), good("g29", "2025-06-29 02:00"), bad("f28", "2025-06-28 02:00"),
			good("g27", "2025-06-27 02:00"), good("g26", "2025-06-26 02:00")},
		keep: []string{"f30", "g29", "g27"}, drop: []string{"f28", "g26"},
	}, {
		name:    "a failed backup as new as the newest good one is kept",
		policy:  Policy{KeepDaily: 1},
		backups: []Backup{good("g", "2025-06-30 02:00"), bad("f", "2025-06-30 02:00")},
		keep:    []string{"g", "f"}, drop: []string{},
	}, {
		name:    "without a good backup every failed one is kept",
		policy:  DefaultPolicy(),
		backups: []Backup{bad("f1", "2025-01-01 02:00"), bad("f2", "2025-03-01 02:00"), bad("f3", "2025-06-30 02:00")},
		keep:    []string{"f3", "f2", "f1"}, drop: []string{},
	}, {
		name:   "the newest good backup is kept even when only failed backups follow it",
		policy: Policy{},
		backups: []Backup{good("g1", "2025-05-01 02:00"), good("g2", "2025-05-02 02:00"),
			bad("f1", "2025-06-01 02:00"), bad("f0", "2025-04-01 02:00")},
		keep: []string{"f1", "g2"}, drop: []string{"g1", "f0"},
	}, {
		// 2025-06-29 is a Sunday, 06-30 a Monday: two ISO weeks. 06-23 is
		// the Monday of the week before.
		name:   "weeks start on Monday",
		policy: Policy{KeepWeekly: 3},
		backups: []Backup{good("mon30", "2025-06-30 02:00"), good("sun29", "2025-06-29 02:00"), good("sat28", "2025-06-28 02:00"),
			good("mon23", "2025-06-23 02:00"), good("sun22", "2025-06-22 02:00")},
		keep: []string{"mon30", "sun29", "sun22"}, drop: []string{"sat28", "mon23"},
	}, {
		name:   "a period already kept by the daily rule uses no weekly or monthly slot",
		policy: Policy{KeepDaily: 1, KeepWeekly: 1, KeepMonthly: 1},
		backups: []Backup{good("jun30", "2025-06-30 02:00"), good("jun29", "2025-06-29 02:00"), good("jun22", "2025-06-22 02:00"),
			good("may31", "2025-05-31 02:00"), good("may30", "2025-05-30 02:00"), good("apr30", "2025-04-30 02:00")},
		keep: []string{"jun30", "jun29", "may31"}, drop: []string{"jun22", "may30", "apr30"},
	}, {
		name:    "gaps do not age backups out: slots count periods that hold a backup",
		policy:  Policy{KeepDaily: 2, KeepMonthly: 2},
		backups: []Backup{good("jan10", "2025-01-10 02:00"), good("jan05", "2025-01-05 02:00"), good("dec01", "2024-12-01 02:00"), good("nov01", "2024-11-01 02:00")},
		keep:    []string{"jan10", "jan05", "dec01", "nov01"}, drop: []string{},
	}, {
		name:    "ties on time are broken by name, descending",
		policy:  Policy{KeepDaily: 1},
		backups: []Backup{good("a", "2025-06-30 02:00"), good("b", "2025-06-30 02:00")},
		keep:    []string{"b"}, drop: []string{"a"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := slices.Clone(c.backups)
			keep, drop := Select(in, c.policy, now)
			if got := names(keep); !slices.Equal(got, c.keep) {
				t.Errorf("keep %v, want %v", got, c.keep)
			}
			if got := names(drop); !slices.Equal(got, c.drop) {
				t.Errorf("drop %v, want %v", got, c.drop)
			}
			if !slices.Equal(in, c.backups) {
				t.Error("Select changed its input")
			}
		})
	}
}

// Calendar periods are those of now's time zone.
func TestSelectUsesTheTimeZoneOfNow(t *testing.T) {
	// 22:30 and 23:30 UTC on 06-29 are 00:30 and 01:30 on 06-30 in UTC+2;
	// 21:30 UTC is still 06-29 there.
	backups := []Backup{good("a", "2025-06-29 21:30"), good("b", "2025-06-29 22:30"), good("c", "2025-06-29 23:30")}
	keep, _ := Select(backups, Policy{KeepDaily: 7}, day("2025-06-30 12:00"))
	if got := names(keep); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("UTC: keep %v, want [c]", got)
	}
	plus2 := time.FixedZone("UTC+2", 2*3600)
	keep, _ = Select(backups, Policy{KeepDaily: 7}, day("2025-06-30 12:00").In(plus2))
	if got := names(keep); !slices.Equal(got, []string{"c", "a"}) {
		t.Fatalf("UTC+2: keep %v, want [c a]", got)
	}
}

func TestPlanGivesReasons(t *testing.T) {
	ds := Plan([]Backup{bad("f2", "2025-06-30 02:00"), good("g1", "2025-06-29 02:00"), bad("f0", "2025-06-28 02:00"), good("g0", "2025-06-01 02:00")},
		Policy{}, day("2025-06-30 12:00"))
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%s %v %s", d.Name, d.Keep, d.Reason))
	}
	want := []string{
		"f2 true failed, newer than the newest good backup",
		"g1 true newest good backup",
		"f0 false failed, older than the newest good backup",
		"g0 false not selected",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// simulateYear takes one backup a day at 02:00 UTC through 2025, failed on
// the days failed says, and after each one drops what Select drops, as a
// schedule would. It returns what is left at the end.
func simulateYear(t *testing.T, failed func(time.Time) bool) (left, all []Backup) {
	t.Helper()
	var have []Backup
	for d := day("2025-01-01 02:00"); d.Year() == 2025; d = d.AddDate(0, 0, 1) {
		b := Backup{Name: d.Format("backup-2006-01-02"), Time: d, OK: !failed(d)}
		all = append(all, b)
		have = append(have, b)
		keep, drop := Select(have, DefaultPolicy(), d.Add(time.Hour))
		if len(keep)+len(drop) != len(have) {
			t.Fatalf("%s: %d kept + %d dropped of %d", d, len(keep), len(drop), len(have))
		}
		if b.OK && (len(keep) == 0 || keep[0] != b) {
			t.Fatalf("%s: the newest good backup is not kept first: %v", d, names(keep))
		}
		have = keep
	}
	return have, all
}

func TestSimulatedYearOfDailies(t *testing.T) {
	left, all := simulateYear(t, func(time.Time) bool { return false })
	// The last 7 days; the Sundays of the 4 ISO weeks before those (the
	// weeks of 12-29 and 12-22 are kept by the dailies); the last days of
	// the 3 months before (December's and November's newest are kept
	// already).
	want := []string{
		"backup-2025-12-31", "backup-2025-12-30", "backup-2025-12-29", "backup-2025-12-28",
		"backup-2025-12-27", "backup-2025-12-26", "backup-2025-12-25",
		"backup-2025-12-21", "backup-2025-12-14", "backup-2025-12-07", "backup-2025-11-30",
		"backup-2025-10-31", "backup-2025-09-30", "backup-2025-08-31",
	}
	if got := names(left); !slices.Equal(got, want) {
		t.Fatalf("after a year of dailies, pruned daily, kept:\n%v\nwant:\n%v", got, want)
	}
	// Pruning once at the end keeps the same set: daily pruning never
	// dropped a backup that a later day would have kept.
	keep, drop := Select(all, DefaultPolicy(), day("2025-12-31 03:00"))
	if got := names(keep); !slices.Equal(got, want) || len(drop) != 365-14 {
		t.Fatalf("pruned once: keep %v (%d dropped)", got, len(drop))
	}
}

func TestSimulatedYearWithFailures(t *testing.T) {
	// Every 10th day of the year fails, and so does the last day.
	failed := func(d time.Time) bool { return d.YearDay()%10 == 0 || (d.Month() == 12 && d.Day() == 31) }
	left, all := simulateYear(t, failed)
	// 12-31 failed: kept, since it is newer than the newest good backup.
	// 12-26 (day 360) failed: dropped, it takes no daily slot, and the 7
	// daily slots reach back to 12-23. 11-30 (day 334) is good and closes
	// its week and month; 10-27 (day 300) failed, but October's newest is
	// 10-31.
	want := []string{
		"backup-2025-12-31", "backup-2025-12-30", "backup-2025-12-29", "backup-2025-12-28",
		"backup-2025-12-27", "backup-2025-12-25", "backup-2025-12-24", "backup-2025-12-23",
		"backup-2025-12-21", "backup-2025-12-14", "backup-2025-12-07", "backup-2025-11-30",
		"backup-2025-10-31", "backup-2025-09-30", "backup-2025-08-31",
	}
	if got := names(left); !slices.Equal(got, want) {
		t.Fatalf("kept:\n%v\nwant:\n%v", got, want)
	}
	for _, b := range left[1:] {
		if !b.OK {
			t.Fatalf("failed backup %s kept although a good one is newer", b.Name)
		}
	}
	keep, _ := Select(all, DefaultPolicy(), day("2025-12-31 03:00"))
	if got := names(keep); !slices.Equal(got, want) {
		t.Fatalf("pruned once: keep %v", got)
	}
}
