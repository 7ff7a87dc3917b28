package notify

import (
	"net/http"
	"testing"
	"time"
)

func TestBackoffSchedule(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name      string
		retry     int
		base, max time.Duration
		r         float64
		want      time.Duration
	}{
		{"first retry, no jitter", 1, s, time.Minute, 0, s / 2},
		{"first retry, mid jitter", 1, s, time.Minute, 0.5, 750 * time.Millisecond},
		{"second retry doubles", 2, s, time.Minute, 0, s},
		{"third retry", 3, s, time.Minute, 0, 2 * s},
		{"fifth retry", 5, s, time.Minute, 0, 8 * s},
		{"sixth retry", 6, s, time.Minute, 0.5, 24 * s},
		{"seventh retry capped", 7, s, time.Minute, 0, 30 * s},
		{"capped, full jitter stays under max", 7, s, time.Minute, 0.999, 30*s + time.Duration(0.999*float64(30*s))},
		{"huge retry does not overflow", 1 << 30, s, time.Minute, 0, 30 * s},
		{"retry 0 is treated as the first", 0, s, time.Minute, 0, s / 2},
		{"base above max is capped", 1, time.Hour, time.Minute, 0, 30 * s},
		{"zero base", 3, 0, time.Minute, 0.5, 0},
		{"odd max", 3, 3 * time.Millisecond, 10 * time.Millisecond, 0, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := backoff(tt.retry, tt.base, tt.max, tt.r); got != tt.want {
				t.Errorf("backoff(%d, %v, %v, %v) = %v, want %v", tt.retry, tt.base, tt.max, tt.r, got, tt.want)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	for retry := 1; retry <= 64; retry++ {
		for _, r := range []float64{0, 0.25, 0.5, 0.999999} {
			got := backoff(retry, time.Second, time.Minute, r)
			if got < time.Second/2 || got > time.Minute {
				t.Fatalf("backoff(%d, 1s, 1m, %v) = %v, outside [500ms, 1m]", retry, r, got)
			}
		}
	}
}

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		name          string
		retryAfter    time.Duration
		hasRetryAfter bool
		want          time.Duration
	}{
		{"no Retry-After uses backoff", 0, false, 2 * time.Second},
		{"Retry-After wins over backoff", 5 * time.Second, true, 5 * time.Second},
		{"Retry-After 0 retries at once", 0, true, 0},
		{"Retry-After capped by max", time.Hour, true, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := retryDelay(3, tt.retryAfter, tt.hasRetryAfter, time.Second, time.Minute, 0)
			if got != tt.want {
				t.Errorf("retryDelay = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"5", 5 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999", 365 * 24 * time.Hour, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.header, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}
