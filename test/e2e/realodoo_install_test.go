//go:build e2e

package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestRealOdooDeclaredInstall: spec.modules.install names a real Odoo
// add-on with dependencies that base does not bring
// (barcodes_gs1_nomenclature, which pulls in barcodes and uom); real Odoo
// 18.0 installs it through the guarded path (module
// snapshot, restore point, `odoo -i`, post-check), and status.modules names
// every module the run added, the dependencies included, with nothing left
// missing.
func TestRealOdooDeclaredInstall(t *testing.T) {
	ns := framework.Namespace(t, "e2e-real-install")
	name := "inst-" + realRun
	c := framework.NewClients(t)
	framework.Apply(t, ns, realInstanceManifest(name, "odoo:18.0-v1")+"  modules:\n    install: [barcodes_gs1_nomenclature]\n")
	st := waitUpgradeWithinPhase(t, c, ns, name, "odoo:18.0-v1", odoov1alpha2.UpgradeSuccess)
	if st.Trigger != odoov1alpha2.UpgradeTriggerModules || !slices.Equal(st.ModulesInstall, []string{"barcodes_gs1_nomenclature"}) {
		t.Errorf("status.upgrade trigger %q modulesInstall %v, want Modules [barcodes_gs1_nomenclature]", st.Trigger, st.ModulesInstall)
	}
	if st.RestorePointBackup == "" {
		t.Errorf("the install run took no restore point")
	}
	db := jsonpath(t, ns, "odoo/"+name, "{.status.database.name}")
	installed := framework.SandboxQuery(t, db, "SELECT name FROM ir_module_module WHERE state = 'installed' AND name IN ('barcodes_gs1_nomenclature', 'barcodes', 'uom') ORDER BY name")
	if want := []string{"barcodes", "barcodes_gs1_nomenclature", "uom"}; !slices.Equal(installed, want) {
		t.Errorf("installed %v, want %v", installed, want)
	}
	// The install Job ran `odoo -i barcodes_gs1_nomenclature` only, not `-u all`.
	for _, j := range instanceJobs(t, c, ns, name, "upgrade") {
		args := strings.Join(j.Spec.Template.Spec.Containers[0].Args, " ")
		if strings.Contains(args, "-u ") || !strings.Contains(args, "-i barcodes_gs1_nomenclature") {
			t.Errorf("install Job %s args %q, want -i barcodes_gs1_nomenclature and no -u", j.Name, args)
		}
	}
	framework.Eventually(t, realWait, "status.modules.lastInstalled", func() error {
		m := getInstance(t, c, ns, name).Status.Modules
		if m == nil || len(m.Missing) != 0 || !slices.Contains(m.LastInstalled, "barcodes_gs1_nomenclature") ||
			!slices.Contains(m.LastInstalled, "barcodes") || !slices.Contains(m.LastInstalled, "uom") {
			return fmt.Errorf("status.modules %+v", m)
		}
		t.Logf("the install run added %d modules: %v", len(m.LastInstalled), m.LastInstalled)
		return nil
	})
}
