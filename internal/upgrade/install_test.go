package upgrade_test

import (
	"testing"

	. "github.com/onsi/gomega"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// TestApplyStartsAnInstallRun: an install run records the modules it
// installs, with the serving image as both sides.
func TestApplyStartsAnInstallRun(t *testing.T) {
	g := NewWithT(t)
	o := obs(missing("crm", "website"))
	next := upgrade.Apply(nil, upgrade.Action{Kind: upgrade.Start, Trigger: odoov1alpha2.UpgradeTriggerModules}, o, t0)
	g.Expect(next.Trigger).To(Equal(odoov1alpha2.UpgradeTriggerModules))
	g.Expect(next.ModulesInstall).To(Equal([]string{"crm", "website"}))
	g.Expect(next.Modules).To(BeEmpty())
	g.Expect(next.ImageAttempted).To(Equal(imgA))
	g.Expect(next.FromImage).To(Equal(imgA))
	g.Expect(next.Step).To(Equal(odoov1alpha2.UpgradeStepSnapshot))
	g.Expect(next.Message).To(ContainSubstring("installing crm, website"))
}

// TestJudgeInstallRunNeedsTheDeclaredModules: `odoo -i` exits 0 on a name
// it does not know; an install run that left a declared module uninstalled
// failed, naming it.
func TestJudgeInstallRunNeedsTheDeclaredModules(t *testing.T) {
	g := NewWithT(t)
	st := &odoov1alpha2.UpgradeStatus{Trigger: odoov1alpha2.UpgradeTriggerModules, ImageAttempted: imgA, FromImage: imgA, ModulesInstall: []string{"crm", "nowhere"}}
	before := []dbtools.Module{{Name: "base", State: "installed", LatestVersion: "18.0.1.3"}, {Name: "crm", State: "uninstalled"}}
	after := []dbtools.Module{{Name: "base", State: "installed", LatestVersion: "18.0.1.3"}, {Name: "crm", State: "installed", LatestVersion: "18.0.1.0"},
		{Name: "mail", State: "installed", LatestVersion: "18.0.1.1"}}
	v := upgrade.Judge(st, upgrade.Judged{Before: before, After: after})
	g.Expect(v.OK).To(BeFalse())
	g.Expect(v.Message).To(ContainSubstring("declared modules not installed (not in the image?): nowhere"))

	st.ModulesInstall = []string{"crm"}
	v = upgrade.Judge(st, upgrade.Judged{Before: before, After: after})
	g.Expect(v.OK).To(BeTrue(), v.Message)
	g.Expect(v.Message).To(ContainSubstring("mail"), "the dependencies Odoo pulled in are reported")
}
