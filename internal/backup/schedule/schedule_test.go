package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func mustParse(t testing.TB, expr string) *cron.SpecSchedule {
	t.Helper()
	s, err := Parse(expr, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParse(t *testing.T) {
	tests := []struct {
		expr string
		// wantErr is a part of the message; "" = accepted.
		wantErr string
	}{
		{"0 3 * * *", ""},
		{"@daily", ""},
		{"@hourly", ""},
		{"0 * * * *", ""},
		{"0 0 29 2 *", ""}, // every four years: it fires
		{"@every 1s", "fixed delay"},
		{"@every 2h", "fixed delay"},
		{"* * * * *", "fires every 1m0s at the closest, below the minimum of 1h0m0s"},
		{"*/30 * * * *", "fires every 30m0s"},
		{"0,59 * * * *", "fires every 1m0s"},
		// 23:00 then 00:00 the next day: one hour apart across midnight.
		{"0 0,23 * * *", ""},
		// 23:30 then 00:00 the next day: 30 minutes across midnight.
		{"0,30 0,23 * * *", "fires every 30m0s"},
		// Mondays 23:30 and Tuesdays 00:00 (OR of day of month and day of
		// week): 30 minutes apart across midnight only on those days.
		{"30 23 * * 1", ""},
		{"0 0 30 2 *", "never fires"},
		{"0 0 31 4,6,9,11 *", "never fires"},
		{"0 3 * *", "expected exactly 5 fields"},
		{"CRON_TZ=Europe/Paris 0 3 * * *", "UTC"},
		{"TZ=UTC 0 3 * * *", "UTC"},
		{"", "empty spec string"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := Parse(tt.expr, time.Hour)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("accepted, want an error with %q", tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("error %q lacks %q", err, tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), "0 3 * * *"):
				t.Fatalf("error %q offers no fix", err)
			}
		})
	}
}

// TestMinInterval checks the computed gap against the smallest gap between
// consecutive times that robfig/cron's own Next gives over two years.
func TestMinInterval(t *testing.T) {
	// years is how far Next walks: long enough to see every gap.
	for expr, years := range map[string]int{
		"0 3 * * *": 2, "0 * * * *": 1, "*/7 * * * *": 1, "5,55 1,2 * * *": 2, "0 0,23 * * *": 2, "30 23 * * 1": 2,
		"0 12 1 * *": 2, "0 0 * * 1-5": 2, "15 22 1,2 * 1": 8, "0 6 31 * *": 2, "45 23 28-31 * *": 8, "0 0 29 2 *": 9,
	} {
		t.Run(expr, func(t *testing.T) {
			s := mustParse(t, expr)
			got, ok := MinInterval(s)
			if !ok {
				t.Fatal("never fires, says MinInterval")
			}
			want := time.Duration(1 << 62)
			from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			prev := s.Next(from)
			for at := s.Next(prev); at.Before(from.AddDate(years, 0, 0)) && !at.IsZero(); at = s.Next(at) {
				want = min(want, at.Sub(prev))
				prev = at
			}
			if got != want {
				t.Errorf("MinInterval = %s, Next says %s", got, want)
			}
		})
	}
}

// TestPrev compares Prev with a walk of robfig/cron's Next.
func TestPrev(t *testing.T) {
	// back is how far back the walk starts: past the newest time.
	for expr, back := range map[string]int{"0 3 * * *": 1, "*/7 * * * *": 1, "15 22 1,2 * 1": 1, "0 0 29 2 *": 5, "0 12 1 1 *": 2, "45 23 28-31 * *": 1} {
		s := mustParse(t, expr)
		for _, at := range []time.Time{
			time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
			time.Date(2026, 3, 1, 0, 0, 30, 0, time.UTC),
			time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		} {
			var want time.Time
			for n := s.Next(at.AddDate(-back, 0, 0)); !n.IsZero() && !n.After(at); n = s.Next(n) {
				want = n
			}
			if got := Prev(s, at); !got.Equal(want) {
				t.Errorf("%q: Prev(%s) = %s, want %s", expr, at, got, want)
			}
		}
	}
}

func TestDue(t *testing.T) {
	daily := mustParse(t, "0 3 * * *")
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name      string
		last, now string
		due       string // "" = none due
		next      string
	}{
		{"nothing due yet", "2026-11-25T03:00:00Z", "2026-11-25T12:00:00Z", "", "2026-11-26T03:00:00Z"},
		{"one due", "2026-11-24T03:00:00Z", "2026-11-25T12:00:00Z", "2026-11-25T03:00:00Z", "2026-11-26T03:00:00Z"},
		{"exactly at the time", "2026-11-24T03:00:00Z", "2026-11-25T03:00:00Z", "2026-11-25T03:00:00Z", "2026-11-26T03:00:00Z"},
		{"after a week down only the newest runs", "2026-11-17T03:00:00Z", "2026-11-25T12:00:00Z", "2026-11-25T03:00:00Z", "2026-11-26T03:00:00Z"},
		{"after ten years down only the newest runs", "2016-11-17T03:00:00Z", "2026-11-25T12:00:00Z", "2026-11-25T03:00:00Z", "2026-11-26T03:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, next, ok := Due(daily, at(tt.last), at(tt.now))
			if ok != (tt.due != "") || (ok && !due.Equal(at(tt.due))) || !next.Equal(at(tt.next)) {
				t.Errorf("Due = %v, %v, %v; want %q, %q", due, next, ok, tt.due, tt.next)
			}
		})
	}
}

// BenchmarkDue: the cost of finding the due backup is the same whether the
// operator was down for a day or for ten years (go test -bench Due).
func BenchmarkDue(b *testing.B) {
	now := time.Date(2026, 11, 25, 12, 34, 0, 0, time.UTC)
	for _, expr := range []string{"0 * * * *", "0 3 * * *"} {
		s := mustParse(b, expr)
		for _, down := range []struct {
			name string
			last time.Time
		}{{"1d", now.AddDate(0, 0, -1)}, {"10y", now.AddDate(-10, 0, 0)}} {
			b.Run(expr+"/missed="+down.name, func(b *testing.B) {
				for b.Loop() {
					Due(s, down.last, now)
				}
			})
		}
	}
}

// BenchmarkParse is the admission and reconcile cost of checking a schedule.
func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse("15 22 1,2 * 1", time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
