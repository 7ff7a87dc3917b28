package observe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Options configure Setup.
type Options struct {
	// OTLPEndpoint is the OTLP/HTTP URL spans are exported to; empty means
	// the standard OTEL_EXPORTER_OTLP_* variables, and tracing is off when
	// those are unset too.
	OTLPEndpoint string
	// WebhookCertDir holds the webhook server's tls.crt; empty when the
	// webhooks are off (no certificate metric then).
	WebhookCertDir string
}

// Setup adds the operator's observability to mgr: the scrape-time
// collectors on controller-runtime's metrics registry (served on the
// metrics endpoint), the tracer provider when tracing is on, and the
// recorder of operation steps, which runs on the leader only (the replica
// whose controllers act, so each step is logged and traced once).
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	log := ctrl.Log.WithName("observe")
	collectors := []prometheus.Collector{&Collector{Reader: mgr.GetCache(), Log: log}}
	if opts.WebhookCertDir != "" {
		collectors = append(collectors, &CertExpiryCollector{CertDir: opts.WebhookCertDir})
	}
	for _, c := range collectors {
		if err := metrics.Registry.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return fmt.Errorf("registering metrics: %w", err)
		}
	}
	m, err := NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	if TracingEnabled(opts.OTLPEndpoint) {
		tp, err := NewTracerProvider(ctx, opts.OTLPEndpoint)
		if err != nil {
			return err
		}
		SetGlobalTracing(tp)
		if err := mgr.Add(&tracingShutdown{shutdown: tp.Shutdown}); err != nil {
			return err
		}
		log.Info("tracing: exporting spans over OTLP/HTTP", "endpoint", endpointForLog(opts.OTLPEndpoint))
	}
	rec := &Recorder{Log: ctrl.Log.WithName("operations"), Tracer: Tracer(), Metrics: m}
	return mgr.Add(&recorderRunnable{cache: mgr.GetCache(), rec: rec})
}

// endpointForLog never prints a URL's user info.
func endpointForLog(endpoint string) string {
	if endpoint == "" {
		return "(from OTEL_EXPORTER_OTLP_* environment)"
	}
	return redactURL(endpoint)
}

// tracingShutdown flushes the batched spans when the manager stops. It runs
// on every replica, leader or not.
type tracingShutdown struct {
	shutdown func(context.Context) error
}

func (t *tracingShutdown) Start(ctx context.Context) error {
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return t.shutdown(sctx)
}

func (t *tracingShutdown) NeedLeaderElection() bool { return false }

var _ manager.LeaderElectionRunnable = (*tracingShutdown)(nil)

// recorderRunnable registers the recorder's event handlers on the cache's
// informers once this replica leads, and removes them when it stops.
type recorderRunnable struct {
	cache cache.Informers
	rec   *Recorder
}

func (r *recorderRunnable) Start(ctx context.Context) error {
	type registered struct {
		inf cache.Informer
		reg toolscache.ResourceEventHandlerRegistration
	}
	var regs []registered
	for _, obj := range []client.Object{&odoov1alpha2.OdooInstance{}, &odoov1alpha2.OdooBackupJob{}, &odoov1alpha2.OdooRestoreJob{}} {
		inf, err := r.cache.GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("operation recorder: informer for %T: %w", obj, err)
		}
		reg, err := inf.AddEventHandler(r.rec.Handler())
		if err != nil {
			return fmt.Errorf("operation recorder: %w", err)
		}
		regs = append(regs, registered{inf, reg})
	}
	<-ctx.Done()
	for _, x := range regs {
		_ = x.inf.RemoveEventHandler(x.reg)
	}
	return nil
}
