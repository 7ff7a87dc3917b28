package notify

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/odoo-operator/odoo-operator/internal/egress"
)

// Defaults of Options.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxRetries  = 5
	DefaultBackoffBase = time.Second
	DefaultBackoffMax  = time.Minute
	DefaultQueueSize   = 256
	DefaultWorkers     = 2
	DefaultUserAgent   = "odoo-operator"
)

const (
	// maxRedirects bounds same-host 307/308 redirects.
	maxRedirects = 5
	// maxDrain is how much of a response body is read so the connection can
	// be reused; a receiver has nothing to tell us in it.
	maxDrain = 64 << 10
)

var (
	errQueueFull = errors.New("notification queue full, dropped the oldest delivery")
	errStopped   = errors.New("notifier stopped")
)

// Options configure a Notifier. Zero values select the defaults.
type Options struct {
	// Egress is what a tenant's webhook URL may reach: the default refuses
	// loopback, link-local, private and the cluster's ranges, checked on
	// the resolved address of every connection (egress.Policy.Control), so
	// a tenant cannot make the operator POST to the kube-apiserver or a
	// metadata service. The default client uses no proxy.
	Egress egress.Policy
	// Client sends the requests instead of the default client on Egress's
	// guarded transport; it bypasses Egress, so only tests set it. The
	// Notifier uses a shallow copy of it whose CheckRedirect follows only
	// 307 and 308 to the same scheme and host: a redirect must not take a
	// signed body to another host, and 301/302/303 would turn the POST into
	// a GET without a body that might still answer 200.
	Client *http.Client
	// Timeout bounds one attempt, from dialing to reading the response.
	// Default 10s.
	Timeout time.Duration
	// MaxRetries is how many times a delivery is retried after its first
	// attempt. 0 selects the default (5); a negative value disables retries.
	MaxRetries int
	// BackoffBase is the delay before the first retry, doubled for each
	// further one, with jitter. Default 1s.
	BackoffBase time.Duration
	// BackoffMax caps the backoff and a receiver's Retry-After. Default 1m.
	BackoffMax time.Duration
	// QueueSize bounds the deliveries waiting to be sent or retried. When it
	// is full, Send drops the oldest. Default 256.
	QueueSize int
	// Workers is the number of concurrent requests. Default 2.
	Workers int
	// UserAgent is sent with every request. Default "odoo-operator".
	UserAgent string
	// Logger logs outcomes (failures at error level, drops at info level,
	// deliveries and retries at V(1)). Default: controller-runtime's logger
	// named "notify". As with the manager's own Logger option, the zero
	// Logger selects the default, and logr.Discard() is the zero Logger.
	Logger logr.Logger
	// OnResult, when set, is called once per event with how its delivery
	// ended, e.g. to record a Kubernetes Event on the instance. It is called
	// from Send itself (invalid URL, or an older delivery dropped) and from
	// the workers, so it must be safe for concurrent use and must not block.
	OnResult func(Result)
}

// Result is how one delivery ended, as passed to Options.OnResult.
type Result struct {
	// ID, Type and Instance are the Event's.
	ID       string
	Type     EventType
	Instance Instance
	// Outcome is delivered, failed or dropped.
	Outcome Outcome
	// Attempts is the number of requests sent (0 when none was).
	Attempts int
	// StatusCode is the last HTTP status received, 0 if none.
	StatusCode int
	// Err says why the delivery failed or was dropped; nil when delivered.
	// It shows the URL as scheme://host only.
	Err error
}

// Stats are a Notifier's counters since New.
type Stats struct {
	// Pending is the number of deliveries waiting to be sent or retried
	// (not counting those in flight).
	Pending   int
	Delivered uint64
	Failed    uint64
	Dropped   uint64
}

// Target is where an event goes and how it is signed.
type Target struct {
	// URL is the instance's spec.webhook.url.
	URL string
	// Key is the value of the Secret key named by spec.webhook.secretRef;
	// nil or empty sends the request unsigned. The caller should refuse an
	// empty Secret value rather than pass it here, since an empty key would
	// silently turn signing off.
	Key []byte
}

