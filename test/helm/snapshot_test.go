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
// testdata/<case>.golden.yaml. The CRDs are left out of the snapshots (they
// are config/crd/bases plus what TestCRDsFollowConfig checks), and so are the
// objects made from files/ (TestMonitoringFromFiles), so that a change of the
// API or of the alerts does not rewrite every snapshot.
// `make helm-snapshots` rewrites them after a deliberate change.
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
				b.WriteString(d.text)
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
				t.Errorf("helm template -f %s differs from %s (make helm-snapshots after a deliberate change):\n%s", values, golden, firstDiff(string(want), got))
			}
		})
	}
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
