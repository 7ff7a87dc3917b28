package upgrade_test

import (
	"testing"

	. "github.com/onsi/gomega"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

func TestServe(t *testing.T) {
	var (
		oldImages  = upgrade.Serving{WebImage: imgA, CronImage: cronA}
		oldNoCron  = upgrade.Serving{WebImage: imgA, CronImage: cronA, StopCron: true}
		newImages  = upgrade.Serving{WebImage: imgB, CronImage: cronB}
		newNoCron  = upgrade.Serving{WebImage: imgB, CronImage: cronB, StopCron: true}
		restoreSrv = upgrade.Serving{WebImage: imgA, CronImage: cronA, StopWeb: true, StopCron: true}
		step       = func(s odoov1alpha2.UpgradeStep) *odoov1alpha2.UpgradeStatus { return inFlight(s) }
	)
	tests := []struct {
		name string
		st   *odoov1alpha2.UpgradeStatus
		o    upgrade.Observed
		want upgrade.Serving
	}{
		// Steady.
		{"no status, nothing changed", nil, obs(), oldImages},
		{"success, nothing changed", succeededA(), obs(), oldImages},
		{"not initialised: the spec images (the init Job installs them)", nil, obs(specB, notInitialised), newImages},

		// Upgrade due, not started yet: what runs keeps running.
		{"no status, image changed", nil, upgrading(), oldImages},
		{"no status, only the cron image changed", nil, obs(specCronB), oldImages},
		{"success, image changed", succeededA(), upgrading(), oldImages},
		{"image changed while busy", nil, upgrading(busy), oldImages},
		{"annotation due with autoUpgrade disabled and a new image", succeededA(), upgrading(autoUpgradeOff, upgradeNow("r2")), oldImages},
		{"legacy request due with a new image", nil, upgrading(request("uj")), oldImages},

		// autoUpgrade disabled: an image change rolls out directly.
		{"autoUpgrade disabled, image changed", nil, upgrading(autoUpgradeOff), newImages},
		{"autoUpgrade disabled after a success, image changed", succeededA(), upgrading(autoUpgradeOff), newImages},
		{"autoUpgrade disabled, image changed, busy", nil, upgrading(autoUpgradeOff, busy), newImages},

		// In flight: the old images serve until Rollout; cron is held from
		// StopCron to Rollout with maintenance mode.
		{"Snapshot", step(odoov1alpha2.UpgradeStepSnapshot), upgrading(), oldImages},
		{"StopCron", step(odoov1alpha2.UpgradeStepStopCron), upgrading(), oldNoCron},
		{"RestorePoint", step(odoov1alpha2.UpgradeStepRestorePoint), upgrading(), oldNoCron},
		{"Upgrade", step(odoov1alpha2.UpgradeStepUpgrade), upgrading(), oldNoCron},
		{"Verify", step(odoov1alpha2.UpgradeStepVerify), upgrading(), oldNoCron},
		{"Rollout", step(odoov1alpha2.UpgradeStepRollout), upgrading(), newNoCron},
		{"RestorePoint without maintenance mode", step(odoov1alpha2.UpgradeStepRestorePoint), upgrading(maintenanceOff), oldImages},
		{"Upgrade without maintenance mode", step(odoov1alpha2.UpgradeStepUpgrade), upgrading(maintenanceOff), oldImages},
		{"Verify without maintenance mode", step(odoov1alpha2.UpgradeStepVerify), upgrading(maintenanceOff), oldImages},
		{"Rollout without maintenance mode", step(odoov1alpha2.UpgradeStepRollout), upgrading(maintenanceOff), newImages},
		{"Restore: web and cron stopped", restoring(), upgrading(onFailureRestore), restoreSrv},
		{"Restore without maintenance mode: web and cron stopped", restoring(), upgrading(onFailureRestore, maintenanceOff), restoreSrv},
		{"Restore, Deployments still carrying B", restoring(), upgrading(onFailureRestore, runningB), restoreSrv},
		{"Upgrade, spec reverted (before Decide ends it)", step(odoov1alpha2.UpgradeStepUpgrade), obs(), oldNoCron},
		{"Upgrade, spec changed to a third image", step(odoov1alpha2.UpgradeStepUpgrade), obs(specC), oldNoCron},
		{"Upgrade, autoUpgrade disabled mid-upgrade", step(odoov1alpha2.UpgradeStepUpgrade), upgrading(autoUpgradeOff), oldNoCron},
		{"Rollout, autoUpgrade disabled mid-upgrade", step(odoov1alpha2.UpgradeStepRollout), upgrading(autoUpgradeOff), newNoCron},
		{"annotation run of the serving images, Upgrade", inFlight(odoov1alpha2.UpgradeStepUpgrade, annotationTrigger, sameImageRun), obs(upgradeNow("r2")), oldNoCron},

		// After a failure.
		{"failed, spec still names the failed image", failedB(), upgrading(), oldImages},
		{"failed during Rollout, Deployments still carry the failed image", failedB(), upgrading(runningB), oldImages},
		{"failed, spec reverted to the old image", failedB(), obs(), oldImages},
		{"failed during Rollout, spec reverted, Deployments still carry B", failedB(), obs(runningB), oldImages},
		{"failed, spec changed to a third image: due, the old images serve", failedB(), obs(specC), oldImages},
		{"failed during Rollout, spec C, Deployments still carry B", failedB(), obs(specC, runningB), oldImages},
		{"failed, annotation bumped: due, the old images serve", failedB(), upgrading(upgradeNow("r2")), oldImages},
		{"failed, busy", failedB(), upgrading(busy), oldImages},
		{"failed, restored, spec still B", failedB(func(st *odoov1alpha2.UpgradeStatus) { st.KeptDatabase = "shop_kept" }), upgrading(), oldImages},
		{"cancelled, spec reverted", cancelledB(), obs(), oldImages},
		{"cancelled, spec B again: due", cancelledB(), upgrading(), oldImages},

		// autoUpgrade disabled after a failed upgrade: the operator no longer
		// guards images, the spec rolls out directly as documented.
		{"failed, then autoUpgrade disabled: the spec images roll out", failedB(), upgrading(autoUpgradeOff), newImages},
		// A failed upgrade holds what runs, not an image recorded long ago:
		// C was rolled out (autoUpgrade disabled) after the failure of B; the
		// spec naming B again must not bring A back.
		{"failed for B, C runs, spec back to B: C stays", failedB(), upgrading(runningC), upgrade.Serving{WebImage: imgC, CronImage: cronC}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var before *odoov1alpha2.UpgradeStatus
			if tc.st != nil {
				before = tc.st.DeepCopy()
			}
			g.Expect(upgrade.Serve(tc.st, tc.o)).To(Equal(tc.want))
			g.Expect(tc.st).To(Equal(before))
		})
	}
}

