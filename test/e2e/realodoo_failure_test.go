//go:build e2e

package e2e

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// Failures of real Odoo under the operator, with the add-on variants of
// test/odoo/addons: odoo:18.0-broken fails its upgrade part-way for real
// (odoo_operator_shop is migrated and committed, then
// odoo_operator_shop_report's migration raises), odoo:18.0-errors logs a
// real bad query and traceback every two seconds once it serves.

const (
	realBroken   = "odoo:18.0-broken"
	realErrors   = "odoo:18.0-errors"
	brokenRaised = "Exception: odoo_operator_shop_report: cannot convert the price column of odoo_operator_shop_report_line to the new currency layout"
)

// realFailureManifest is an instance on realFrom with the given failure
// policy and no cron pod: cron's writes (ir_cron's lastcall) would make the
// checksums before the upgrade and after a restore differ for a reason
// unrelated to the upgrade.
func realFailureManifest(name string, policy odoov1alpha2.UpgradeFailurePolicy) string {
	return fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: %[1]s
spec:
  image: %[2]s
  adminPassword: master-%[1]s-Zq7
  replicas: 1
  workers: 0
  cron:
    replicas: 0
  autoUpgrade:
    onFailure: %[3]s
`, name, realFrom, policy)
}

func shopModules(t *testing.T, db string) []string {
	t.Helper()
	return framework.SandboxQuery(t, db, "SELECT name || '=' || state || '=' || latest_version FROM ir_module_module WHERE name LIKE 'odoo_operator_shop%' ORDER BY name")
}

// TestRealOdooPartialUpgrade: v1 -> odoo:18.0-broken fails for real after
// Odoo committed odoo_operator_shop at 18.0.2.0.0. With KeepOldImage the
// old image keeps serving the database as Odoo left it, and the status
// names the failing module, the real exception and the module committed
// before the failure; with Restore the database is back, table for table,
// to its state before the upgrade, and the failed one is kept aside.
func TestRealOdooPartialUpgrade(t *testing.T) {
	ns := framework.Namespace(t, "e2e-real-partial")
	c := framework.NewClients(t)
	// Both instances side by side: one init and one failed upgrade of wall
	// time for the two policies.
	// Names unique per run: a deleted instance keeps its database.
	keepName, restoreName := "keep-"+realRun, "restore-"+realRun
	framework.Apply(t, ns, realFailureManifest(keepName, odoov1alpha2.UpgradeFailureKeepOldImage)+"---\n"+
		realFailureManifest(restoreName, odoov1alpha2.UpgradeFailureRestore))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef(keepName), odooRef(restoreName), "--timeout="+realWait.String())
	keepDB := jsonpath(t, ns, "odoo/"+keepName, "{.status.database.name}")
	restoreDB := jsonpath(t, ns, "odoo/"+restoreName, "{.status.database.name}")
	v1 := []string{"odoo_operator_shop=installed=18.0.1.0.0", "odoo_operator_shop_report=installed=18.0.1.0.0"}
	for _, db := range []string{keepDB, restoreDB} {
		if got := shopModules(t, db); !slices.Equal(got, v1) {
			t.Fatalf("%s before the upgrade: %v, want %v", db, got, v1)
		}
	}
	before := checksums(t, restoreDB)

	setImage(t, ns, keepName, realBroken)
	setImage(t, ns, restoreName, realBroken)
	keep := waitUpgrade(t, c, ns, keepName, odoov1alpha2.UpgradeFailed, attempted(realBroken))
	restore := waitUpgrade(t, c, ns, restoreName, odoov1alpha2.UpgradeFailed, attempted(realBroken))

	// What Odoo left: the shop committed at 18.0.2.0.0, the report failed
	// and its state reset to installed at 18.0.1.0.0.
	partial := []string{"odoo_operator_shop=installed=18.0.2.0.0", "odoo_operator_shop_report=installed=18.0.1.0.0"}
	for name, st := range map[string]*odoov1alpha2.UpgradeStatus{"keep": keep, "restore": restore} {
		for _, want := range []string{
			"module odoo_operator_shop_report: ",
			brokenRaised,
			"exited with code 255",
			"committed before the failure (versions against the snapshot): 1 module upgraded (odoo_operator_shop 18.0.1.0.0 → 18.0.2.0.0)",
			"not upgraded: odoo_operator_shop_report (installed, still 18.0.1.0.0)",
			"Odoo reset the transient module states",
		} {
			if !strings.Contains(st.Message, want) {
				t.Errorf("%s: status.upgrade.message lacks %q:\n%s", name, want, st.Message)
			}
		}
	}

	t.Run("KeepOldImage", func(t *testing.T) {
		if got := shopModules(t, keepDB); !slices.Equal(got, partial) {
			t.Errorf("the database as Odoo left it: %v, want %v", got, partial)
		}
		if got := framework.SandboxQuery(t, keepDB, "SELECT name, price, currency FROM odoo_operator_shop_product ORDER BY name"); !slices.Equal(got,
			[]string{"Mug|12.5|EUR", "Sticker|1.25|EUR", "T-shirt|20|USD"}) {
			t.Errorf("the shop's committed migration: %v", got)
		}
		if got := jsonpath(t, ns, "deploy/"+keepName, "{.spec.template.spec.containers[0].image}"); got != realFrom {
			t.Errorf("web image %s, want %s kept", got, realFrom)
		}
		if pods := webPods(t, ns, keepName, realBroken); len(pods) != 0 {
			t.Errorf("web pods on %s: %v", realBroken, pods)
		}
		// The old image really serves: its real Odoo answers /web/health.
		_, port := webPodPort(t, ns, keepName)
		resp, err := http.Get("http://127.0.0.1:" + port + "/web/health") //nolint:noctx // the sandbox's pod
		if err != nil {
			t.Fatalf("/web/health: %v", err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/web/health = %d", resp.StatusCode)
		}
		if got := jsonpath(t, ns, "odoo/"+keepName, "{.status.upgrade.keptDatabase}"); got != "" {
			t.Errorf("keptDatabase %q: KeepOldImage restores nothing", got)
		}
	})

	t.Run("Restore", func(t *testing.T) {
		if restore.KeptDatabase == "" {
			t.Fatalf("no status.upgrade.keptDatabase: %s", restore.Message)
		}
		if got := shopModules(t, restoreDB); !slices.Equal(got, v1) {
			t.Errorf("after the restore: %v, want %v", got, v1)
		}
		after := checksums(t, restoreDB)
		if !maps.Equal(before, after) {
			var diff []string
			for table, sum := range before {
				if after[table] != sum {
					diff = append(diff, table)
				}
			}
			for table := range after {
				if _, ok := before[table]; !ok {
					diff = append(diff, table+" (new)")
				}
			}
			slices.Sort(diff)
			t.Errorf("tables that differ from before the upgrade: %v", diff)
		}
		// The failed state is kept aside for inspection, as Odoo left it.
		if got := shopModules(t, restore.KeptDatabase); !slices.Equal(got, partial) {
			t.Errorf("kept database %s: %v, want %v", restore.KeptDatabase, got, partial)
		}
		waitTier(t, ns, restoreName, realFrom)
	})
}

// TestRealOdooErrorsRolledBack: odoo:18.0-errors (the v1 modules at their
// versions, so nothing to upgrade) logs a real bad query and traceback every
// two seconds once its web pod serves. The log monitor reads them from the
// real Odoo log into status.health, and the error rate rolls the image back.
func TestRealOdooErrorsRolledBack(t *testing.T) {
	ns := framework.Namespace(t, "e2e-real-errors")
	name := "shop-" + realRun
	inst := "odoo/" + name
	framework.Apply(t, ns, realInstanceManifest(name, realFrom)+`  autoUpgrade:
    enabled: false
  rollback:
    errorThreshold: 5
`)
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef(name), "--timeout="+realWait.String())
	db := jsonpath(t, ns, inst, "{.status.database.name}")
	setImage(t, ns, name, realErrors)
	changed := time.Now()

	var categories, messages string
	framework.Eventually(t, realWait, "the errors in status.health and the rollback", func() error {
		if c := jsonpath(t, ns, inst, "{.status.health.errors[*].category}"); strings.Contains(c, "DatabaseSchema") {
			categories = c
			messages = jsonpath(t, ns, inst, "{.status.health.errors[*].message}")
		}
		if reason := jsonpath(t, ns, inst, `{.status.conditions[?(@.type=="RolledBack")].reason}`); reason != "ErrorRateExceeded" {
			return fmt.Errorf("RolledBack reason %q; health categories %q", reason, categories)
		}
		if categories == "" {
			return fmt.Errorf("rolled back, but no DatabaseSchema error seen in status.health yet")
		}
		return nil
	})
	t.Logf("rolled back %s after the image change", time.Since(changed).Round(time.Second))
	for _, want := range []string{"bad query: b'SELECT price_eur FROM odoo_operator_shop_product'", "price sync of database " + db + " failed"} {
		if !strings.Contains(messages, want) {
			t.Errorf("status.health messages lack %q: %s", want, messages)
		}
	}
	if strings.Contains(categories, "Other") {
		t.Errorf("status.health categories %q: the real errors are a missing column", categories)
	}
	framework.Eventually(t, 2*time.Minute, "web and cron back on "+realFrom, func() error {
		for _, d := range []string{"deploy/" + name, "deploy/" + name + "-cron"} {
			if got := jsonpath(t, ns, d, "{.spec.template.spec.containers[0].image}"); got != realFrom {
				return fmt.Errorf("%s image %s", d, got)
			}
		}
		return nil
	})
	if got := jsonpath(t, ns, inst, "{.status.deployment.rollback.fromImage}"); got != realErrors {
		t.Errorf("rollback.fromImage = %q", got)
	}
	// Only images were rolled back; the database was never touched.
	if got := shopModules(t, db); !slices.Equal(got, []string{"odoo_operator_shop=installed=18.0.1.0.0", "odoo_operator_shop_report=installed=18.0.1.0.0"}) {
		t.Errorf("modules after the rollback: %v", got)
	}
}
