package observe

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// TracerName is the instrumentation scope of the operator's spans.
const TracerName = "github.com/odoo-operator/odoo-operator"

// tracingEnv are the standard variables that turn the OTLP exporter on
// without a flag.
var tracingEnv = []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"}

// TracingEnabled tells whether spans are exported: an endpoint given by
// flag, or by the standard OpenTelemetry environment, and OTEL_SDK_DISABLED
// not true.
func TracingEnabled(endpoint string) bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	if endpoint != "" {
		return true
	}
	for _, e := range tracingEnv {
		if os.Getenv(e) != "" {
			return true
		}
	}
	return false
}

// NewTracerProvider builds the provider exporting over OTLP/HTTP. endpoint
// is a URL (http://collector:4318); empty means the standard OTEL_EXPORTER_OTLP_*
// variables, which the exporter reads itself (headers, TLS, timeout too).
// The caller shuts it down, which flushes the spans still batched.
func NewTracerProvider(ctx context.Context, endpoint string, opts ...sdktrace.TracerProviderOption) (*sdktrace.TracerProvider, error) {
	var eopts []otlptracehttp.Option
	if endpoint != "" {
		eopts = append(eopts, otlptracehttp.WithEndpointURL(tracesURL(endpoint)))
	}
	exp, err := otlptracehttp.New(ctx, eopts...)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName("odoo-operator")))
	if err != nil {
		return nil, err
	}
	all := append([]sdktrace.TracerProviderOption{sdktrace.WithBatcher(exp), sdktrace.WithResource(res)}, opts...)
	return sdktrace.NewTracerProvider(all...), nil
}

// SetGlobalTracing installs tp as the global provider (which TraceReconciler
// and the Recorder use) with W3C trace context propagation.
func SetGlobalTracing(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
}

// Tracer is the operator's tracer from the global provider: a no-op until
// SetGlobalTracing installs an exporting one.
func Tracer() trace.Tracer {
	if tp := otel.GetTracerProvider(); tp != nil {
		return tp.Tracer(TracerName)
	}
	return noop.NewTracerProvider().Tracer(TracerName)
}

// TraceReconciler wraps a reconciler so that each reconcile is a span
// named "Reconcile <kind>" carrying the object's namespace and name, the
// result and the error. The reconciler's context carries the span, so
// spans its code starts become children. With tracing off the global
// provider is a no-op and the wrapper costs a few allocations.
func TraceReconciler(kind string, r reconcile.Reconciler) reconcile.Reconciler {
	name := "Reconcile " + kind
	return reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		ctx, span := Tracer().Start(ctx, name, trace.WithAttributes(
			attribute.String("k8s.namespace.name", req.Namespace),
			attribute.String("odoo.object", req.Name),
			attribute.String("odoo.kind", kind),
		))
		defer span.End()
		res, err := r.Reconcile(ctx, req)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "reconcile failed")
		}
		if res.RequeueAfter > 0 {
			span.SetAttributes(attribute.String("odoo.requeue_after", res.RequeueAfter.String()))
		}
		return res, err
	})
}

// redactURL drops a URL's user info (a token some collectors take there).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// tracesURL adds OTLP's /v1/traces path to a bare collector URL, as the
// exporter does for OTEL_EXPORTER_OTLP_ENDPOINT: --otlp-endpoint takes the
// same value.
func tracesURL(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || strings.Trim(u.Path, "/") != "" {
		return endpoint
	}
	u.Path = "/v1/traces"
	return u.String()
}
