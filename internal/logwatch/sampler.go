package logwatch

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// LogSource reads pod logs and lists the pods of an instance.
type LogSource interface {
	// Pods returns the running web and cron pods of the instance.
	Pods(ctx context.Context, instance types.NamespacedName) ([]corev1.Pod, error)
	// Logs returns at most limitBytes of the container's log since since.
	Logs(ctx context.Context, pod *corev1.Pod, container string, since time.Time, limitBytes int64) ([]byte, error)
}

// SamplerOptions bound the cost of log sampling.
type SamplerOptions struct {
	// Interval between two samples of an instance.
	Interval time.Duration
	// Window is how long an error counts in status.health.
	Window time.Duration
	// Workers bounds the instances sampled in parallel.
	Workers int
	// BytesPerSample is the log budget of one instance per sample, shared by
	// its pods: the cost per instance stays flat however chatty Odoo is.
	BytesPerSample int64
	// Container is the Odoo container's name.
	Container string
}

func (o SamplerOptions) withDefaults() SamplerOptions {
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.Window <= 0 {
		o.Window = 10 * time.Minute
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.BytesPerSample <= 0 {
		o.BytesPerSample = 256 << 10
	}
	if o.Container == "" {
		o.Container = "odoo"
	}
	return o
}

// Sampler samples the logs of the instances it is told to watch, on a
// bounded worker pool, and keeps each one's Health. When an instance's
// picture changes it sends the instance on Events, so its reconcile writes
// status.health; the sampler itself never writes to the API.
type Sampler struct {
	source LogSource
	opts   SamplerOptions
	log    logr.Logger
	// Events carries instances whose health changed.
	Events chan event.GenericEvent

	mu      sync.Mutex
	targets map[types.NamespacedName]*target
	now     func() time.Time
}

type target struct {
	agg *Aggregator
	// since is the end of the last sample per pod UID.
	since map[types.UID]time.Time
	// watched is when Watch first registered the instance.
	watched time.Time
	// last is the health last reported, to send events on change only.
	last     Health
	nextRun  time.Time
	sampling bool
}

var (
	logBytesRead = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "odoo_operator_log_bytes_read_total",
		Help: "Bytes of pod logs read by the log sampler.",
	})
	logSamples = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "odoo_operator_log_samples_total",
		Help: "Pod log reads of the log sampler, by result.",
	}, []string{"result"})
	registerMetrics sync.Once
)

// NewSampler returns a Sampler; add it to the manager (it is a Runnable).
func NewSampler(source LogSource, opts SamplerOptions, log logr.Logger) *Sampler {
	registerMetrics.Do(func() {
		crmetrics.Registry.MustRegister(logBytesRead, logSamples)
	})
	return &Sampler{
		source: source, opts: opts.withDefaults(), log: log,
		Events:  make(chan event.GenericEvent, 1024),
		targets: map[types.NamespacedName]*target{},
		now:     time.Now,
	}
}

// Watch starts sampling the instance (idempotent).
func (s *Sampler) Watch(instance types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.targets[instance]; !ok {
		s.targets[instance] = &target{agg: NewAggregator(s.opts.Window), since: map[types.UID]time.Time{}, watched: s.now()}
	}
}

// Forget stops sampling the instance and drops what was learned.
func (s *Sampler) Forget(instance types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.targets, instance)
}

// Health returns the instance's current picture; ok is false when the
// instance is not watched.
func (s *Sampler) Health(instance types.NamespacedName) (h Health, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.targets[instance]
	if !ok {
		return Health{}, false
	}
	return t.agg.Health(s.now()), true
}

// TakeNew returns the new signatures and CRITICAL records of the instance
// since the last call.
func (s *Sampler) TakeNew(instance types.NamespacedName) (fresh, critical []ErrorEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.targets[instance]; ok {
		return t.agg.TakeNew()
	}
	return nil, nil
}

// NeedLeaderElection is true: only the leader samples, as only it reconciles.
func (s *Sampler) NeedLeaderElection() bool { return true }

