package observe

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// metricsOfOtherPackages are the odoo_operator_ metrics registered outside
// this package (internal/notify, internal/logwatch).
var metricsOfOtherPackages = []string{
	"odoo_operator_notifications_total",
	"odoo_operator_log_bytes_read_total",
	"odoo_operator_log_samples_total",
}

// exportedNames is every odoo_operator_ metric name the operator serves.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	if _, err := NewMetrics(reg); err != nil {
		t.Fatal(err)
	}
	ch := make(chan *prometheus.Desc, 100)
	for _, c := range []prometheus.Collector{&Collector{}, &CertExpiryCollector{}} {
		c.Describe(ch)
	}
	close(ch)
	names := map[string]bool{}
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no fqName in %s", d)
		}
		names[m[1]] = true
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range metricsOfOtherPackages {
		names[n] = true
	}
	return names
}

var metricRef = regexp.MustCompile(`odoo_operator_[a-z0-9_]+`)

// TestDashboardAndAlertsUseExportedMetrics: every odoo_operator_ name the
// Grafana dashboard and the alert rules query is a metric the operator
// serves (a renamed metric would leave a panel empty and an alert silent),
// and docs/monitoring.md documents every metric served.
func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	names := exportedNames(t)
	if len(names) < 25 {
		t.Fatalf("only %d metric names found: %v", len(names), names)
	}
	for _, f := range []string{"../../config/grafana/odoo-operator.json", "../../config/prometheus/prometheusrule.yaml"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		refs := metricRef.FindAllString(string(raw), -1)
		if len(refs) == 0 {
			t.Errorf("%s queries no odoo_operator_ metric", f)
		}
		for _, ref := range refs {
			base := ref
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if s, ok := strings.CutSuffix(ref, suffix); ok && names[s] {
					base = s
				}
			}
			if !names[base] {
				t.Errorf("%s queries %s, which the operator does not serve", f, ref)
			}
		}
	}
	doc, err := os.ReadFile("../../docs/monitoring.md")
	if err != nil {
		t.Fatal(err)
	}
	for n := range names {
		if !strings.Contains(string(doc), "`"+n+"`") {
			t.Errorf("docs/monitoring.md does not document %s", n)
		}
	}
}
