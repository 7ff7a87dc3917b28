package notify

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// backoff returns the delay before retry number retry (1 for the first
// retry): base doubled for each further retry, capped at maxDelay, then
// "equal jitter" with r in [0, 1) picking a point in the upper half. Jitter
// keeps the deliveries that failed together (a receiver restarting) from
// coming back together; keeping the lower half out keeps the schedule
// growing, so a struggling receiver really gets more time.
func backoff(retry int, base, maxDelay time.Duration, r float64) time.Duration {
	if base <= 0 || maxDelay <= 0 {
		return 0
	}
	d := min(base, maxDelay)
	for i := 1; i < retry && d < maxDelay; i++ {
		// Compare before doubling so that d never overflows.
		if d > maxDelay/2 {
			d = maxDelay
			break
		}
		d *= 2
	}
	half := d / 2
	return d - half + time.Duration(r*float64(half))
}

// retryDelay is the delay before retry number retry: the receiver's
// Retry-After when it sent one, else backoff; both capped at maxDelay, so a
// receiver cannot park a delivery for a day.
func retryDelay(retry int, retryAfter time.Duration, hasRetryAfter bool, base, maxDelay time.Duration, r float64) time.Duration {
	if hasRetryAfter {
		return max(0, min(retryAfter, maxDelay))
	}
	return backoff(retry, base, maxDelay, r)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110, section 10.2.3). A date in the past means now.
func parseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// A year is more than any maxDelay; clamping first avoids overflow.
		const year = 365 * 24 * 3600
		return time.Duration(min(secs, year)) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}