// String shows where the target points without its credentials, so a
// Target that ends up in a log line or an error leaks neither the key nor
// the URL's userinfo, query or path.
func (t Target) String() string { return "notify.Target{" + redactRawURL(t.URL) + "}" }

// GoString is String, for %#v.
func (t Target) GoString() string { return t.String() }

// MarshalLog is String, for logr's structured loggers.
func (t Target) MarshalLog() any { return t.String() }

// Notifier sends notifications in the background. Create it with New, add it
// to the manager (it is a Runnable that needs leader election) and call Send
// from reconcilers. A nil *Notifier discards what it is sent, so a reconciler
// built without one (tests) needs no special case.
type Notifier struct {
	opts   Options
	client *http.Client
	log    logr.Logger

	mu      sync.Mutex
	pending deliveryHeap
	seq     uint64
	state   state
	// wake tells a sleeping worker that the heap changed. Its buffer of one
	// means a signal sent between a worker's check and its wait is not lost.
	wake chan struct{}

	delivered, failed, dropped atomic.Uint64
}

type state int

const (
	stateNew state = iota
	stateRunning
	stateStopped
)

// New returns a Notifier. It sends nothing until Start runs, but Send can
// already queue.
func New(opts Options) *Notifier {
	registerMetrics()
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	switch {
	case opts.MaxRetries == 0:
		opts.MaxRetries = DefaultMaxRetries
	case opts.MaxRetries < 0:
		opts.MaxRetries = 0
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = DefaultBackoffBase
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = DefaultBackoffMax
	}
	opts.BackoffMax = max(opts.BackoffMax, opts.BackoffBase)
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = ctrllog.Log.WithName("notify")
	}
	var client http.Client
	if opts.Client != nil {
		client = *opts.Client
	} else {
		// A Transport of our own, guarded: the shared pool is not affected
		// by, nor affects, the operator's other clients.
		client.Transport = opts.Egress.Transport()
	}
	client.CheckRedirect = sameHostRedirect
	return &Notifier{
		opts:   opts,
		client: &client,
		log:    opts.Logger,
		wake:   make(chan struct{}, 1),
	}
}

