package notify

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Outcome is how a delivery ended; it is the "result" label of
// odoo_operator_notifications_total.
type Outcome string

// Outcomes of a delivery.
const (
	// OutcomeDelivered: the receiver answered 2xx.
	OutcomeDelivered Outcome = "delivered"
	// OutcomeFailed: a non-retryable answer, an invalid URL, or retries
	// exhausted.
	OutcomeFailed Outcome = "failed"
	// OutcomeDropped: never finished because the queue overflowed or the
	// Notifier stopped.
	OutcomeDropped Outcome = "dropped"
)

var (
	notificationsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "odoo_operator_notifications_total",
		Help: "Webhook notifications by final result (delivered, failed, dropped).",
	}, []string{"result"})
	registerOnce sync.Once
)

// registerMetrics registers the counters on controller-runtime's registry,
// which the manager serves on its metrics endpoint. It is called from New
// rather than init so that importing the package has no side effect, and it
// tolerates an earlier registration (tests, or a second copy of the package
// in one binary) instead of panicking.
func registerMetrics() {
	registerOnce.Do(func() {
		if err := metrics.Registry.Register(notificationsTotal); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
					notificationsTotal = existing
				}
			}
		}
		// Create every series at zero, so rate() and alerts work before the
		// first failure.
		for _, o := range []Outcome{OutcomeDelivered, OutcomeFailed, OutcomeDropped} {
			notificationsTotal.WithLabelValues(string(o))
		}
	})
}
