//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

// What the kill-at-each-step tests of the restore and the filestore
// migration share with each other (the upgrade's, TestUpgradeSurvivesOperatorKill,
// has its own): kill the operator as soon as a point is reached, and record
// every Job an instance ever gets, so that a Job created twice (deleted and
// made again after a restart) is seen even when the first one is gone. Each
// test runs its steps one after the other on one instance.

// killOperatorWhen runs start, then SIGKILLs the sandbox's operator as soon
// as reached holds (checked on every event of the watches open returns and
// by a 5 ms poller, whichever first) and waits until the process is gone.
// It returns what saw the point and how long after start.
func killOperatorWhen(t *testing.T, what string, start func(), reached func(context.Context) bool,
	open func(context.Context) ([]watch.Interface, error)) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	pid := framework.OperatorPID(t)
	type hit struct {
		by  string
		err error
	}
	hits := make(chan hit, 1)
	var once sync.Once
	kill := func(by string) {
		once.Do(func() { hits <- hit{by: by, err: syscall.Kill(pid, syscall.SIGKILL)} })
	}
	watches, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range watches {
		defer w.Stop()
		go func() {
			for range w.ResultChan() {
				if reached(ctx) {
					kill("watch")
					return
				}
			}
		}()
	}
	go func() {
		for ctx.Err() == nil {
			if reached(ctx) {
				kill("5 ms poll")
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	began := time.Now()
	start()
	var h hit
	select {
	case h = <-hits:
	case <-ctx.Done():
		t.Fatalf("kill point %s was never reached", what)
	}
	if h.err != nil {
		t.Fatalf("kill %d: %v", pid, h.err)
	}
	seen := fmt.Sprintf("%s seen by the %s %v after the start", what, h.by, time.Since(began).Round(time.Millisecond))
	cancel()
	framework.Eventually(t, 10*time.Second, "operator gone", func() error {
		if !framework.ProcessGone(pid) {
			return fmt.Errorf("pid %d still running", pid)
		}
		return nil
	})
	return seen
}

// jobLog records every Job of one instance the API server ever had from
// its creation on, by a watch kept open across operator restarts.
type jobLog struct {
	mu     sync.Mutex
	byKind map[string]map[string]bool // kind → "name uid"
	closed bool
}

// recordJobs starts a jobLog of instance's Jobs; it stops with the test.
func recordJobs(t *testing.T, c *framework.Clients, ns, instance string) *jobLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := c.Kube.BatchV1().Jobs(ns).Watch(ctx, metav1.ListOptions{LabelSelector: instanceLabel + "=" + instance})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	l := &jobLog{byKind: map[string]map[string]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			j, ok := ev.Object.(*batchv1.Job)
			if !ok {
				continue
			}
			l.mu.Lock()
			kind := j.Labels[jobKindLabel]
			if l.byKind[kind] == nil {
				l.byKind[kind] = map[string]bool{}
			}
			l.byKind[kind][j.Name+" "+string(j.UID)] = true
			l.mu.Unlock()
		}
		l.mu.Lock()
		l.closed = ctx.Err() == nil
		l.mu.Unlock()
	}()
	t.Cleanup(func() { cancel(); w.Stop(); <-done })
	return l
}

// jobs are the Jobs of kind seen so far, as "name uid", sorted.
func (l *jobLog) jobs(t *testing.T, kind string) []string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		t.Fatal("the API server closed the watch of the Jobs: Jobs may have been missed")
	}
	var out []string
	for k := range l.byKind[kind] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// expectOneNewJob fails unless exactly one Job of kind was created since
// before (the Jobs of kind seen then), named name.
func (l *jobLog) expectOneNewJob(t *testing.T, kind string, before []string, name string) {
	t.Helper()
	got := slices.DeleteFunc(l.jobs(t, kind), func(j string) bool { return slices.Contains(before, j) })
	if len(got) != 1 || !strings.HasPrefix(got[0], name+" ") {
		t.Errorf("%s Jobs created (name uid): %v, want exactly one, %s", kind, got, name)
	}
}
