//go:build scale

// Package scale is the scale harness: it creates N OdooInstances on the
// running sandbox and reports how long they take to become Ready, the
// operator's memory, and the API requests they cost. Run it with
// `make scale N=200` after `hack/sandbox.sh up`.
package scale

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

var (
	instances = flag.Int("instances", 200, "number of OdooInstances to create")
	steady    = flag.Duration("steady", time.Minute, "how long to watch the steady state after convergence")
	baseline  = flag.Bool("baseline", true, "also time a bare client creating the same children at the operator's rate limit")
	qps       = flag.Float64("qps", 100, "the operator's --kube-api-qps, for the bare client")
	burst     = flag.Int("burst", 200, "the operator's --kube-api-burst, for the bare client")
)

func TestScale(t *testing.T) {
	n := *instances
	ns := framework.Namespace(t, fmt.Sprintf("scale-%d", n))
	pid := framework.OperatorPID(t)
	rssStart, _ := framework.ProcessMemory(t, pid)
	cpuStart := framework.ProcessCPU(t, pid)
	pgStart := framework.SandboxPostgresConnections(t, "odoo-operator")
	pgDataStart := framework.SandboxPostgresConnections(t, "odoo-operator-data")
	apiBeforeAll := framework.APIServerMetrics(t)
	apiBefore := framework.Metrics(apiBeforeAll, "apiserver_request_total")
	opBefore := framework.OperatorMetrics(t)

	// The instances are created the way a GitOps tool or a script would, 16
	// at a time through the API: kubectl apply creates one object after the
	// other (0.4 s each on this machine at N=1,000), which made the apply, not
	// the operator, most of the time to Ready, and the bare client below does
	// not pay it either.
	objs := make(chan *unstructured.Unstructured, n)
	for i := range n {
		objs <- &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "bemade.org/v1alpha2", "kind": "OdooInstance",
			"metadata": map[string]any{"name": fmt.Sprintf("odoo-%04d", i)},
			"spec": map[string]any{
				"image": "odoo-sim:18.0", "adminPassword": fmt.Sprintf("master-%04d", i),
				"replicas": int64(1), "workers": int64(2),
				"ingress": map[string]any{"hosts": []any{fmt.Sprintf("odoo-%04d.example.com", i)}},
			},
		}}
	}
	close(objs)
	instancesAPI := framework.NewClients(t).Dynamic.Resource(schema.GroupVersionResource{Group: "bemade.org", Version: "v1alpha2", Resource: "odooinstances"}).Namespace(ns)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range 16 {
		wg.Go(func() {
			for obj := range objs {
				if _, err := instancesAPI.Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("creating %s: %w", obj.GetName(), err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	created := time.Since(start)

	var allReady time.Duration
	framework.Eventually(t, 30*time.Minute, "all instances Ready", func() error {
		out := framework.Kubectl(t, "get", "odoo", "-n", ns, "-o",
			`jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		if ready := strings.Count(out, "True"); ready < n {
			return fmt.Errorf("%d of %d Ready", ready, n)
		}
		allReady = time.Since(start)
		return nil
	})

	// Let the last status writes land, then measure what converging cost.
	time.Sleep(10 * time.Second)
	apiAfterAll := framework.APIServerMetrics(t)
	apiAfter := framework.Metrics(apiAfterAll, "apiserver_request_total")
	opAfter := framework.OperatorMetrics(t)
	rssEnd, peak := framework.ProcessMemory(t, pid)
	cpuConverge := framework.ProcessCPU(t, pid) - cpuStart
	pgAll := framework.SandboxPostgresConnections(t, "odoo-operator") - pgStart
	pgData := framework.SandboxPostgresConnections(t, "odoo-operator-data") - pgDataStart

	perVerb := map[string]float64{}
	for _, verb := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		f := `method="` + verb + `"`
		perVerb[verb] = (framework.Metrics(opAfter, "rest_client_requests_total", f) -
			framework.Metrics(opBefore, "rest_client_requests_total", f)) / float64(n)
	}
	reconciles := framework.Metrics(opAfter, "controller_runtime_reconcile_total", `controller="odooinstance"`) -
		framework.Metrics(opBefore, "controller_runtime_reconcile_total", `controller="odooinstance"`)

	t.Logf("instances:                      %d", n)
	t.Logf("create of all (16 in parallel): %v", created.Round(time.Millisecond))
	t.Logf("time until all Ready:           %v", allReady.Round(time.Millisecond))
	t.Logf("operator RSS start/end/peak:    %d / %d / %d MiB", rssStart/1024, rssEnd/1024, peak/1024)
	t.Logf("apiserver requests (all clients) per instance: %.1f", (apiAfter-apiBefore)/float64(n))
	t.Logf("operator requests per instance: GET %.2f POST %.2f PUT %.2f PATCH %.2f DELETE %.2f",
		perVerb["GET"], perVerb["POST"], perVerb["PUT"], perVerb["PATCH"], perVerb["DELETE"])
	t.Logf("apiserver requests per instance by verb and resource (all clients): %s", requestsByResource(apiBeforeAll, apiAfterAll, n))
	t.Logf("reconciles per instance:        %.1f", reconciles/float64(n))
	t.Logf("operator CPU while converging:  %.1f s (%.0f ms per instance)", cpuConverge.Seconds(), float64(cpuConverge.Milliseconds())/float64(n))
	t.Logf("PostgreSQL connections per instance: operator %.2f, data Jobs %.2f", float64(pgAll-pgData)/float64(n), float64(pgData)/float64(n))

	// Steady state: nothing changed, so the operator should neither write
	// nor read (its reads come from the informers' cache).
	opBefore = framework.OperatorMetrics(t)
	cpuBefore := framework.ProcessCPU(t, pid)
	pgBefore := framework.SandboxPostgresConnections(t, "odoo-operator")
	apiSteady := framework.APIServerMetrics(t)
	time.Sleep(*steady)
	opAfter = framework.OperatorMetrics(t)
	apiSteadyAfter := framework.APIServerMetrics(t)
	delta := func(verb string) float64 {
		f := `method="` + verb + `"`
		return framework.Metrics(opAfter, "rest_client_requests_total", f) - framework.Metrics(opBefore, "rest_client_requests_total", f)
	}
	writes := delta("POST") + delta("PUT") + delta("PATCH") + delta("DELETE")
	minutes := steady.Minutes()
	t.Logf("steady state over %v: writes %.1f per minute (Events included), reads (GET) %.2f per instance per hour, CPU %.1f%% of a core, PostgreSQL connections %d",
		*steady, writes/minutes, delta("GET")/float64(n)/minutes*60,
		100*(framework.ProcessCPU(t, pid)-cpuBefore).Seconds()/steady.Seconds(),
		framework.SandboxPostgresConnections(t, "odoo-operator")-pgBefore)
	// Who wrote and read, by resource, as the API server counted them (all
	// clients; in the steady state the operator's are the ones on these
	// resources, kwok's node and lease heartbeats are not listed).
	logReads := framework.Metrics(apiSteadyAfter, "apiserver_request_total", `subresource="log"`) -
		framework.Metrics(apiSteady, "apiserver_request_total", `subresource="log"`)
	t.Logf("steady state, API server requests by verb and resource: %s", requestsByResource(apiSteady, apiSteadyAfter, 1))
	t.Logf("steady state reads without the log sampler's pods/log (by design, --log-sample-interval): %.2f per instance per hour",
		(delta("GET")-logReads)/float64(n)/minutes*60)
	_, peak = framework.ProcessMemory(t, pid)
	t.Logf("operator RSS peak after the steady state: %d MiB", peak/1024)

	if *baseline {
		bare := bareClientBaseline(t, ns, n, float32(*qps), *burst)
		t.Logf("bare client (same children, role and database, init Job first, %.0f qps / %d burst): all Deployments ready in %v; ratio operator/bare %.2f",
			*qps, *burst, bare.Round(time.Millisecond), allReady.Seconds()/bare.Seconds())
	}
}

// requestsByResource lists who wrote and read, by verb and resource, as the
// API server counted them between two scrapes (all clients), divided by n.
// kwok's node and lease heartbeats are not listed.
func requestsByResource(before, after string, n int) string {
	var out []string
	for _, res := range []string{"odooinstances", "deployments", "replicasets", "services", "ingresses", "secrets", "configmaps",
		"persistentvolumeclaims", "jobs", "networkpolicies", "events", "pods", "customresourcedefinitions"} {
		for _, verb := range []string{"APPLY", "PATCH", "POST", "PUT", "DELETE", "GET", "LIST", "WATCH"} {
			f := []string{`resource="` + res + `"`, `verb="` + verb + `"`}
			if d := framework.Metrics(after, "apiserver_request_total", f...) - framework.Metrics(before, "apiserver_request_total", f...); d > 0 {
				out = append(out, fmt.Sprintf("%s %s %.1f", verb, res, d/float64(n)))
			}
		}
	}
	return strings.Join(out, ", ")
}
