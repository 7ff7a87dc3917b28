//go:build helm

package helm

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSnapshots: `helm template` with each testdata/<case>.values.yaml gives
// testdata/<case>.golden.yaml. What `make manifests` generates from config/
// is left out of the snapshots, because it has tests of its own against its
// source: the CRDs (TestCRDsFollowConfig), the Roles' rules
// (TestRBACFollowsConfig), the webhooks (TestWebhooksFollowConfig) and the
// objects made from files/ (TestMonitoringFromFiles,
// TestMonitoringFilesFollowConfig). So a change of the API, of an RBAC marker
// or of the alerts in another branch needs `make manifests` only, never new
// snapshots. `make helm-snapshots` rewrites them after a deliberate change of
// the chart's own templates or values.
func TestSnapshots(t *testing.T) {
	for name, values := range valueCases(t) {
		t.Run(name, func(t *testing.T) {
			out := mustTemplate(t, chartDir(t), "-f", values)
			var b strings.Builder
			for _, d := range split(t, out) {
				if d.kind() == "CustomResourceDefinition" || strings.Contains(d.source, "prometheusrule.yaml") || strings.Contains(d.source, "grafana-dashboards.yaml") {
					continue
				}
				b.WriteString("---")
				b.WriteString(elideGenerated(d))
			}
			got := b.String()
			golden := filepath.Join("testdata", name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o600); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (make helm-snapshots writes it)", err)
			}
			if got != string(want) {
				t.Errorf("helm template -f %s differs from %s: after a deliberate change of the chart's templates or values run `make helm-snapshots`, review `git diff test/helm/testdata` and commit it:\n%s", values, golden, firstDiff(string(want), got))
			}
		})
	}
}

// generatedLists are the top-level lists of each kind that hack/helm-chart.sh
// fills from config/, and the test that checks them there.
var generatedLists = map[string]struct{ key, checkedBy string }{
	"ClusterRole":                    {"rules", "TestRBACFollowsConfig"},
	"Role":                           {"rules", "TestRBACFollowsConfig"},
	"ValidatingWebhookConfiguration": {"webhooks", "TestWebhooksFollowConfig"},
}

// elideGenerated is the document's text with its generated list (helm
// renders it at column 0 under its key) replaced by one comment line.
func elideGenerated(d doc) string {
	g, ok := generatedLists[d.kind()]
	if !ok {
		return d.text
	}
	var out []string
	skipping := false
	for _, line := range strings.Split(d.text, "\n") {
		if skipping {
			if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "  ") {
				continue
			}
			skipping = false
		}
		if line == g.key+":" {
			out = append(out, g.key+": # generated from config/ (make manifests), checked by "+g.checkedBy)
			skipping = true
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// firstDiff shows the first differing line with a little context.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			from := max(0, i-3)
			return "line " + strconv.Itoa(i+1) + ":\n  context: " + strings.Join(g[from:min(i, len(g))], "\n           ") + "\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return "(identical lines, different endings)"
}
