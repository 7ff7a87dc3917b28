package observe

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// logSink captures log lines as "msg k=v k=v" strings (funcr's format).
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.lines = append(s.lines, args)
	}, funcr.Options{})
}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }

type recorderFixture struct {
	rec   *Recorder
	logs  *logSink
	spans *tracetest.SpanRecorder
	reg   *prometheus.Registry
	clock *clock
}

func newRecorderFixture(t *testing.T) *recorderFixture {
	t.Helper()
	f := &recorderFixture{logs: &logSink{}, spans: tracetest.NewSpanRecorder(), reg: prometheus.NewPedanticRegistry(),
		clock: &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}}
	m, err := NewMetrics(f.reg)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(f.spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	f.rec = &Recorder{Log: f.logs.logger(), Tracer: tp.Tracer(TracerName), Metrics: m, Now: f.clock.now}
	return f
}

func upgrading(inst *odoov1alpha2.OdooInstance, start time.Time, phase odoov1alpha2.UpgradePhase, step odoov1alpha2.UpgradeStep) *odoov1alpha2.OdooInstance {
	c := inst.DeepCopy()
	st := metav1.NewTime(start)
	c.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: phase, Step: step, StartTime: &st, ImageAttempted: "odoo:18.0-v2"}
	return c
}

// TestRecorderUpgradeStepsLogsSpansAndMetrics plays an upgrade's status
// transitions through the informer handler and checks the log lines (one
// per step start and end, with instance, operation, step and duration),
// the spans (one per finished step, children of the operation's span, with
// the transition times), the duration histogram and the result counter.
func TestRecorderUpgradeStepsLogsSpansAndMetrics(t *testing.T) {
	f := newRecorderFixture(t)
	h := f.rec.Handler()
	base := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "shops", Name: "alpha"}}
	base.Spec.AdminPassword = "s3cret-master" // must never reach a log line or span
	start := f.clock.t

	h.OnAdd(base, true) // initial list: nothing running
	prev := base
	steps := []odoov1alpha2.UpgradeStep{odoov1alpha2.UpgradeStepSnapshot, odoov1alpha2.UpgradeStepStopCron, odoov1alpha2.UpgradeStepUpgrade, odoov1alpha2.UpgradeStepVerify, odoov1alpha2.UpgradeStepRollout}
	for i, s := range steps {
		cur := upgrading(base, start, odoov1alpha2.UpgradeRunning, s)
		h.OnUpdate(prev, cur)
		prev = cur
		f.clock.add(time.Duration(i+1) * 10 * time.Second) // steps last 10s, 20s, ... 50s
	}
	done := upgrading(base, start, odoov1alpha2.UpgradeSuccess, odoov1alpha2.UpgradeStepDone)
	end := metav1.NewTime(f.clock.t)
	done.Status.Upgrade.CompletionTime = &end
	h.OnUpdate(prev, done)
	// The status keeps saying Success on later updates (other fields
	// change): nothing more is reported.
	later := done.DeepCopy()
	later.Status.ReadyReplicas = 2
	h.OnUpdate(done, later)
	h.OnUpdate(later, later.DeepCopy())

	wantLogs := []string{
		`"level"=0 "msg"="operation started" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha"`,
		`"level"=0 "msg"="operation step started" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha" "step"="Snapshot"`,
		`"level"=0 "msg"="operation step finished" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha" "step"="Snapshot" "durationSeconds"=10`,
		`"level"=0 "msg"="operation step started" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha" "step"="StopCron"`,
		`"level"=0 "msg"="operation step finished" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha" "step"="StopCron" "durationSeconds"=20`,
		`"level"=0 "msg"="operation step started" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha" "step"="Upgrade"`,
		`"level"=0 "msg"="operation step finished" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha" "step"="Upgrade" "durationSeconds"=30`,
		`"level"=0 "msg"="operation step started" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha" "step"="Verify"`,
		`"level"=0 "msg"="operation step finished" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha" "step"="Verify" "durationSeconds"=40`,
		`"level"=0 "msg"="operation step started" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha" "step"="Rollout"`,
		`"level"=0 "msg"="operation step finished" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha" "step"="Rollout" "durationSeconds"=50`,
		`"level"=0 "msg"="operation finished" "namespace"="shops" "instance"="alpha" "operation"="Upgrade" "object"="alpha" "result"="Success" "durationSeconds"=150`,
	}
	if got := strings.Join(f.logs.lines, "\n"); got != strings.Join(wantLogs, "\n") {
		t.Errorf("log lines:\n%s\nwant:\n%s", got, strings.Join(wantLogs, "\n"))
	}
	for _, l := range f.logs.lines {
		if strings.Contains(l, "s3cret") {
			t.Errorf("a log line holds the master password: %s", l)
		}
	}

	ended := f.spans.Ended()
	if len(ended) != len(steps)+1 {
		t.Fatalf("%d spans ended, want %d (one per step and the operation)", len(ended), len(steps)+1)
	}
	op := ended[len(ended)-1]
	if op.Name() != "Upgrade" || !op.StartTime().Equal(start) || !op.EndTime().Equal(end.Time) {
		t.Errorf("operation span %q %v..%v, want Upgrade %v..%v", op.Name(), op.StartTime(), op.EndTime(), start, end.Time)
	}
	stepStart := start
	for i, s := range ended[:len(steps)] {
		wantEnd := stepStart.Add(time.Duration(i+1) * 10 * time.Second)
		if s.Name() != "Upgrade/"+string(steps[i]) || !s.StartTime().Equal(stepStart) || !s.EndTime().Equal(wantEnd) {
			t.Errorf("span %d: %q %v..%v, want %q %v..%v", i, s.Name(), s.StartTime(), s.EndTime(), "Upgrade/"+string(steps[i]), stepStart, wantEnd)
		}
		if s.Parent().SpanID() != op.SpanContext().SpanID() || s.Parent().TraceID() != op.SpanContext().TraceID() {
			t.Errorf("span %q is not a child of the operation's span", s.Name())
		}
		for _, a := range s.Attributes() {
			if strings.Contains(a.Value.String(), "s3cret") {
				t.Errorf("span %q attribute %s holds the master password", s.Name(), a.Key)
			}
		}
		stepStart = wantEnd
	}

	if n := testutil.CollectAndCount(f.rec.Metrics.UpgradeDuration); n != 2 {
		t.Errorf("upgrade duration histogram has %d series, want 2 (Success, Failed)", n)
	}
	if got := histogramCount(t, f.reg, "odoo_operator_upgrade_duration_seconds", "Failed"); got != 0 {
		t.Errorf("%d failed upgrades observed, want 0", got)
	}
	wantHist := `
# HELP odoo_operator_upgrades_total Module upgrades seen ending, by result (Success, Failed).
# TYPE odoo_operator_upgrades_total counter
odoo_operator_upgrades_total{result="Failed"} 0
odoo_operator_upgrades_total{result="Success"} 1
`
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(wantHist), "odoo_operator_upgrades_total"); err != nil {
		t.Error(err)
	}
	if got := histogramSum(t, f.reg, "odoo_operator_upgrade_duration_seconds", "Success"); got != 150 {
		t.Errorf("upgrade duration sum %v, want 150", got)
	}
}

