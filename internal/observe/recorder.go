package observe

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	toolscache "k8s.io/client-go/tools/cache"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// durationBuckets span a few seconds (a small backup) to several hours (a
// large upgrade or restore).
var durationBuckets = []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800}

// Metrics are the operator's event-driven metrics: observed when the
// recorder sees an operation end.
type Metrics struct {
	UpgradeDuration *prometheus.HistogramVec
	BackupDuration  *prometheus.HistogramVec
	RestoreDuration *prometheus.HistogramVec
	Upgrades        *prometheus.CounterVec
	Rollbacks       *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		UpgradeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "odoo_operator_upgrade_duration_seconds", Help: "Duration of finished module upgrades, from start to Success or Failed.", Buckets: durationBuckets,
		}, []string{"result"}),
		BackupDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "odoo_operator_backup_duration_seconds", Help: "Duration of finished OdooBackupJobs, from creation to Completed or Failed.", Buckets: durationBuckets,
		}, []string{"result"}),
		RestoreDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "odoo_operator_restore_duration_seconds", Help: "Duration of finished OdooRestoreJobs, from creation to Completed or Failed.", Buckets: durationBuckets,
		}, []string{"result"}),
		Upgrades: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "odoo_operator_upgrades_total", Help: "Module upgrades seen ending, by result (Success, Failed).",
		}, []string{"result"}),
		Rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "odoo_operator_rollbacks_total", Help: "Automatic rollbacks seen happening, by reason.",
		}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.UpgradeDuration, m.BackupDuration, m.RestoreDuration, m.Upgrades, m.Rollbacks} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	// Series at zero from the start, so that increase() and alerts see the
	// first one.
	// The histograms' result series too: increase() over a series born
	// with its first observation misses that observation.
	for _, r := range []string{string(odoov1alpha2.UpgradeSuccess), string(odoov1alpha2.UpgradeFailed)} {
		m.Upgrades.WithLabelValues(r)
		m.UpgradeDuration.WithLabelValues(r)
	}
	for _, r := range []string{string(odoov1alpha2.JobCompleted), string(odoov1alpha2.JobFailed)} {
		m.BackupDuration.WithLabelValues(r)
		m.RestoreDuration.WithLabelValues(r)
	}
	return m, nil
}

// Recorder turns status transitions of OdooInstances, OdooBackupJobs and
// OdooRestoreJobs into structured log lines, spans and metrics. Its
// methods are informer event handlers.
type Recorder struct {
	Log     logr.Logger
	Tracer  trace.Tracer
	Metrics *Metrics
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	tracker *tracker
	spans   map[string]trace.Span
}

func (r *Recorder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Handler is the informer event handler for one kind of object.
func (r *Recorder) Handler() toolscache.ResourceEventHandler {
	return recorderHandler{r}
}

type recorderHandler struct{ r *Recorder }

func (h recorderHandler) OnAdd(obj any, initial bool) { h.r.seen(nil, obj, initial) }
func (h recorderHandler) OnUpdate(old, obj any)       { h.r.seen(old, obj, false) }
func (h recorderHandler) OnDelete(obj any) {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if k := objectKey(obj); k != "" {
		h.r.emit(h.r.locked(func(t *tracker) []event { return t.forget(h.r.now(), k) }))
	}
}

func objectKey(obj any) string {
	switch o := obj.(type) {
	case *odoov1alpha2.OdooInstance:
		return "OdooInstance/" + o.Namespace + "/" + o.Name
	case *odoov1alpha2.OdooBackupJob:
		return "OdooBackupJob/" + o.Namespace + "/" + o.Name
	case *odoov1alpha2.OdooRestoreJob:
		return "OdooRestoreJob/" + o.Namespace + "/" + o.Name
	}
	return ""
}

func (r *Recorder) locked(f func(*tracker) []event) []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tracker == nil {
		r.tracker = newTracker()
	}
	return f(r.tracker)
}

// seen handles one new state of an object (old is nil on an add).
func (r *Recorder) seen(old, obj any, initial bool) {
	var snaps []progress
	switch o := obj.(type) {
	case *odoov1alpha2.OdooInstance:
		snaps = instanceProgress(o)
		if prev, ok := old.(*odoov1alpha2.OdooInstance); ok {
			r.rollback(prev, o)
		}
	case *odoov1alpha2.OdooBackupJob:
		snaps = []progress{backupProgress(o)}
	case *odoov1alpha2.OdooRestoreJob:
		snaps = []progress{restoreProgress(o)}
	default:
		return
	}
	k := objectKey(obj)
	r.emit(r.locked(func(t *tracker) []event { return t.observe(r.now(), k, snaps, initial) }))
}

