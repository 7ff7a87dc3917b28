// Package retention decides which backups a schedule keeps: a number of
// daily, weekly and monthly backups, as Odoo.sh does (7 daily, 4 weekly and
// 3 monthly by default), never the newest good one.
package retention

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Backup is one backup of a series.
type Backup struct {
	Name string
	// Time is when the backup was taken (its start).
	Time time.Time
	// OK tells a complete, verified backup from a failed or partial one.
	OK bool
}

// Policy is how many backups of each period to keep. A count below zero
// counts as zero.
type Policy struct {
	KeepDaily   int
	KeepWeekly  int
	KeepMonthly int
}

// DefaultPolicy is Odoo.sh's: 7 daily, 4 weekly and 3 monthly backups.
func DefaultPolicy() Policy { return Policy{KeepDaily: 7, KeepWeekly: 4, KeepMonthly: 3} }

// Decision is what Plan decided for one backup, and why.
type Decision struct {
	Backup
	Keep bool
	// Reason is e.g. "daily 3/7", "weekly 1/4", "monthly 2/3", "newest good
	// backup", "failed, newer than the newest good backup", "failed, older
	// than the newest good backup" or "not selected".
	Reason string
}

// Select splits backups into those to keep and those to drop, both newest
// first. See Plan for the rules.
func Select(backups []Backup, p Policy, now time.Time) (keep, drop []Backup) {
	for _, d := range Plan(backups, p, now) {
		if d.Keep {
			keep = append(keep, d.Backup)
		} else {
			drop = append(drop, d.Backup)
		}
	}
	return keep, drop
}

// Plan decides for every backup, newest first (ties by name, descending),
// whether it is kept:
//
//   - Only good backups (OK) fill the slots. The rules run in the order
//     daily, weekly, monthly. A rule walks the good backups newest first and
//     looks at the newest backup of each of its periods (calendar day, ISO
//     week starting on Monday, calendar month): that backup takes one of the
//     rule's slots unless an earlier rule already kept it, in which case the
//     period is passed over without using a slot. The rule stops when its
//     slots are used. So with daily backups and the default policy, 14
//     backups are kept: the last 7 days, then 4 older weeks, then 3 older
//     months (the rules of borg prune).
//   - The newest good backup is always kept, whatever the policy.
//   - A failed backup never takes a slot. It is kept while it is newer than
//     the newest good backup, or as new (it tells of a recent failure, or of
//     a backup still running), and dropped once a good backup is newer. Without any
//     good backup, every failed one is kept.
//
// Slots count periods that hold a backup, not periods back from now, so a
// series that stopped (a broken schedule) keeps its backups rather than
// ageing them all out. now gives the time zone of the calendar: periods
// start at midnight in now's location.
func Plan(backups []Backup, p Policy, now time.Time) []Decision {
	loc := now.Location()
	ds := make([]Decision, len(backups))
	for i, b := range backups {
		ds[i] = Decision{Backup: b}
	}
	slices.SortStableFunc(ds, func(a, b Decision) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.Name, a.Name)
	})
	var good []int
	for i := range ds {
		if ds[i].OK {
			good = append(good, i)
		}
	}
	rules := []struct {
		name   string
		n      int
		period func(time.Time) string
	}{
		{"daily", p.KeepDaily, func(t time.Time) string { return t.In(loc).Format("2006-01-02") }},
		{"weekly", p.KeepWeekly, func(t time.Time) string {
			y, w := t.In(loc).ISOWeek()
			return fmt.Sprintf("%d-W%02d", y, w)
		}},
		{"monthly", p.KeepMonthly, func(t time.Time) string { return t.In(loc).Format("2006-01") }},
	}
	for _, r := range rules {
		used, last := 0, ""
		for _, i := range good {
			if used >= r.n {
				break
			}
			period := r.period(ds[i].Time)
			if period == last {
				continue
			}
			last = period
			if !ds[i].Keep {
				used++
				ds[i].Keep, ds[i].Reason = true, fmt.Sprintf("%s %d/%d", r.name, used, r.n)
			}
		}
	}
	var newestGood *Decision
	if len(good) > 0 {
		newestGood = &ds[good[0]]
		if !newestGood.Keep {
			newestGood.Keep, newestGood.Reason = true, "newest good backup"
		}
	}
	for i := range ds {
		d := &ds[i]
		switch {
		case d.OK && !d.Keep:
			d.Reason = "not selected"
		case d.OK:
		case newestGood == nil:
			d.Keep, d.Reason = true, "failed, no good backup yet"
		case !d.Time.Before(newestGood.Time):
			d.Keep, d.Reason = true, "failed, newer than the newest good backup"
		default:
			d.Reason = "failed, older than the newest good backup"
		}
	}
	return ds
}
