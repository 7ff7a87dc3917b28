package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/odoo-operator/odoo-operator/internal/egress"
)

// The manager must run the Notifier only on the leader.
var (
	_ manager.Runnable               = (*Notifier)(nil)
	_ manager.LeaderElectionRunnable = (*Notifier)(nil)
)

// guard bounds every wait in these tests so that a bug fails the test
// instead of hanging it. No assertion depends on how fast anything is.
const guard = 10 * time.Second

// request is what a test server received.
type request struct {
	header http.Header
	body   []byte
	path   string
}

// server is an httptest server that records requests and answers with
// respond, called with the 1-based number of the request.
type server struct {
	*httptest.Server
	reqs chan request
}

func newServer(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{reqs: make(chan request, 64)}
	var mu sync.Mutex
	count := 0
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		count++
		n := count
		mu.Unlock()
		s.reqs <- request{header: r.Header.Clone(), body: body, path: r.URL.Path}
		respond(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func status(code int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

var loopbackAllowed = egress.Policy{Allow: []egress.Rule{{Prefix: netip.MustParsePrefix("127.0.0.0/8")}}}

// quiet discards logs. logr.Discard() would not do: it is the zero Logger,
// which New replaces by controller-runtime's.
var quiet = funcr.New(func(_, _ string) {}, funcr.Options{})

// newNotifier returns a Notifier, not started, with fast backoff unless opts
// sets one, discarded logs, and its results on a channel.
func newNotifier(t *testing.T, opts Options) (*Notifier, chan Result) {
	t.Helper()
	results := make(chan Result, 256)
	if opts.Logger.GetSink() == nil {
		opts.Logger = quiet
	}
	if opts.BackoffBase == 0 {
		opts.BackoffBase = time.Millisecond
	}
	if opts.BackoffMax == 0 {
		opts.BackoffMax = 5 * time.Millisecond
	}
	opts.OnResult = func(r Result) { results <- r }
	if opts.Egress.Allow == nil {
		// The test servers listen on loopback, which the default policy
		// refuses: these tests allow it, as an administrator would.
		opts.Egress = loopbackAllowed
	}
	return New(opts), results
}

// start runs n until the returned stop is called (or the test ends) and
// checks that Start returns nil once cancelled.
func start(t *testing.T, n *Notifier) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Start returned %v", err)
				}
			case <-time.After(guard):
				t.Errorf("Start did not return after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func next[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatalf("no %s", what)
		var zero T
		return zero
	}
}

func none[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %+v", what, v)
	default:
	}
}

func testEvent(id string) Event {
	return Event{
		ID:       id,
		Type:     EventPhaseChanged,
		Instance: Instance{Namespace: "shop", Name: "odoo", UID: "0b5e-uid"},
		Phase:    "Running", PreviousPhase: "Upgrading",
		Image: "odoo:18.0-20260301", PreviousImage: "odoo:18.0-20260201",
		Message: "upgrade of 3 modules done",
	}
}