// TestRecorderBackupAndRestoreDurations: a backup that fails and a restore
// that completes feed their histograms with creation-to-completion times;
// a failed operation's span carries an error status.
func TestRecorderBackupAndRestoreDurations(t *testing.T) {
	f := newRecorderFixture(t)
	created := metav1.NewTime(f.clock.t)
	b := &odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Namespace: "shops", Name: "alpha-1", UID: "u1", CreationTimestamp: created}}
	b.Spec.OdooInstanceRef.Name = "alpha"
	h := f.rec.Handler()
	h.OnAdd(b, false)
	running := b.DeepCopy()
	running.Status.Phase = odoov1alpha2.JobRunning
	f.clock.add(5 * time.Second)
	h.OnUpdate(b, running)
	failed := running.DeepCopy()
	f.clock.add(40 * time.Second)
	done := metav1.NewTime(f.clock.t)
	failed.Status.Phase, failed.Status.CompletionTime = odoov1alpha2.JobFailed, &done
	h.OnUpdate(running, failed)

	r := &odoov1alpha2.OdooRestoreJob{ObjectMeta: metav1.ObjectMeta{Namespace: "shops", Name: "alpha-r", UID: "u2", CreationTimestamp: metav1.NewTime(f.clock.t)}}
	r.Spec.OdooInstanceRef.Name = "alpha"
	h.OnAdd(r, false)
	prev := r
	for _, s := range []odoov1alpha2.RestoreStep{odoov1alpha2.RestoreStepLoad, odoov1alpha2.RestoreStepSwap, odoov1alpha2.RestoreStepStart} {
		cur := prev.DeepCopy()
		cur.Status.Phase, cur.Status.Step = odoov1alpha2.JobRunning, s
		f.clock.add(time.Minute)
		h.OnUpdate(prev, cur)
		prev = cur
	}
	fin := prev.DeepCopy()
	f.clock.add(time.Minute)
	ft := metav1.NewTime(f.clock.t)
	fin.Status.Phase, fin.Status.Step, fin.Status.CompletionTime = odoov1alpha2.JobCompleted, odoov1alpha2.RestoreStepDone, &ft
	h.OnUpdate(prev, fin)

	if got := histogramSum(t, f.reg, "odoo_operator_backup_duration_seconds", "Failed"); got != 45 {
		t.Errorf("backup duration %v, want 45", got)
	}
	if got := histogramSum(t, f.reg, "odoo_operator_restore_duration_seconds", "Completed"); got != 240 {
		t.Errorf("restore duration %v, want 240", got)
	}
	var names []string
	for _, s := range f.spans.Ended() {
		names = append(names, s.Name())
		if s.Name() == "Backup" && s.Status().Code != codes.Error {
			t.Errorf("failed backup's span status %v, want Error", s.Status())
		}
	}
	want := "Backup/Pending Backup/Running Backup Restore/Pending Restore/Load Restore/Swap Restore/Start Restore"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("spans %q, want %q", got, want)
	}
	wantLine := `"level"=0 "msg"="operation step finished" "namespace"="shops" "instance"="alpha" "operation"="Restore" "object"="alpha-r" "step"="Swap" "durationSeconds"=60`
	if !contains(f.logs.lines, wantLine) {
		t.Errorf("no line %s in\n%s", wantLine, strings.Join(f.logs.lines, "\n"))
	}
}

