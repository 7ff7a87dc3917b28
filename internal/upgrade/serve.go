package upgrade

import (
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Serving is what web and cron run while the upgrade state is st.
type Serving struct {
	WebImage, CronImage string
	// StopWeb and StopCron scale the tier to 0.
	StopWeb, StopCron bool
}

// Serve returns the images and holds of web and cron. The old images keep
// serving until an upgrade succeeded; cron stops for maintenance from
// StopCron until the new image is rolled out.
func Serve(st *odoov1alpha2.UpgradeStatus, o Observed) Serving {
	o = withRunning(st, o)
	if InFlight(st) {
		switch st.Step {
		case odoov1alpha2.UpgradeStepRollout:
			return Serving{WebImage: st.ImageAttempted, CronImage: st.CronImageAttempted, StopCron: o.MaintenanceMode}
		case odoov1alpha2.UpgradeStepRestore:
			return Serving{WebImage: st.FromImage, CronImage: st.FromCronImage, StopWeb: true, StopCron: true}
		case odoov1alpha2.UpgradeStepSnapshot:
			return Serving{WebImage: st.FromImage, CronImage: st.FromCronImage}
		}
		return Serving{WebImage: st.FromImage, CronImage: st.FromCronImage, StopCron: o.MaintenanceMode}
	}
	if trigger, _ := wanted(st, o); trigger != "" || (o.AutoUpgrade && failedFor(st, o)) {
		// An upgrade is due (its status is stored next), or it failed for
		// these very images: the running images stay.
		return Serving{WebImage: o.RunningImage, CronImage: o.RunningCronImage}
	}
	return Serving{WebImage: o.SpecImage, CronImage: o.SpecCronImage}
}