func TestDeliveredPayload(t *testing.T) {
	srv := newServer(t, status(http.StatusNoContent))
	n, results := newNotifier(t, Options{UserAgent: "test-agent"})
	start(t, n)

	ev := testEvent("")
	n.Send(Target{URL: srv.URL + "/hook"}, ev)

	req := next(t, srv.reqs, "request")
	res := next(t, results, "result")
	if res.Outcome != OutcomeDelivered || res.Attempts != 1 || res.StatusCode != http.StatusNoContent || res.Err != nil {
		t.Fatalf("result = %+v", res)
	}

	var got map[string]any
	if err := json.Unmarshal(req.body, &got); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, req.body)
	}
	id, _ := got["id"].(string)
	if id == "" || id != res.ID {
		t.Errorf("id = %q, result id %q", id, res.ID)
	}
	want := map[string]any{
		"id":   id,
		"type": "PhaseChanged",
		"instance": map[string]any{
			"namespace": "shop", "name": "odoo", "uid": "0b5e-uid",
		},
		"phase": "Running", "previousPhase": "Upgrading",
		"image": "odoo:18.0-20260301", "previousImage": "odoo:18.0-20260201",
		"message": "upgrade of 3 modules done",
		"time":    got["time"],
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("payload\n got %v\nwant %v", got, want)
	}
	ts, _ := got["time"].(string)
	if _, err := time.Parse(time.RFC3339, ts); err != nil {
		t.Errorf("time %q is not RFC 3339: %v", ts, err)
	}

	h := req.header
	for k, v := range map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    "test-agent",
		HeaderEvent:     "PhaseChanged",
		HeaderDelivery:  id,
		HeaderSignature: "",
	} {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	if _, ok := h[HeaderSignature]; ok {
		t.Errorf("signature header sent without a key")
	}
	if st := n.Stats(); st.Delivered != 1 || st.Failed != 0 || st.Dropped != 0 || st.Pending != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSignedDelivery(t *testing.T) {
	srv := newServer(t, status(http.StatusOK))
	n, results := newNotifier(t, Options{})
	start(t, n)

	key := []byte("shared-secret")
	n.Send(Target{URL: srv.URL, Key: key}, testEvent("d-1"))
	req := next(t, srv.reqs, "request")
	if res := next(t, results, "result"); res.Outcome != OutcomeDelivered {
		t.Fatalf("result = %+v", res)
	}
	sig := req.header.Get(HeaderSignature)
	if !strings.HasPrefix(sig, "sha256=") {
		t.Fatalf("signature header = %q", sig)
	}
	if !Verify(req.body, sig, key) {
		t.Errorf("signature does not verify with the key")
	}
	if Verify(req.body, sig, []byte("another-secret")) {
		t.Errorf("signature verifies with another key")
	}
	if bytes.Contains(req.body, key) || strings.Contains(fmt.Sprint(req.header), string(key)) {
		t.Errorf("the key was sent")
	}
}

func TestRetryThenSuccess(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	n, results := newNotifier(t, Options{})
	start(t, n)

	n.Send(Target{URL: srv.URL, Key: []byte("k")}, testEvent("retry-1"))
	res := next(t, results, "result")
	if res.Outcome != OutcomeDelivered || res.Attempts != 3 || res.StatusCode != http.StatusAccepted {
		t.Fatalf("result = %+v", res)
	}
	first := next(t, srv.reqs, "request 1")
	for i := 2; i <= 3; i++ {
		r := next(t, srv.reqs, fmt.Sprintf("request %d", i))
		// A retry is the same delivery: same id, same bytes, same signature.
		if r.header.Get(HeaderDelivery) != "retry-1" || !bytes.Equal(r.body, first.body) ||
			r.header.Get(HeaderSignature) != first.header.Get(HeaderSignature) {
			t.Errorf("request %d differs from the first", i)
		}
	}
	none(t, srv.reqs, "request")
}

func TestRetriesByStatus(t *testing.T) {
	tests := []struct {
		code         int
		wantAttempts int
	}{
		{http.StatusBadRequest, 1},
		{http.StatusUnauthorized, 1},
		{http.StatusNotFound, 1},
		{http.StatusGone, 1},
		{http.StatusFound, 1}, // a redirect that is not followed is final
		{http.StatusRequestTimeout, 3},
		{http.StatusTooManyRequests, 3},
		{http.StatusInternalServerError, 3},
		{http.StatusServiceUnavailable, 3},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.code), func(t *testing.T) {
			srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if tt.code == http.StatusFound {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.code)
			})
			n, results := newNotifier(t, Options{MaxRetries: 2})
			start(t, n)

			n.Send(Target{URL: srv.URL}, testEvent(""))
			res := next(t, results, "result")
			if res.Outcome != OutcomeFailed || res.Attempts != tt.wantAttempts || res.StatusCode != tt.code || res.Err == nil {
				t.Fatalf("result = %+v, want failed after %d attempts", res, tt.wantAttempts)
			}
			for i := range tt.wantAttempts {
				if r := next(t, srv.reqs, "request"); r.path != "/" {
					t.Errorf("request %d went to %s", i+1, r.path)
				}
			}
			none(t, srv.reqs, "request")
			if st := n.Stats(); st.Failed != 1 || st.Delivered != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestNoRetriesWhenDisabled(t *testing.T) {
	srv := newServer(t, status(http.StatusServiceUnavailable))
	n, results := newNotifier(t, Options{MaxRetries: -1})
	start(t, n)
	n.Send(Target{URL: srv.URL}, testEvent(""))
	if res := next(t, results, "result"); res.Outcome != OutcomeFailed || res.Attempts != 1 {
		t.Fatalf("result = %+v", res)
	}
}

func TestNetworkErrorRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // connection refused from now on

	n, results := newNotifier(t, Options{MaxRetries: 2})
	start(t, n)
	n.Send(Target{URL: url}, testEvent(""))
	res := next(t, results, "result")
	if res.Outcome != OutcomeFailed || res.Attempts != 3 || res.StatusCode != 0 || res.Err == nil {
		t.Fatalf("result = %+v", res)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		opts       Options
	}{
		// The backoff is an hour: the retry only comes within the test's
		// guard if Retry-After is used instead.
		{"Retry-After 0 replaces a long backoff", "0", Options{BackoffBase: time.Hour, BackoffMax: 2 * time.Hour}},
		// Retry-After asks for an hour: the retry only comes if BackoffMax
		// caps it.
		{"Retry-After is capped by BackoffMax", "3600", Options{BackoffBase: time.Millisecond, BackoffMax: 10 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", tt.retryAfter)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			n, results := newNotifier(t, tt.opts)
			start(t, n)
			n.Send(Target{URL: srv.URL}, testEvent(""))
			if res := next(t, results, "result"); res.Outcome != OutcomeDelivered || res.Attempts != 2 {
				t.Fatalf("result = %+v", res)
			}
		})
	}
}