// rollback counts and logs an automatic rollback when one appears.
func (r *Recorder) rollback(old, cur *odoov1alpha2.OdooInstance) {
	rb := cur.Status.Deployment.Rollback
	if rb == nil || rb.Time == nil {
		return
	}
	if prev := old.Status.Deployment.Rollback; prev != nil && prev.Time != nil && prev.Time.Equal(rb.Time) {
		return
	}
	if r.Metrics != nil {
		r.Metrics.Rollbacks.WithLabelValues(rb.Reason).Inc()
	}
	r.Log.Info("automatic rollback", "namespace", cur.Namespace, "instance", cur.Name, "reason", rb.Reason,
		"fromImage", rb.FromImage, "toImage", rb.ToImage)
}

// emit reports events: one log line each, spans, metrics.
func (r *Recorder) emit(events []event) {
	for _, e := range events {
		kv := []any{"namespace", e.p.namespace, "instance", e.p.instance, "operation", e.p.kind, "object", e.p.object}
		switch e.typ {
		case opStarted:
			r.Log.Info("operation started", kv...)
			r.span(e)
		case stepStarted:
			r.Log.Info("operation step started", append(kv, "step", e.step)...)
		case stepFinished:
			r.Log.Info("operation step finished", append(kv, "step", e.step, "durationSeconds", seconds(e.duration()))...)
			r.stepSpan(e)
		case opFinished:
			r.Log.Info("operation finished", append(kv, "result", e.result, "durationSeconds", seconds(e.duration()))...)
			r.endSpan(e)
			r.observe(e)
		}
	}
}

func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

// observe feeds the duration histograms and the upgrade counter.
func (r *Recorder) observe(e event) {
	if r.Metrics == nil || e.result == resultSuperseded || e.result == resultEnded {
		return
	}
	d := e.duration().Seconds()
	switch e.p.kind {
	case kindUpgrade:
		r.Metrics.UpgradeDuration.WithLabelValues(e.result).Observe(d)
		r.Metrics.Upgrades.WithLabelValues(e.result).Inc()
	case kindBackup:
		r.Metrics.BackupDuration.WithLabelValues(e.result).Observe(d)
	case kindRestore:
		r.Metrics.RestoreDuration.WithLabelValues(e.result).Observe(d)
	}
}

func (r *Recorder) attrs(p progress) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("odoo.namespace", p.namespace), attribute.String("odoo.instance", p.instance),
		attribute.String("odoo.operation", p.kind), attribute.String("odoo.object", p.object),
	}
}

// span returns the operation's span, started at the operation's start.
func (r *Recorder) span(e event) trace.Span {
	if r.Tracer == nil {
		return nil
	}
	k := e.p.key()
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.spans[k]; ok {
		return s
	}
	if r.spans == nil {
		r.spans = map[string]trace.Span{}
	}
	start := e.p.started
	if start.IsZero() {
		start = e.start
	}
	_, s := r.Tracer.Start(context.Background(), e.p.kind, trace.WithTimestamp(start),
		trace.WithAttributes(r.attrs(e.p)...), trace.WithSpanKind(trace.SpanKindInternal))
	r.spans[k] = s
	return s
}

// stepSpan records a finished step as a child of its operation's span.
func (r *Recorder) stepSpan(e event) {
	parent := r.span(e)
	if parent == nil {
		return
	}
	ctx := trace.ContextWithSpan(context.Background(), parent)
	_, s := r.Tracer.Start(ctx, e.p.kind+"/"+e.step, trace.WithTimestamp(e.start),
		trace.WithAttributes(append(r.attrs(e.p), attribute.String("odoo.step", e.step))...))
	s.End(trace.WithTimestamp(e.end))
}

// endSpan ends the operation's span with its result.
func (r *Recorder) endSpan(e event) {
	s := r.span(e)
	if s == nil {
		return
	}
	r.mu.Lock()
	delete(r.spans, e.p.key())
	r.mu.Unlock()
	s.SetAttributes(attribute.String("odoo.result", e.result))
	if e.result == string(odoov1alpha2.UpgradeFailed) || e.result == string(odoov1alpha2.JobFailed) {
		s.SetStatus(codes.Error, e.result)
	}
	s.End(trace.WithTimestamp(e.end))
}
