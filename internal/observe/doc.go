// Package observe makes the operator observable without touching the
// controllers' logic: Prometheus metrics read from the informer cache at
// scrape time (collector.go), operation steps derived from status transitions
// (steps.go) and reported as structured log lines, OpenTelemetry spans and
// duration histograms (recorder.go), a tracing wrapper around reconcilers
// (tracing.go), and the webhook certificate's expiry (certexpiry.go).
//
// Every metric name starts with odoo_operator_. Labels are bounded: the
// instance's namespace and name plus small enums (phase, operation kind,
// step, result, error category). Images and messages are never labels.
package observe
