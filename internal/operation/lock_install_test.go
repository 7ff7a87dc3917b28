package operation_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
)

// TestInstallRunHoldsAModuleInstallLock: an install run of
// spec.modules.install (trigger Modules) holds the lock as ModuleInstall,
// not Upgrade; it runs its own restore point inside the lock and keeps a
// backup of another name waiting.
func TestInstallRunHoldsAModuleInstallLock(t *testing.T) {
	inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "tenant"}}
	inst.Status.Database = &odoov1alpha2.DatabaseStatus{Name: "tenant_shop", Initialized: true}
	inst.Status.Upgrade = &odoov1alpha2.UpgradeStatus{
		Trigger: odoov1alpha2.UpgradeTriggerModules, Step: odoov1alpha2.UpgradeStepRestorePoint,
		RestorePointBackup: "shop-pre-upgrade-1", ModulesInstall: []string{"crm"},
	}
	holders := operation.Holders(inst)
	if len(holders) != 1 || holders[0].Kind != odoov1alpha2.OperationModuleInstall || holders[0].Name != "shop" {
		t.Fatalf("holders %+v, want the instance's ModuleInstall", holders)
	}
	if d := operation.Check(inst, odoov1alpha2.OperationModuleInstall, "shop"); !d.Go() {
		t.Errorf("the install run itself: %+v", d)
	}
	if d := operation.Check(inst, odoov1alpha2.OperationBackup, "shop-pre-upgrade-1"); !d.Go() {
		t.Errorf("the install run's restore point: %+v", d)
	}
	if d := operation.Check(inst, odoov1alpha2.OperationBackup, "nightly"); d.Verdict != operation.Wait {
		t.Errorf("another backup: %+v, want Wait", d)
	}
	if d := operation.Check(inst, odoov1alpha2.OperationUpgrade, "shop"); d.Go() || d.Message == "" {
		t.Errorf("an upgrade during the install run: %+v, want it to wait with a message", d)
	}
	inst.Status.Upgrade.Trigger = "Image"
	if h := operation.Holders(inst); h[0].Kind != odoov1alpha2.OperationUpgrade {
		t.Errorf("an image upgrade holds %s, want Upgrade", h[0].Kind)
	}
}
