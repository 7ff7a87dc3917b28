//go:build helm

package helm

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// chartWithFiles copies the chart to a temporary directory, with files/
// holding only the given files (path relative to files/ -> content).
func chartWithFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "odoo-operator")
	if err := os.CopyFS(dir, os.DirFS(chartDir(t))); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "files")); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		path := filepath.Join(dir, "files", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	// A PrometheusRule object, as config/prometheus may hold it.
	ruleObject = `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: odoo-operator
  namespace: somewhere
spec:
  groups:
  - name: odoo-operator.instances
    rules:
    - alert: OdooInstanceNotReady
      expr: odoo_operator_instance_ready == 0
      for: 10m
      labels: {severity: warning}
      annotations:
        summary: '{{ $labels.namespace }}/{{ $labels.name }} is not Ready'
`
	// A plain Prometheus rule file (what promtool reads), two documents.
	ruleFile = `groups:
- name: odoo-operator.backups
  rules:
  - alert: OdooBackupMissing
    expr: time() - odoo_operator_backup_last_success_timestamp_seconds > 26 * 3600
---
# a promtool rule test: skipped
rule_files: [alerts.yaml]
tests: []
`
	dashboard = `{"title": "Odoo operator", "panels": [{"title": "{{ not a template }}"}]}`
)

// TestMonitoringFromFiles: the PrometheusRule gathers the groups of every
// rule file (PrometheusRule objects and plain rule files; promtool tests are
// skipped) without touching Prometheus' own {{ }} templates, and each
// dashboard JSON becomes a labelled ConfigMap with the file's exact bytes.
func TestMonitoringFromFiles(t *testing.T) {
	chart := chartWithFiles(t, map[string]string{
		"prometheus/alerts.yaml":     ruleObject,
		"prometheus/backups.yaml":    ruleFile,
		"grafana/odoo-operator.json": dashboard,
	})
	docs := split(t, mustTemplate(t, chart, "--set", "monitoring.prometheusRule.enabled=true", "--set", "monitoring.grafanaDashboards.enabled=true",
		"--set", "monitoring.prometheusRule.labels.release=prometheus"))

	rule := find(t, docs, "PrometheusRule", release).obj
	if ns := str(rule, "metadata", "namespace"); ns != namespace {
		t.Errorf("PrometheusRule namespace %q, want the release's", ns)
	}
	if str(rule, "metadata", "labels", "release") != "prometheus" {
		t.Errorf("PrometheusRule labels %v lack monitoring.prometheusRule.labels", field(rule, "metadata", "labels"))
	}
	var names []string
	var summary string
	for _, g := range field(rule, "spec", "groups").([]any) {
		names = append(names, str(g, "name"))
		for _, r := range field(g, "rules").([]any) {
			if str(r, "alert") == "OdooInstanceNotReady" {
				summary = str(r, "annotations", "summary")
			}
		}
	}
	if !reflect.DeepEqual(names, []string{"odoo-operator.instances", "odoo-operator.backups"}) {
		t.Errorf("rule groups %v", names)
	}
	if summary != "{{ $labels.namespace }}/{{ $labels.name }} is not Ready" {
		t.Errorf("alert summary %q: Prometheus templates must reach Prometheus untouched", summary)
	}

	cm := find(t, docs, "ConfigMap", release+"-dashboard-odoo-operator").obj
	if got := str(cm, "data", "odoo-operator.json"); got != dashboard {
		t.Errorf("dashboard ConfigMap data %q, want the file's bytes %q", got, dashboard)
	}
	if str(cm, "metadata", "labels", "grafana_dashboard") != "1" {
		t.Errorf("dashboard labels %v lack grafana_dashboard", field(cm, "metadata", "labels"))
	}
}

// TestMonitoringWithoutFiles: asking for alerts or dashboards when the chart
// has none is an error naming the value, not a silent empty object; the
// scrape objects need no file and keep the metrics' own labels.
func TestMonitoringWithoutFiles(t *testing.T) {
	chart := chartWithFiles(t, nil)
	for _, value := range []string{"monitoring.prometheusRule.enabled", "monitoring.grafanaDashboards.enabled"} {
		_, err := helmTemplate(t, chart, "--set", value+"=true")
		if err == nil || !contains(err.Error(), value) {
			t.Errorf("%s=true without files: %v, want an error naming it", value, err)
		}
	}
	// The scrape objects need no file.
	docs := split(t, mustTemplate(t, chart, "-f", filepath.Join("testdata", "monitoring.values.yaml")))
	find(t, docs, "Service", release+"-metrics")
	// The operator's per-instance metrics carry the instance's `namespace`
	// label: the scrape keeps it (honorLabels) instead of overwriting it with
	// the operator's namespace, which every alert would then group by.
	for _, c := range []struct{ kind, endpoints string }{{"PodMonitor", "podMetricsEndpoints"}, {"ServiceMonitor", "endpoints"}} {
		endpoints := field(find(t, docs, c.kind, release).obj, "spec", c.endpoints).([]any)
		if len(endpoints) != 1 || field(endpoints[0], "honorLabels") != true {
			t.Errorf("%s endpoints %v, want one with honorLabels: true", c.kind, endpoints)
		}
	}
}