// TestRecorderAdoptsRunningOperationsSilently: after an operator restart the
// informer's initial list shows an upgrade mid-way. Nothing is logged for
// it then (it did not start now), its next step change is, and its end is
// timed from the upgrade's recorded start.
func TestRecorderAdoptsRunningOperationsSilently(t *testing.T) {
	f := newRecorderFixture(t)
	h := f.rec.Handler()
	start := f.clock.t.Add(-10 * time.Minute)
	base := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "shops", Name: "beta"}}
	mid := upgrading(base, start, odoov1alpha2.UpgradeRunning, odoov1alpha2.UpgradeStepUpgrade)
	h.OnAdd(mid, true)
	if len(f.logs.lines) != 0 {
		t.Fatalf("initial list logged %q", f.logs.lines)
	}
	f.clock.add(time.Minute)
	failed := upgrading(base, start, odoov1alpha2.UpgradeFailed, odoov1alpha2.UpgradeStepDone)
	h.OnUpdate(mid, failed)
	want := []string{
		`"level"=0 "msg"="operation step finished" "namespace"="shops" "instance"="beta" "operation"="Upgrade" "object"="beta" "step"="Upgrade" "durationSeconds"=60`,
		`"level"=0 "msg"="operation finished" "namespace"="shops" "instance"="beta" "operation"="Upgrade" "object"="beta" "result"="Failed" "durationSeconds"=660`,
	}
	if got := strings.Join(f.logs.lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("log lines:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	// Later updates of the same failed upgrade, and a later initial list
	// (a re-list), do not count it again.
	h.OnUpdate(failed, failed.DeepCopy())
	h.OnAdd(failed, true)
	if got := histogramCount(t, f.reg, "odoo_operator_upgrade_duration_seconds", "Failed"); got != 1 {
		t.Errorf("%d failed upgrades observed, want 1", got)
	}
}

// TestRecorderCountsRollbacks: a rollback appearing in status is counted
// and logged once, not again on later updates.
func TestRecorderCountsRollbacks(t *testing.T) {
	f := newRecorderFixture(t)
	h := f.rec.Handler()
	base := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "shops", Name: "gamma"}}
	rolled := base.DeepCopy()
	tm := metav1.NewTime(f.clock.t)
	rolled.Status.Deployment.Rollback = &odoov1alpha2.RollbackStatus{Reason: odoov1alpha2.ReasonCrashLooping, Time: &tm, FromImage: "odoo:b", ToImage: "odoo:a"}
	h.OnUpdate(base, rolled)
	h.OnUpdate(rolled, rolled.DeepCopy())
	want := `
# HELP odoo_operator_rollbacks_total Automatic rollbacks seen happening, by reason.
# TYPE odoo_operator_rollbacks_total counter
odoo_operator_rollbacks_total{reason="CrashLooping"} 1
`
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want), "odoo_operator_rollbacks_total"); err != nil {
		t.Error(err)
	}
	if !contains(f.logs.lines, `"level"=0 "msg"="automatic rollback" "namespace"="shops" "instance"="gamma" "reason"="CrashLooping" "fromImage"="odoo:b" "toImage"="odoo:a"`) {
		t.Errorf("rollback not logged: %q", f.logs.lines)
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func histogramSum(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	h := histogram(t, reg, name, result)
	if h == nil {
		return -1
	}
	return h.GetSampleSum()
}

func histogramCount(t *testing.T, reg *prometheus.Registry, name, result string) uint64 {
	t.Helper()
	h := histogram(t, reg, name, result)
	if h == nil {
		return 0
	}
	return h.GetSampleCount()
}

func histogram(t *testing.T, reg *prometheus.Registry, name, result string) interface {
	GetSampleSum() float64
	GetSampleCount() uint64
} {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetHistogram()
				}
			}
		}
	}
	t.Errorf("no %s{result=%q}", name, result)
	return nil
}