// Properties of Serve over every state and event.
func TestServeEveryStateAndEvent(t *testing.T) {
	for _, s := range allStates() {
		for _, e := range allEvents() {
			t.Run(s.name+"/"+e.name, func(t *testing.T) {
				g := NewWithT(t)
				o := s.base
				e.mod(&o)
				got := upgrade.Serve(s.st, o)
				g.Expect(got.WebImage).NotTo(BeEmpty())
				g.Expect(got.CronImage).NotTo(BeEmpty())
				g.Expect(upgrade.Serve(s.st, o)).To(Equal(got))
				if !upgrade.InFlight(s.st) {
					g.Expect(got.StopWeb).To(BeFalse(), "web is only stopped by a restore")
					g.Expect(got.StopCron).To(BeFalse(), "cron is only stopped by an upgrade in flight")
					return
				}
				switch s.st.Step {
				case odoov1alpha2.UpgradeStepRollout:
					g.Expect(got.WebImage).To(Equal(s.st.ImageAttempted))
					g.Expect(got.CronImage).To(Equal(s.st.CronImageAttempted))
				default:
					// The attempted image never serves before it is proven good.
					g.Expect(got.WebImage).To(Equal(s.st.FromImage))
					g.Expect(got.CronImage).To(Equal(s.st.FromCronImage))
				}
				g.Expect(got.StopWeb).To(Equal(s.st.Step == odoov1alpha2.UpgradeStepRestore))
			})
		}
	}
}