// Start samples until ctx ends.
func (s *Sampler) Start(ctx context.Context) error {
	work := make(chan types.NamespacedName)
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Go(func() {
			for key := range work {
				s.sample(ctx, key)
			}
		})
	}
	tick := time.NewTicker(min(s.opts.Interval/4, time.Second))
	defer func() {
		tick.Stop()
		close(work)
		wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for _, key := range s.due() {
			select {
			case work <- key:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// due returns the instances whose next sample is due and marks them taken.
func (s *Sampler) due() []types.NamespacedName {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var keys []types.NamespacedName
	for key, t := range s.targets {
		if !t.sampling && !now.Before(t.nextRun) {
			t.sampling = true
			keys = append(keys, key)
		}
	}
	return keys
}

// sample reads the new log lines of the instance's pods, within the budget.
// A sample is bounded by one interval: a pods/log read that hangs (a stalled
// connection from the API server to a kubelet) would otherwise hold the
// instance's sampling flag for ever, and it would never be sampled again.
func (s *Sampler) sample(ctx context.Context, key types.NamespacedName) {
	start := s.now()
	ctx, cancel := context.WithTimeout(ctx, s.opts.Interval)
	defer cancel()
	defer func() {
		s.mu.Lock()
		if t, ok := s.targets[key]; ok {
			t.sampling, t.nextRun = false, start.Add(s.opts.Interval)
		}
		s.mu.Unlock()
	}()
	pods, err := s.source.Pods(ctx, key)
	if err != nil {
		logSamples.WithLabelValues("error").Inc()
		s.log.V(1).Info("listing pods for log sampling", "instance", key, "error", err.Error())
		return
	}
	s.mu.Lock()
	t, ok := s.targets[key]
	if !ok {
		s.mu.Unlock()
		return
	}
	since := make(map[types.UID]time.Time, len(pods))
	for _, p := range pods {
		if v, ok := t.since[p.UID]; ok {
			since[p.UID] = v
		} else {
			since[p.UID] = firstSince(&p, t.watched, start, s.opts)
		}
	}
	s.mu.Unlock()

	var records []Record
	budget := s.opts.BytesPerSample / int64(max(len(pods), 1))
	for i := range pods {
		data, err := s.source.Logs(ctx, &pods[i], s.opts.Container, since[pods[i].UID], budget)
		if err != nil {
			logSamples.WithLabelValues("error").Inc()
			continue
		}
		logSamples.WithLabelValues("ok").Inc()
		logBytesRead.Add(float64(len(data)))
		p := NewParser(bytes.NewReader(data))
		for rec, ok := p.Next(); ok; rec, ok = p.Next() {
			if Notable(rec) {
				if rec.Time.IsZero() {
					// A line without Odoo's timestamp (entrypoint
					// output, a pasted or syslog layout) happened
					// within this sample.
					rec.Time = start
				}
				records = append(records, rec)
			}
		}
		since[pods[i].UID] = start
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok = s.targets[key]
	if !ok {
		return
	}
	t.since = since // pods that are gone are forgotten
	t.agg.Sampled()
	for _, rec := range records {
		t.agg.Add(rec)
	}
	h := t.agg.Health(s.now())
	if changed(t.last, h) {
		t.last = h
		obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
		select {
		case s.Events <- event.GenericEvent{Object: obj}:
		default: // the queue is full: the periodic resync reconciles it later
		}
	}
}

// firstSince is where the log of a pod is read from the first time a sample
// sees it. A pod that started at most one window before the instance was
// watched is read from its start: its lines may predate the sample that
// first lists it (it logged before it was Running, a sample came late, the
// instance was only just watched), and a pod that starts and fails between
// two samples is the one whose lines matter. An older pod (running when the
// operator started) is read from one interval back: its earlier lines were
// seen by the previous operator, or are older than the window.
func firstSince(p *corev1.Pod, watched, start time.Time, o SamplerOptions) time.Time {
	since := start.Add(-o.Interval)
	if st := p.Status.StartTime; st != nil && st.After(watched.Add(-o.Window)) && st.Time.Before(since) {
		return st.Time
	}
	return since
}

// changed is true when the picture differs in what status.health shows.
func changed(a, b Health) bool {
	if a.Sampled != b.Sampled || a.Errors != b.Errors || a.LastMinute != b.LastMinute || !a.LastError.Equal(b.LastError) ||
		len(a.Distinct) != len(b.Distinct) {
		return true
	}
	for i := range a.Distinct {
		if a.Distinct[i].Signature != b.Distinct[i].Signature || a.Distinct[i].Count != b.Distinct[i].Count {
			return true
		}
	}
	return false
}
