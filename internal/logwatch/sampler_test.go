package logwatch

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// fakeSource is a narrow fake of the API server's pods and pods/log.
type fakeSource struct {
	pods  []corev1.Pod
	logs  map[string]string
	reads []int64 // limitBytes of each read
	since []time.Time
}

func (f *fakeSource) Pods(context.Context, types.NamespacedName) ([]corev1.Pod, error) {
	return f.pods, nil
}

func (f *fakeSource) Logs(_ context.Context, pod *corev1.Pod, _ string, since time.Time, limit int64) ([]byte, error) {
	f.reads = append(f.reads, limit)
	f.since = append(f.since, since)
	data := f.logs[pod.Name]
	if int64(len(data)) > limit {
		data = data[:limit]
	}
	return []byte(data), nil
}

func TestSamplerReportsErrorsWithinBudget(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	line := func(offset time.Duration, level, msg string) string {
		return fmt.Sprintf("%s 7 %s shop odoo.sql_db: %s \n", now.Add(offset).Format("2006-01-02 15:04:05,000"), level, msg)
	}
	src := &fakeSource{
		pods: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "web-1", UID: "u1"}}, {ObjectMeta: metav1.ObjectMeta{Name: "cron-1", UID: "u2"}}},
		logs: map[string]string{
			"web-1":  line(-40*time.Second, "INFO", "ok") + line(-30*time.Second, "ERROR", "bad query: SELECT x FROM res_lang") + "ERROR: column res_lang.x does not exist\n",
			"cron-1": line(-10*time.Second, "CRITICAL", "Failed to initialize database `shop`."),
		},
	}
	s := NewSampler(src, SamplerOptions{Interval: time.Minute, BytesPerSample: 4096}, logr.Discard())
	s.now = func() time.Time { return now }
	key := types.NamespacedName{Namespace: "ns", Name: "shop"}
	if _, ok := s.Health(key); ok {
		t.Fatal("health of an instance not watched")
	}
	s.Watch(key)
	s.sample(context.Background(), key)

	h, ok := s.Health(key)
	if !ok || !h.Sampled {
		t.Fatalf("health = %+v, %v", h, ok)
	}
	if h.Errors != 2 || len(h.Distinct) != 2 {
		t.Fatalf("health = %+v, want 2 errors", h)
	}
	if h.Distinct[0].Category != ModuleLoading || h.Distinct[1].Category != DatabaseSchema {
		t.Errorf("categories = %s, %s", h.Distinct[0].Category, h.Distinct[1].Category)
	}
	for _, limit := range src.reads {
		if limit != 2048 {
			t.Errorf("read limit %d, want the budget shared by the 2 pods (2048)", limit)
		}
	}
	if len(s.Events) != 1 {
		t.Errorf("%d events, want 1 for the changed health", len(s.Events))
	}
	// A second sample with nothing new sends no event and reads from the end of the first.
	src.logs = map[string]string{}
	s.sample(context.Background(), key)
	if len(s.Events) != 1 {
		t.Errorf("an unchanged picture sent an event")
	}
	if got := src.since[len(src.since)-1]; !got.Equal(now) {
		t.Errorf("second read since %v, want the first sample's time %v", got, now)
	}
	s.Forget(key)
	if _, ok := s.Health(key); ok {
		t.Error("a forgotten instance still has a health")
	}
}

// blockingSource's reads hang until their context ends, like a pods/log
// request whose kubelet connection stalled.
type blockingSource struct{ fakeSource }

func (b *blockingSource) Logs(ctx context.Context, _ *corev1.Pod, _ string, _ time.Time, _ int64) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A read that hangs ends with the sample's interval: the instance is free
// to be sampled again, and the pod's starting point is kept for that try.
func TestSamplerBoundsAHangingRead(t *testing.T) {
	src := &blockingSource{fakeSource{pods: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "web-1", UID: "u1"}}}}}
	s := NewSampler(src, SamplerOptions{Interval: 50 * time.Millisecond}, logr.Discard())
	key := types.NamespacedName{Namespace: "ns", Name: "shop"}
	s.Watch(key)
	if got := s.due(); len(got) != 1 {
		t.Fatalf("due = %v", got)
	}
	done := make(chan struct{})
	go func() {
		s.sample(context.Background(), key)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a hanging read held the sample past its interval")
	}
	s.mu.Lock()
	sampling, since := s.targets[key].sampling, s.targets[key].since["u1"]
	s.mu.Unlock()
	if sampling {
		t.Fatal("the instance is still marked as being sampled")
	}
	if since.IsZero() {
		t.Fatal("the pod's starting point was lost; the next read would miss the lines of this one")
	}
}

// TestFirstSince: where a pod's log is first read from. A pod that started
// after the instance was watched (or up to one window before) is read from
// its start; one running since before is read from one interval back.
func TestFirstSince(t *testing.T) {
	o := SamplerOptions{Interval: 5 * time.Second, Window: 10 * time.Minute}
	watched := time.Date(2026, 12, 8, 0, 11, 19, 0, time.UTC)
	start := watched.Add(6 * time.Second)
	pod := func(started *time.Time) *corev1.Pod {
		p := &corev1.Pod{}
		if started != nil {
			p.Status.StartTime = &metav1.Time{Time: *started}
		}
		return p
	}
	at := func(d time.Duration) *time.Time { t := watched.Add(d); return &t }
	for _, tc := range []struct {
		name    string
		started *time.Time
		want    time.Time
	}{
		{"no start time: one interval back", nil, start.Add(-o.Interval)},
		{"started before the previous interval, after the watch: from its start (the sample came late)", at(0), watched},
		{"started a minute before the watch: from its start", at(-time.Minute), watched.Add(-time.Minute)},
		{"started within the last interval: one interval back covers it", at(4 * time.Second), start.Add(-o.Interval)},
		{"running for an hour when the operator started: one interval back", at(-time.Hour), start.Add(-o.Interval)},
	} {
		if got := firstSince(pod(tc.started), watched, start, o); !got.Equal(tc.want) {
			t.Errorf("%s: since %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSamplerReadsANewPodFromItsStart: the lines a pod wrote before the
// first sample that lists it (here 8 s late with a 5 s interval, as when the
// samples queue up under load) are read: the read starts at the pod's start,
// not one interval before the sample.
func TestSamplerReadsANewPodFromItsStart(t *testing.T) {
	watched := time.Date(2026, 12, 8, 0, 11, 17, 0, time.UTC)
	podStart := watched.Add(2 * time.Second)
	wrote := podStart.Add(800 * time.Millisecond)
	src := &fakeSource{
		pods: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "web-1", UID: "u1"}, Status: corev1.PodStatus{StartTime: &metav1.Time{Time: podStart}}}},
		logs: map[string]string{"web-1": wrote.Format("2006-01-02 15:04:05,000") + " 12 CRITICAL shop odoo.service.server: Failed to initialize database `shop`.\n"},
	}
	s := NewSampler(src, SamplerOptions{Interval: 5 * time.Second, BytesPerSample: 4096}, logr.Discard())
	now := watched
	s.now = func() time.Time { return now }
	key := types.NamespacedName{Namespace: "ns", Name: "shop"}
	s.Watch(key)
	now = wrote.Add(8 * time.Second)
	s.sample(context.Background(), key)
	if got := src.since[0]; !got.Equal(podStart) {
		t.Fatalf("first read since %v, want the pod's start %v (the line written at %v must be read)", got, podStart, wrote)
	}
}
