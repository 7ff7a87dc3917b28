package upgrade_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/logwatch"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// realDir holds the logs and module tables of real Odoo 18.0 runs
// (test/odoo, TestRealOdooVariants).
const realDir = "../logwatch/testdata/real"

func readReal(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(realDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func realModules(t *testing.T, name string) []dbtools.Module {
	t.Helper()
	var mods []dbtools.Module
	if err := json.Unmarshal(readReal(t, name), &mods); err != nil {
		t.Fatal(err)
	}
	return mods
}

// withModule returns mods with one module's state and version replaced.
func withModule(mods []dbtools.Module, name, state, version string) []dbtools.Module {
	out := append([]dbtools.Module(nil), mods...)
	for i := range out {
		if out[i].Name == name {
			out[i].State, out[i].LatestVersion = state, version
		}
	}
	return out
}

// TestJudgeRealPartialUpgrade judges the real partial upgrade: Odoo 18
// committed odoo_operator_shop at 18.0.2.0.0, failed in the report's
// migration, exited 255 and reset the transient states, so nothing is left
// pending and only the versions against the snapshot show what happened.
func TestJudgeRealPartialUpgrade(t *testing.T) {
	st := &odoov1alpha2.UpgradeStatus{ImageAttempted: "odoo:18.0-broken", FromImage: "odoo:18.0-v1"}
	before, after := realModules(t, "modules-v1.json"), realModules(t, "modules-broken-after.json")
	brokenLog := logwatch.JudgeUpgradeLog(bytes.NewReader(readReal(t, "upgrade-broken.log")))
	cleanLog := logwatch.JudgeUpgradeLog(bytes.NewReader(readReal(t, "upgrade.log")))
	missingLog := logwatch.JudgeUpgradeLog(bytes.NewReader(readReal(t, "upgrade-missing.log")))
	const exception = "Exception: odoo_operator_shop_report: cannot convert the price column of odoo_operator_shop_report_line to the new currency layout"

	tests := []struct {
		name    string
		j       upgrade.Judged
		ok      bool
		want    []string
		wantNot []string
	}{
		{"the real broken run", upgrade.Judged{JobFailed: true, JobMessage: "Job shop-upgrade failed: container odoo exited with code 255", Log: brokenLog, Before: before, After: after}, false, []string{
			"upgrade to odoo:18.0-broken failed: ",
			"exited with code 255",
			"module odoo_operator_shop_report: odoo.modules.registry: Failed to load registry | " + exception,
			"committed before the failure (versions against the snapshot): 1 module upgraded (odoo_operator_shop 18.0.1.0.0 → 18.0.2.0.0)",
			"not upgraded: odoo_operator_shop_report (installed, still 18.0.1.0.0)",
			"Odoo reset the transient module states",
			"odoo:18.0-v1 keeps serving",
		}, []string{"pending"}},
		{"its log gone: the versions still tell", upgrade.Judged{JobFailed: true, JobMessage: "exited with code 255", LogNote: "the Job's log is gone", Before: before, After: after}, false, []string{
			"1 module upgraded (odoo_operator_shop 18.0.1.0.0 → 18.0.2.0.0)",
		}, []string{"not upgraded", "reset"}},
		{"the same run without the state reset (older Odoo): pending listed", upgrade.Judged{JobFailed: true, JobMessage: "exited with code 255", Log: brokenLog,
			Before: before, After: withModule(after, "odoo_operator_shop_report", dbtools.StateToUpgrade, "18.0.1.0.0")}, false, []string{
			"post-check: modules left pending: odoo_operator_shop_report",
			"still pending: odoo_operator_shop_report (to upgrade)",
			"not upgraded: odoo_operator_shop_report (to upgrade, still 18.0.1.0.0)",
		}, nil},
		{"the real missing-module run exits 0 but fails", upgrade.Judged{Log: missingLog, Before: before,
			After: withModule(before, "odoo_operator_shop_report", dbtools.StateToUpgrade, "18.0.1.0.0")}, false, []string{
			"module odoo_operator_shop_report: odoo.modules.loading: Some modules have inconsistent states",
			"modules left pending: odoo_operator_shop_report",
		}, nil},
		{"the real clean upgrade", upgrade.Judged{Log: cleanLog, Before: before, After: before}, true, []string{
			"upgraded to odoo:18.0-broken: no module changed",
		}, []string{"failed"}},
		{"post-check unreadable", upgrade.Judged{Log: brokenLog, Before: before, PostCheckErr: errors.New("boom")}, false, []string{
			"post-check: boom", "what was committed is unknown",
		}, []string{"committed before the failure", "removed"}},
	}
	for _, tt := range tests {
		v := upgrade.Judge(st, tt.j)
		t.Logf("%s: %s", tt.name, v.Message)
		if v.OK != tt.ok {
			t.Errorf("%s: OK = %v, want %v (%s)", tt.name, v.OK, tt.ok, v.Message)
		}
		for _, w := range tt.want {
			if !strings.Contains(v.Message, w) {
				t.Errorf("%s: message lacks %q:\n%s", tt.name, w, v.Message)
			}
		}
		for _, w := range tt.wantNot {
			if strings.Contains(v.Message, w) {
				t.Errorf("%s: message has %q:\n%s", tt.name, w, v.Message)
			}
		}
	}
}
