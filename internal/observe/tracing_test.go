package observe

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// otlpCollector is an in-process OTLP/HTTP receiver: it decodes the
// protobuf export requests the real exporter sends.
type otlpCollector struct {
	mu    sync.Mutex
	paths []string
	spans []*tracepb.Span
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.paths = append(c.paths, r.URL.Path)
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			c.spans = append(c.spans, ss.GetSpans()...)
		}
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

func (c *otlpCollector) byName() map[string]*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]*tracepb.Span{}
	for _, s := range c.spans {
		m[s.GetName()] = s
	}
	return m
}

func attr(s *tracepb.Span, key string) string {
	for _, a := range s.GetAttributes() {
		if a.GetKey() == key {
			return a.GetValue().GetStringValue()
		}
	}
	return ""
}

// TestOTLPExportOfReconcileAndStepSpans exports, over real OTLP/HTTP to an
// in-process collector, the span of a wrapped reconcile (with its error) and
// the spans of an upgrade step recorded from status transitions, with the
// transitions' timestamps.
func TestOTLPExportOfReconcileAndStepSpans(t *testing.T) {
	col := &otlpCollector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	for _, e := range append([]string{"OTEL_SDK_DISABLED"}, tracingEnv...) {
		t.Setenv(e, "")
	}
	if TracingEnabled("") {
		t.Fatal("tracing is on without an endpoint")
	}
	if !TracingEnabled(srv.URL) {
		t.Fatal("tracing is off with an endpoint")
	}
	ctx := context.Background()
	tp, err := NewTracerProvider(ctx, srv.URL) // a bare URL: /v1/traces is added
	if err != nil {
		t.Fatal(err)
	}
	SetGlobalTracing(tp)

	wrapped := TraceReconciler("OdooInstance", reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		return reconcile.Result{RequeueAfter: time.Minute}, errors.New("database unreachable")
	}))
	if _, err := wrapped.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "shops", Name: "alpha"}}); err == nil {
		t.Fatal("the wrapper swallowed the reconciler's error")
	}

	rec := &Recorder{Log: (&logSink{}).logger(), Tracer: Tracer()}
	h := rec.Handler()
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	base := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "shops", Name: "alpha"}}
	now := start
	rec.Now = func() time.Time { return now }
	a := upgrading(base, start, odoov1alpha2.UpgradeRunning, odoov1alpha2.UpgradeStepUpgrade)
	h.OnUpdate(base, a)
	now = start.Add(90 * time.Second)
	b := upgrading(base, start, odoov1alpha2.UpgradeSuccess, odoov1alpha2.UpgradeStepDone)
	end := metav1.NewTime(now)
	b.Status.Upgrade.CompletionTime = &end
	h.OnUpdate(a, b)

	if err := tp.Shutdown(ctx); err != nil { // flushes the batch
		t.Fatal(err)
	}
	spans := col.byName()
	r := spans["Reconcile OdooInstance"]
	if r == nil {
		t.Fatalf("no reconcile span received; got %v", keys(spans))
	}
	if attr(r, "k8s.namespace.name") != "shops" || attr(r, "odoo.object") != "alpha" {
		t.Errorf("reconcile span attributes %v", r.GetAttributes())
	}
	if r.GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("reconcile span status %v, want error", r.GetStatus())
	}
	step := spans["Upgrade/Upgrade"]
	op := spans["Upgrade"]
	if step == nil || op == nil {
		t.Fatalf("step spans missing; got %v", keys(spans))
	}
	if got := time.Unix(0, int64(step.GetStartTimeUnixNano())).UTC(); !got.Equal(start) {
		t.Errorf("step span starts %v, want %v", got, start)
	}
	if got := time.Unix(0, int64(step.GetEndTimeUnixNano())).UTC(); !got.Equal(now) {
		t.Errorf("step span ends %v, want %v", got, now)
	}
	if string(step.GetParentSpanId()) != string(op.GetSpanId()) {
		t.Error("the step span is not a child of the operation span")
	}
	if attr(step, "odoo.step") != "Upgrade" || attr(op, "odoo.result") != "Success" {
		t.Errorf("attributes: step %v, operation %v", step.GetAttributes(), op.GetAttributes())
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, p := range col.paths {
		if p != "/v1/traces" {
			t.Errorf("export to path %q, want /v1/traces", p)
		}
	}
}

func keys(m map[string]*tracepb.Span) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTracesURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://collector:4318":              "http://collector:4318/v1/traces",
		"http://collector:4318/":             "http://collector:4318/v1/traces",
		"https://collector/custom/v1/traces": "https://collector/custom/v1/traces",
	} {
		if got := tracesURL(in); got != want {
			t.Errorf("tracesURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := redactURL("https://user:token@collector:4318/v1/traces?k=secret"); got != "https://collector:4318/v1/traces" {
		t.Errorf("redactURL kept secrets: %q", got)
	}
}