var _ = fmt.Sprint

// TestRecorderFilestoreMigrationStepsFromTheLock: a filestore migration's
// steps are the ones its lock record (status.operation) names, each logged
// with its duration, and the migration ends when its record goes away.
func TestRecorderFilestoreMigrationStepsFromTheLock(t *testing.T) {
	f := newRecorderFixture(t)
	h := f.rec.Handler()
	start := metav1.NewTime(f.clock.t)
	base := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "shops", Name: "delta"}}
	at := func(step string) *odoov1alpha2.OdooInstance {
		c := base.DeepCopy()
		c.Status.Filestore = &odoov1alpha2.FilestoreStatus{Migration: &odoov1alpha2.FilestoreMigration{
			Phase: odoov1alpha2.FilestoreMigrationCopying, StartTime: &start, TargetStorageClass: "fast"}}
		c.Status.Operation = &odoov1alpha2.OperationStatus{Kind: odoov1alpha2.OperationFilestoreMigration, Name: "delta", Step: step, Started: start}
		return c
	}
	h.OnAdd(base, true)
	prev := base
	for _, step := range []string{"create-target", "run-copy", "wait-copy", "swap"} {
		cur := at(step)
		h.OnUpdate(prev, cur)
		prev = cur
		f.clock.add(30 * time.Second)
	}
	h.OnUpdate(prev, base.DeepCopy())
	kv := `"namespace"="shops" "instance"="delta" "operation"="FilestoreMigration" "object"="delta"`
	want := []string{`"level"=0 "msg"="operation started" ` + kv}
	for _, step := range []string{"create-target", "run-copy", "wait-copy", "swap"} {
		want = append(want,
			`"level"=0 "msg"="operation step started" `+kv+` "step"="`+step+`"`,
			`"level"=0 "msg"="operation step finished" `+kv+` "step"="`+step+`" "durationSeconds"=30`)
	}
	want = append(want, `"level"=0 "msg"="operation finished" `+kv+` "result"="Ended" "durationSeconds"=120`)
	if got := strings.Join(f.logs.lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("log lines:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if n := len(f.spans.Ended()); n != 5 {
		t.Errorf("%d spans ended, want 5 (four steps and the migration)", n)
	}
}