// A delivery waiting for its retry must not hold the only worker: another
// delivery goes through meanwhile.
func TestRetryDoesNotHoldAWorker(t *testing.T) {
	down := newServer(t, status(http.StatusServiceUnavailable))
	up := newServer(t, status(http.StatusOK))
	n, results := newNotifier(t, Options{Workers: 1, BackoffBase: time.Hour, BackoffMax: time.Hour})
	stop := start(t, n)

	n.Send(Target{URL: down.URL}, testEvent("to-down"))
	next(t, down.reqs, "request to the failing receiver")
	n.Send(Target{URL: up.URL}, testEvent("to-up"))
	next(t, up.reqs, "request to the healthy receiver")
	if res := next(t, results, "result"); res.ID != "to-up" || res.Outcome != OutcomeDelivered {
		t.Fatalf("result = %+v", res)
	}
	if st := n.Stats(); st.Pending != 1 {
		t.Errorf("pending = %d, want the retry", st.Pending)
	}

	// Stopping drops the retry that was still waiting.
	stop()
	if res := next(t, results, "result"); res.ID != "to-down" || res.Outcome != OutcomeDropped || res.Attempts != 1 {
		t.Fatalf("result = %+v", res)
	}
}

func TestRedirects(t *testing.T) {
	other := newServer(t, status(http.StatusOK))
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
		case "/other":
			http.Redirect(w, r, other.URL+"/final", http.StatusPermanentRedirect)
		case "/final":
			w.WriteHeader(http.StatusOK)
		}
	})
	n, results := newNotifier(t, Options{})
	start(t, n)

	// 307 on the same host: followed, with the body and the signature.
	n.Send(Target{URL: srv.URL + "/same", Key: []byte("k")}, testEvent("same"))
	if res := next(t, results, "result"); res.Outcome != OutcomeDelivered || res.StatusCode != http.StatusOK {
		t.Fatalf("same-host redirect: result = %+v", res)
	}
	first := next(t, srv.reqs, "request")
	final := next(t, srv.reqs, "redirected request")
	if final.path != "/final" || !bytes.Equal(final.body, first.body) || !Verify(final.body, final.header.Get(HeaderSignature), []byte("k")) {
		t.Errorf("redirected request: path %s, body %q", final.path, final.body)
	}

	// 308 to another host: not followed, and final.
	n.Send(Target{URL: srv.URL + "/other", Key: []byte("k")}, testEvent("other"))
	if res := next(t, results, "result"); res.Outcome != OutcomeFailed || res.StatusCode != http.StatusPermanentRedirect || res.Attempts != 1 {
		t.Fatalf("cross-host redirect: result = %+v", res)
	}
	next(t, srv.reqs, "request")
	none(t, other.reqs, "request on the other host")
}