// Send queues ev for target and returns at once: it never waits on the
// network nor on a full queue, so it is safe to call from a reconcile. It
// fills ev.ID and ev.Time when empty. Once the body is encoded and signed,
// target.Key is not kept. The outcome is only reported to Options.OnResult,
// the logs and the metrics: a reconcile has nothing to do about a receiver
// that is down.
func (n *Notifier) Send(target Target, ev Event) {
	if n == nil {
		return
	}
	if ev.ID == "" {
		ev.ID = rand.Text()
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Message = truncateMessage(ev.Message)
	d := &delivery{id: ev.ID, typ: ev.Type, instance: ev.Instance, url: target.URL, logURL: redactRawURL(target.URL)}

	if err := validateURL(target.URL); err != nil {
		n.finish(d, OutcomeFailed, 0, err)
		return
	}
	// A literal address the policy refuses fails at once, without retries;
	// names are checked when connecting.
	if err := n.opts.Egress.CheckURL(target.URL, false); err != nil {
		n.finish(d, OutcomeFailed, 0, fmt.Errorf("webhook URL %s: %w", d.logURL, err))
		return
	}
	body, err := json.Marshal(ev)
	if err != nil {
		n.finish(d, OutcomeFailed, 0, fmt.Errorf("encoding the event: %w", err))
		return
	}
	d.body = body
	if len(target.Key) > 0 {
		d.sig = Sign(body, target.Key)
	}

	n.mu.Lock()
	if n.state == stateStopped {
		n.mu.Unlock()
		n.finish(d, OutcomeDropped, 0, errStopped)
		return
	}
	n.seq++
	d.seq = n.seq
	d.due = time.Now()
	evicted := n.pushLocked(d)
	n.mu.Unlock()
	n.signal()
	if evicted != nil {
		n.finish(evicted, OutcomeDropped, 0, errQueueFull)
	}
}

// Stats returns the Notifier's counters.
func (n *Notifier) Stats() Stats {
	n.mu.Lock()
	pending := len(n.pending)
	n.mu.Unlock()
	return Stats{
		Pending:   pending,
		Delivered: n.delivered.Load(),
		Failed:    n.failed.Load(),
		Dropped:   n.dropped.Load(),
	}
}

// NeedLeaderElection returns true: only the leader reconciles, hence only it
// has events to send, and a standby replica must not send duplicates.
func (n *Notifier) NeedLeaderElection() bool { return true }

// Start runs the workers until ctx is done, then returns nil. Requests in
// flight are cancelled and pending deliveries are dropped (and counted):
// the queue is in memory and a new leader starts afresh. Start may be called
// only once.
func (n *Notifier) Start(ctx context.Context) error {
	n.mu.Lock()
	if n.state != stateNew {
		n.mu.Unlock()
		return errors.New("notify: Notifier started twice")
	}
	n.state = stateRunning
	n.mu.Unlock()

	var wg sync.WaitGroup
	for range n.opts.Workers {
		wg.Go(func() {
			for {
				d, ok := n.next(ctx)
				if !ok {
					return
				}
				n.attempt(ctx, d)
			}
		})
	}
	wg.Wait()

	n.mu.Lock()
	n.state = stateStopped
	left := n.pending
	n.pending = nil
	n.mu.Unlock()
	for _, d := range left {
		n.finish(d, OutcomeDropped, 0, errStopped)
	}
	if len(left) > 0 {
		n.log.Info("stopped with notifications pending; they are dropped", "count", len(left))
	}
	return nil
}

// pushLocked adds d to the heap and, if that overflows the queue, removes
// and returns the oldest delivery (possibly d itself, when a retry is older
// than everything else pending).
func (n *Notifier) pushLocked(d *delivery) *delivery {
	heap.Push(&n.pending, d)
	if len(n.pending) <= n.opts.QueueSize {
		return nil
	}
	return heap.Remove(&n.pending, n.pending.oldest()).(*delivery)
}

// signal wakes one sleeping worker, if any, without blocking.
func (n *Notifier) signal() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// next waits for a delivery that is due and takes it, or returns false when
// ctx is done. A worker waits on the earliest due time, so a delivery in
// backoff costs a timer, not a worker.
func (n *Notifier) next(ctx context.Context) (*delivery, bool) {
	for {
		if ctx.Err() != nil {
			return nil, false
		}
		wait := time.Duration(-1)
		n.mu.Lock()
		if len(n.pending) > 0 {
			now := time.Now()
			wait = n.pending[0].due.Sub(now)
			if wait <= 0 {
				d := heap.Pop(&n.pending).(*delivery)
				more := len(n.pending) > 0 && !n.pending[0].due.After(now)
				n.mu.Unlock()
				if more {
					// The wake buffer holds one signal; pass it on so that
					// the other workers also take the ready deliveries.
					n.signal()
				}
				return d, true
			}
		}
		n.mu.Unlock()

		var timer *time.Timer
		var fired <-chan time.Time
		if wait >= 0 {
			timer = time.NewTimer(wait)
			fired = timer.C
		}
		select {
		case <-ctx.Done():
		case <-n.wake:
		case <-fired:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// attempt sends d once and decides: done, or back in the heap for a retry.
func (n *Notifier) attempt(ctx context.Context, d *delivery) {
	d.attempts++
	code, retryAfter, hasRetryAfter, err := n.post(ctx, d)
	switch {
	case err != nil && ctx.Err() != nil:
		n.finish(d, OutcomeDropped, 0, errStopped)
		return
	case err == nil && code >= 200 && code < 300:
		n.finish(d, OutcomeDelivered, code, nil)
		return
	case err == nil:
		err = fmt.Errorf("POST %s: HTTP %d", d.logURL, code)
		if !retryableStatus(code) {
			n.finish(d, OutcomeFailed, code, err)
			return
		}
	}
	if d.attempts > n.opts.MaxRetries {
		n.finish(d, OutcomeFailed, code, fmt.Errorf("giving up after %d attempts: %w", d.attempts, err))
		return
	}
	//nolint:gosec // jitter only spreads retries; it need not be unpredictable
	delay := retryDelay(d.attempts, retryAfter, hasRetryAfter, n.opts.BackoffBase, n.opts.BackoffMax, mathrand.Float64())
	n.log.V(1).Info("notification not delivered, will retry", n.keysAndValues(d, code, "retryIn", delay.String(), "error", err.Error())...)

	n.mu.Lock()
	d.due = time.Now().Add(delay)
	evicted := n.pushLocked(d)
	n.mu.Unlock()
	n.signal()
	if evicted != nil {
		n.finish(evicted, OutcomeDropped, 0, errQueueFull)
	}
}

// post sends one request. It returns the status and Retry-After of the
// response, or an error, scrubbed of the URL, when there was none.
func (n *Notifier) post(ctx context.Context, d *delivery) (code int, retryAfter time.Duration, hasRetryAfter bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return 0, 0, false, scrubError(d.logURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", n.opts.UserAgent)
	req.Header.Set(HeaderEvent, string(d.typ))
	req.Header.Set(HeaderDelivery, d.id)
	if d.sig != "" {
		req.Header.Set(HeaderSignature, d.sig)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, 0, false, scrubError(d.logURL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	retryAfter, hasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return resp.StatusCode, retryAfter, hasRetryAfter, nil
}

// finish counts, logs and reports the end of a delivery.
func (n *Notifier) finish(d *delivery, o Outcome, code int, err error) {
	switch o {
	case OutcomeDelivered:
		n.delivered.Add(1)
		n.log.V(1).Info("notification delivered", n.keysAndValues(d, code)...)
	case OutcomeFailed:
		n.failed.Add(1)
		n.log.Error(err, "notification failed", n.keysAndValues(d, code)...)
	case OutcomeDropped:
		n.dropped.Add(1)
		n.log.Info("notification dropped", n.keysAndValues(d, code, "reason", err.Error())...)
	}
	notificationsTotal.WithLabelValues(string(o)).Inc()
	if n.opts.OnResult != nil {
		n.opts.OnResult(Result{
			ID: d.id, Type: d.typ, Instance: d.instance,
			Outcome: o, Attempts: d.attempts, StatusCode: code, Err: err,
		})
	}
}

func (n *Notifier) keysAndValues(d *delivery, code int, extra ...any) []any {
	kv := []any{
		"delivery", d.id, "type", string(d.typ),
		"namespace", d.instance.Namespace, "name", d.instance.Name,
		"url", d.logURL, "attempts", d.attempts,
	}
	if code != 0 {
		kv = append(kv, "status", code)
	}
	return append(kv, extra...)
}

// retryableStatus reports whether a non-2xx status may succeed later:
// timeouts, rate limiting and server errors. Any other status (a 4xx, an
// unfollowed 3xx) will answer the same again.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// sameHostRedirect follows 307 and 308, which keep the method and body, to
// the original scheme and host only; anything else ends the request with the
// redirect response itself, which then counts as a non-retryable failure.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	orig := via[0].URL
	switch {
	case len(via) > maxRedirects,
		req.Response == nil,
		req.Response.StatusCode != http.StatusTemporaryRedirect && req.Response.StatusCode != http.StatusPermanentRedirect,
		req.URL.Scheme != orig.Scheme,
		!strings.EqualFold(req.URL.Host, orig.Host):
		return http.ErrUseLastResponse
	}
	return nil
}

// validateURL checks what the CRD's CEL rule checks, for callers that did
// not go through the API server. Its errors never quote the URL.
func validateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("invalid webhook URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("webhook URL must be http:// or https://")
	}
	if u.Host == "" {
		return errors.New("webhook URL has no host")
	}
	return nil
}

// redactRawURL returns scheme://host of a URL: no userinfo, path, query or
// fragment, any of which may be a token.
func redactRawURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<invalid URL>"
	}
	return u.Scheme + "://" + u.Host
}

// scrubError replaces the *url.Error of net/http, whose message quotes the
// full URL including its query, by its cause and the redacted URL.
func scrubError(logURL string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("POST %s: %w", logURL, err)
}
