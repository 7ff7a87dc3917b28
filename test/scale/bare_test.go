//go:build scale

package scale

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

const instanceLabel = "bemade.org/instance"

// The kinds of an instance's children, in the order a bare client creates
// them: what the init Job needs, the init Job, then the tiers.
var (
	beforeInit = []schema.GroupVersionResource{
		{Version: "v1", Resource: "secrets"},
		{Version: "v1", Resource: "configmaps"},
		{Version: "v1", Resource: "persistentvolumeclaims"},
		{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
	}
	jobs      = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	afterInit = []schema.GroupVersionResource{
		{Group: "apps", Version: "v1", Resource: "deployments"},
		{Version: "v1", Resource: "services"},
		{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
	}
	deployments = afterInit[0]
)

// bareClientBaseline replays what the operator made in ns for n instances
// (every child labelled bemade.org/instance, the role and database) from a
// plain client at the operator's own rate limit (qps, burst), one goroutine
// per instance, into a fresh namespace: per instance the role and database,
// the Secrets, claim and policies, the init Job, and once it completed the
// Deployments, Service and Ingress. It returns the time until every
// Deployment has its replicas ready: what the operator's time to Ready is
// compared with.
func bareClientBaseline(t *testing.T, ns string, n int, qps float32, burst int) time.Duration {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = qps, burst
	cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(qps, burst)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// What the operator made, by instance (read with the unthrottled clients).
	src := framework.NewClients(t).Dynamic
	byInstance := map[string]map[schema.GroupVersionResource][]unstructured.Unstructured{}
	for _, gvr := range append(append(append([]schema.GroupVersionResource{}, beforeInit...), jobs), afterInit...) {
		list, err := src.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: instanceLabel})
		if err != nil {
			t.Fatalf("list %s: %v", gvr.Resource, err)
		}
		for _, o := range list.Items {
			if gvr == jobs && o.GetLabels()["bemade.org/job"] != "init" {
				continue
			}
			inst := o.GetLabels()[instanceLabel]
			if byInstance[inst] == nil {
				byInstance[inst] = map[schema.GroupVersionResource][]unstructured.Unstructured{}
			}
			byInstance[inst][gvr] = append(byInstance[inst][gvr], o)
		}
	}
	if len(byInstance) != n {
		t.Fatalf("children of %d instances in %s, want %d", len(byInstance), ns, n)
	}

	bare := framework.Namespace(t, ns+"-bare")
	db, err := pgx.Connect(ctx, framework.SandboxPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close(ctx) }()
	var dbMu sync.Mutex
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), framework.SandboxPostgres(t))
		if err != nil {
			return
		}
		defer func() { _ = c.Close(context.Background()) }()
		for i := range n {
			_, _ = c.Exec(context.Background(), fmt.Sprintf(`DROP DATABASE IF EXISTS "bare_%04d"`, i))
			_, _ = c.Exec(context.Background(), fmt.Sprintf(`DROP ROLE IF EXISTS "bare_%04d"`, i))
		}
	})

	create := func(gvr schema.GroupVersionResource, o unstructured.Unstructured) error {
		clean(&o, bare)
		_, err := dyn.Resource(gvr).Namespace(bare).Create(ctx, &o, metav1.CreateOptions{})
		return err
	}
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	waiter := newJobWaiter(pollCtx, dyn, bare)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	i := 0
	for inst, objs := range byInstance {
		role := fmt.Sprintf("bare_%04d", i)
		i++
		wg.Go(func() {
			dbMu.Lock()
			_, err := db.Exec(ctx, fmt.Sprintf(`CREATE ROLE %q LOGIN PASSWORD 'x'`, role))
			if err == nil {
				_, err = db.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %q OWNER %q`, role, role))
			}
			dbMu.Unlock()
			if err != nil {
				errs <- fmt.Errorf("%s: database: %w", inst, err)
				return
			}
			for _, gvr := range beforeInit {
				for _, o := range objs[gvr] {
					if err := create(gvr, o); err != nil {
						errs <- fmt.Errorf("%s: %s: %w", inst, gvr.Resource, err)
						return
					}
				}
			}
			for _, o := range objs[jobs] {
				if err := create(jobs, o); err != nil {
					errs <- fmt.Errorf("%s: job: %w", inst, err)
					return
				}
				if err := waiter.wait(o.GetName()); err != nil {
					errs <- fmt.Errorf("%s: %w", inst, err)
					return
				}
			}
			for _, gvr := range afterInit {
				for _, o := range objs[gvr] {
					if err := create(gvr, o); err != nil {
						errs <- fmt.Errorf("%s: %s: %w", inst, gvr.Resource, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var took time.Duration
	framework.Eventually(t, 30*time.Minute, "bare client's Deployments ready", func() error {
		list, err := src.Resource(deployments).Namespace(bare).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		ready := 0
		for _, d := range list.Items {
			want, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
			got, _, _ := unstructured.NestedInt64(d.Object, "status", "readyReplicas")
			if got >= want {
				ready++
			}
		}
		if ready < 2*n {
			return fmt.Errorf("%d of %d Deployments ready", ready, 2*n)
		}
		took = time.Since(start)
		return nil
	})
	return took
}

// jobWaiter tells when the bare namespace's Jobs complete: one poller lists
// them every 500 ms through the throttled client (what one controller with
// a Job informer costs, instead of a request per Job and second).
type jobWaiter struct {
	mu   sync.Mutex
	done map[string]chan struct{}
}

func newJobWaiter(ctx context.Context, dyn dynamic.Interface, ns string) *jobWaiter {
	w := &jobWaiter{done: map[string]chan struct{}{}}
	go func() {
		for ctx.Err() == nil {
			time.Sleep(500 * time.Millisecond)
			list, err := dyn.Resource(jobs).Namespace(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			for _, j := range list.Items {
				if n, _, _ := unstructured.NestedInt64(j.Object, "status", "succeeded"); n > 0 {
					close(w.ch(j.GetName(), true))
				}
			}
		}
	}()
	return w
}

// ch is the channel closed when Job name completed; with take, the caller
// closes it (once: the channel is then replaced by a closed marker).
func (w *jobWaiter) ch(name string, take bool) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.done[name]
	if !ok {
		c = make(chan struct{})
		w.done[name] = c
	}
	if take {
		select {
		case <-c:
			return make(chan struct{}) // already closed: close a throwaway
		default:
		}
	}
	return c
}

// wait blocks until Job name completed or 20 minutes passed.
func (w *jobWaiter) wait(name string) error {
	select {
	case <-w.ch(name, false):
		return nil
	case <-time.After(20 * time.Minute):
		return fmt.Errorf("init Job %s did not complete", name)
	}
}

// clean turns an object read from the cluster into one to create in ns.
func clean(o *unstructured.Unstructured, ns string) {
	o.SetNamespace(ns)
	o.SetResourceVersion("")
	o.SetUID("")
	o.SetOwnerReferences(nil)
	o.SetManagedFields(nil)
	o.SetCreationTimestamp(metav1.Time{})
	o.SetGeneration(0)
	o.SetFinalizers(nil)
	ann := o.GetAnnotations()
	for k := range ann {
		if strings.Contains(k, "kubernetes.io/") {
			delete(ann, k)
		}
	}
	o.SetAnnotations(ann)
	unstructured.RemoveNestedField(o.Object, "status")
	switch o.GetKind() {
	case "Job":
		unstructured.RemoveNestedField(o.Object, "spec", "selector")
		for _, l := range []string{"controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"} {
			unstructured.RemoveNestedField(o.Object, "spec", "template", "metadata", "labels", l)
		}
	case "Service":
		unstructured.RemoveNestedField(o.Object, "spec", "clusterIP")
		unstructured.RemoveNestedField(o.Object, "spec", "clusterIPs")
	case "PersistentVolumeClaim":
		unstructured.RemoveNestedField(o.Object, "spec", "volumeName")
	}
}