// Send must return at once however full the queue is, drop the oldest
// pending delivery and count it.
func TestSendNeverBlocksWhenFull(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusOK)
	})
	n, results := newNotifier(t, Options{Workers: 1, QueueSize: 1})
	start(t, n)

	n.Send(Target{URL: srv.URL}, testEvent("e1"))
	if r := next(t, srv.reqs, "request"); r.header.Get(HeaderDelivery) != "e1" {
		t.Fatalf("first request is %s", r.header.Get(HeaderDelivery))
	}
	// e1 is in flight and blocked; the queue holds one more.
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := 2; i <= 11; i++ {
			n.Send(Target{URL: srv.URL}, testEvent(fmt.Sprintf("e%d", i)))
		}
	}()
	next(t, sent, "return from Send")

	for i := 2; i <= 10; i++ {
		res := next(t, results, "drop")
		if res.Outcome != OutcomeDropped || res.ID != fmt.Sprintf("e%d", i) {
			t.Fatalf("result = %+v, want e%d dropped", res, i)
		}
	}
	if st := n.Stats(); st.Dropped != 9 || st.Pending != 1 {
		t.Fatalf("stats = %+v, want 9 dropped and 1 pending", st)
	}

	close(release)
	for _, id := range []string{"e1", "e11"} {
		if res := next(t, results, "result"); res.Outcome != OutcomeDelivered || res.ID != id {
			t.Fatalf("result = %+v, want %s delivered", res, id)
		}
	}
	if r := next(t, srv.reqs, "request"); r.header.Get(HeaderDelivery) != "e11" {
		t.Fatalf("second request is %s", r.header.Get(HeaderDelivery))
	}
}

// Send before Start queues (a reconcile may run before the manager has
// started every runnable), within the same bound.
func TestSendBeforeStart(t *testing.T) {
	srv := newServer(t, status(http.StatusOK))
	n, results := newNotifier(t, Options{QueueSize: 2, Workers: 1})
	for i := 1; i <= 5; i++ {
		n.Send(Target{URL: srv.URL}, testEvent(fmt.Sprintf("e%d", i)))
	}
	if st := n.Stats(); st.Dropped != 3 || st.Pending != 2 {
		t.Fatalf("stats = %+v", st)
	}
	for range 3 {
		next(t, results, "drop")
	}
	start(t, n)
	for _, id := range []string{"e4", "e5"} {
		if res := next(t, results, "result"); res.Outcome != OutcomeDelivered || res.ID != id {
			t.Fatalf("result = %+v, want %s delivered", res, id)
		}
	}
}

func TestStartReturnsWhenCancelled(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
		w.WriteHeader(http.StatusOK)
	})
	n, results := newNotifier(t, Options{Workers: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Start(ctx) }()

	n.Send(Target{URL: srv.URL}, testEvent("in-flight"))
	next(t, srv.reqs, "request")
	n.Send(Target{URL: srv.URL}, testEvent("queued"))
	cancel()
	if err := next(t, done, "return from Start"); err != nil {
		t.Fatalf("Start = %v", err)
	}
	got := map[string]Outcome{}
	for range 2 {
		res := next(t, results, "result")
		got[res.ID] = res.Outcome
	}
	if got["in-flight"] != OutcomeDropped || got["queued"] != OutcomeDropped {
		t.Errorf("outcomes = %v", got)
	}

	// A stopped Notifier drops what it is sent and cannot be restarted.
	n.Send(Target{URL: srv.URL}, testEvent("late"))
	if res := next(t, results, "result"); res.ID != "late" || res.Outcome != OutcomeDropped {
		t.Errorf("late send: %+v", res)
	}
	if err := n.Start(context.Background()); err == nil {
		t.Errorf("second Start succeeded")
	}
	if !n.NeedLeaderElection() {
		t.Errorf("NeedLeaderElection = false")
	}
}

func TestInvalidURL(t *testing.T) {
	n, results := newNotifier(t, Options{})
	start(t, n)
	for _, u := range []string{"", "ftp://files.example.com/x", "example.com/hook", "http://", "http://bad host/?token=s3cr3t"} {
		n.Send(Target{URL: u}, testEvent(""))
		res := next(t, results, "result")
		if res.Outcome != OutcomeFailed || res.Attempts != 0 || res.Err == nil {
			t.Errorf("%q: result = %+v", u, res)
			continue
		}
		if strings.Contains(res.Err.Error(), "s3cr3t") {
			t.Errorf("%q: error quotes the URL: %v", u, res.Err)
		}
	}
}

func TestNilNotifier(t *testing.T) {
	var n *Notifier
	n.Send(Target{URL: "http://example.com"}, testEvent("")) // must not panic
}

