//go:build scale

// Package scale is the scale harness: it creates N OdooInstances on the
// running sandbox and reports how long they take to become Ready, the
// operator's memory, and the API requests they cost. Run it with
// `make scale N=200` after `hack/sandbox.sh up`.
package scale

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

var instances = flag.Int("instances", 200, "number of OdooInstances to create")

func TestScale(t *testing.T) {
	n := *instances
	ns := framework.Namespace(t, fmt.Sprintf("scale-%d", n))
	pid := framework.OperatorPID(t)
	rssStart, _ := framework.ProcessMemory(t, pid)
	apiBefore := framework.Metrics(framework.APIServerMetrics(t), "apiserver_request_total")
	opBefore := framework.OperatorMetrics(t)

	var manifest strings.Builder
	for i := range n {
		fmt.Fprintf(&manifest, `---
apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: odoo-%04d
spec:
  image: odoo-sim:18.0
  adminPassword: master-%04d
  replicas: 1
  workers: 2
  ingress:
    hosts: [odoo-%04d.example.com]
`, i, i, i)
	}
	start := time.Now()
	framework.Apply(t, ns, manifest.String())
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
	apiAfter := framework.Metrics(framework.APIServerMetrics(t), "apiserver_request_total")
	opAfter := framework.OperatorMetrics(t)
	rssEnd, peak := framework.ProcessMemory(t, pid)

	perVerb := map[string]float64{}
	for _, verb := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		f := `method="` + verb + `"`
		perVerb[verb] = (framework.Metrics(opAfter, "rest_client_requests_total", f) -
			framework.Metrics(opBefore, "rest_client_requests_total", f)) / float64(n)
	}
	reconciles := framework.Metrics(opAfter, "controller_runtime_reconcile_total", `controller="odooinstance"`) -
		framework.Metrics(opBefore, "controller_runtime_reconcile_total", `controller="odooinstance"`)

	t.Logf("instances:                      %d", n)
	t.Logf("kubectl apply of all:           %v", created.Round(time.Millisecond))
	t.Logf("time until all Ready:           %v", allReady.Round(time.Millisecond))
	t.Logf("operator RSS start/end/peak:    %d / %d / %d MiB", rssStart/1024, rssEnd/1024, peak/1024)
	t.Logf("apiserver requests (all clients) per instance: %.1f", (apiAfter-apiBefore)/float64(n))
	t.Logf("operator requests per instance: GET %.2f POST %.2f PUT %.2f PATCH %.2f DELETE %.2f",
		perVerb["GET"], perVerb["POST"], perVerb["PUT"], perVerb["PATCH"], perVerb["DELETE"])
	t.Logf("reconciles per instance:        %.1f", reconciles/float64(n))
}