// syncBuffer is a bytes.Buffer safe for the workers' concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) write(prefix, args string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(prefix + " " + args + "\n")
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Neither the key nor the URL's userinfo, path or query may reach the logs
// or a Result's error, whatever the failure.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	failing := newServer(t, status(http.StatusInternalServerError))
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	var logs syncBuffer
	n, results := newNotifier(t, Options{
		MaxRetries: 1,
		Logger:     funcr.New(logs.write, funcr.Options{Verbosity: 10}),
	})
	start(t, n)

	const secret = "s3cr3t"
	key := []byte("key-" + secret)
	for _, base := range []string{failing.URL, closed.URL} {
		target := Target{URL: strings.Replace(base, "://", "://user:pw-"+secret+"@", 1) + "/hooks/T0/" + secret + "?token=" + secret + "#" + secret, Key: key}
		n.Send(target, testEvent(""))
		res := next(t, results, "result")
		if res.Outcome != OutcomeFailed || res.Attempts != 2 {
			t.Fatalf("result = %+v", res)
		}
		if msg := res.Err.Error(); strings.Contains(msg, secret) || !strings.Contains(msg, strings.TrimPrefix(base, "http://")) {
			t.Errorf("result error = %q", msg)
		}
		for _, s := range []string{fmt.Sprint(target), fmt.Sprintf("%+v", target), fmt.Sprintf("%#v", target)} {
			if strings.Contains(s, secret) {
				t.Errorf("formatted target = %s", s)
			}
		}
	}
	out := logs.String()
	if !strings.Contains(out, "will retry") || !strings.Contains(out, "notification failed") {
		t.Fatalf("expected retry and failure logs, got:\n%s", out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("logs contain a secret:\n%s", out)
	}
}

// counterValue reads a series from controller-runtime's registry, the one
// the manager serves, so the test also proves the registration.
func counterValue(t *testing.T, o Outcome) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "odoo_operator_notifications_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == string(o) {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("odoo_operator_notifications_total{result=%q} is not on the controller-runtime registry", o)
	return 0
}

func TestMetrics(t *testing.T) {
	// New registers the counters once, however many Notifiers there are.
	New(Options{Logger: quiet})
	registerMetrics()
	New(Options{Logger: quiet})

	srv := newServer(t, status(http.StatusBadRequest))
	ok := newServer(t, status(http.StatusOK))
	before := map[Outcome]float64{}
	for _, o := range []Outcome{OutcomeDelivered, OutcomeFailed, OutcomeDropped} {
		before[o] = counterValue(t, o)
	}
	n, results := newNotifier(t, Options{QueueSize: 1})
	n.Send(Target{URL: ok.URL}, testEvent("a"))
	n.Send(Target{URL: ok.URL}, testEvent("b")) // drops a
	next(t, results, "drop")
	start(t, n)
	next(t, results, "delivery")
	n.Send(Target{URL: srv.URL}, testEvent("c"))
	next(t, results, "failure")
	for o, want := range map[Outcome]float64{OutcomeDelivered: 1, OutcomeFailed: 1, OutcomeDropped: 1} {
		if got := counterValue(t, o) - before[o]; got != want {
			t.Errorf("%s grew by %v, want %v", o, got, want)
		}
	}
}

// With the default egress policy, a webhook URL at an internal address
// (the kube-apiserver on loopback, say) receives nothing, whether the URL
// names the address or a name that resolves to it; the result says why.
func TestInternalReceiverRefused(t *testing.T) {
	srv := newServer(t, status(http.StatusOK))
	n, results := newNotifier(t, Options{Egress: egress.Policy{Allow: []egress.Rule{}}, MaxRetries: -1})
	start(t, n)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	for _, u := range []string{srv.URL + "/hook", fmt.Sprintf("http://localhost:%d/hook", port)} {
		n.Send(Target{URL: u}, Event{Type: EventPhaseChanged})
		r := next(t, results, "result")
		if r.Outcome != OutcomeFailed || !errors.Is(r.Err, egress.ErrRefused) || !strings.Contains(r.Err.Error(), "--egress-allow") {
			t.Errorf("%s: outcome %s, error %v; want failed, refused by the egress policy", u, r.Outcome, r.Err)
		}
	}
	select {
	case req := <-srv.reqs:
		t.Fatalf("the internal receiver got a request: %s", req.path)
	default:
	}
}
