package upgrade_test

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// Images: web and cron differ so that a mix-up between them shows.
const (
	imgZ  = "registry.example.com/shop/odoo:18.0-20251201"
	imgA  = "registry.example.com/shop/odoo:18.0-20260101"
	imgB  = "registry.example.com/shop/odoo:18.0-20260201"
	imgC  = "registry.example.com/shop/odoo:18.0-20260301"
	cronZ = "registry.example.com/shop/odoo-cron:18.0-20251201"
	cronA = "registry.example.com/shop/odoo-cron:18.0-20260101"
	cronB = "registry.example.com/shop/odoo-cron:18.0-20260201"
	cronC = "registry.example.com/shop/odoo-cron:18.0-20260301"

	restorePoint = "shop-pre-upgrade-01234567"
)

var t0 = metav1.NewTime(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))

// obs is the observation of an initialised instance serving A with A in its
// spec, with the defaults of the API: autoUpgrade, maintenanceMode and
// beforeUpgrade on, onFailure KeepOldImage.
func obs(mods ...func(*upgrade.Observed)) upgrade.Observed {
	o := upgrade.Observed{
		Initialized:      true,
		SpecImage:        imgA,
		SpecCronImage:    cronA,
		RunningImage:     imgA,
		RunningCronImage: cronA,
		AutoUpgrade:      true,
		MaintenanceMode:  true,
		BeforeUpgrade:    true,
		OnFailure:        odoov1alpha2.UpgradeFailureKeepOldImage,
	}
	for _, m := range mods {
		m(&o)
	}
	return o
}

// upgrading is the observation while A serves and the spec asks for B.
func upgrading(mods ...func(*upgrade.Observed)) upgrade.Observed {
	return obs(append([]func(*upgrade.Observed){specB}, mods...)...)
}

func specB(o *upgrade.Observed)            { o.SpecImage, o.SpecCronImage = imgB, cronB }
func specC(o *upgrade.Observed)            { o.SpecImage, o.SpecCronImage = imgC, cronC }
func specA(o *upgrade.Observed)            { o.SpecImage, o.SpecCronImage = imgA, cronA }
func specWebB(o *upgrade.Observed)         { o.SpecImage = imgB }
func specCronB(o *upgrade.Observed)        { o.SpecCronImage = cronB }
func runningB(o *upgrade.Observed)         { o.RunningImage, o.RunningCronImage = imgB, cronB }
func runningC(o *upgrade.Observed)         { o.RunningImage, o.RunningCronImage = imgC, cronC }
func autoUpgradeOff(o *upgrade.Observed)   { o.AutoUpgrade = false }
func notInitialised(o *upgrade.Observed)   { o.Initialized = false }
func busy(o *upgrade.Observed)             { o.Busy = true }
func maintenanceOff(o *upgrade.Observed)   { o.MaintenanceMode = false }
func beforeUpgradeOff(o *upgrade.Observed) { o.BeforeUpgrade = false }
func onFailureRestore(o *upgrade.Observed) { o.OnFailure = odoov1alpha2.UpgradeFailureRestore }
func snapshotTaken(o *upgrade.Observed)    { o.SnapshotTaken = true }

func preflight(s upgrade.JobState) func(*upgrade.Observed) {
	return func(o *upgrade.Observed) { o.PreflightNeeded, o.Preflight = true, s }
}
func cronStopped(o *upgrade.Observed) { o.CronStopped = true }
func rolledOut(o *upgrade.Observed)   { o.WebRolledOut = true }
func webStopped(o *upgrade.Observed)  { o.WebStopped = true }
func swapped(o *upgrade.Observed)     { o.Swapped = true }
func restoreJob(s upgrade.JobState) func(*upgrade.Observed) {
	return func(o *upgrade.Observed) { o.RestoreJob = s }
}
func restorePointBackup(s upgrade.JobState) func(*upgrade.Observed) {
	return func(o *upgrade.Observed) { o.RestorePoint = s }
}
func upgradeJob(s upgrade.JobState) func(*upgrade.Observed) {
	return func(o *upgrade.Observed) { o.UpgradeJob = s }
}
func verdict(ok bool, msg string) func(*upgrade.Observed) {
	return func(o *upgrade.Observed) { o.Verdict = &upgrade.Verdict{OK: ok, Message: msg} }
}
func failure(msg string) func(*upgrade.Observed) {
	return func(o *upgrade.Observed) { o.Failure = msg }
}
func upgradeNow(v string) func(*upgrade.Observed) {
	return func(o *upgrade.Observed) { o.UpgradeNow = v }
}
func request(name string, modules ...string) func(*upgrade.Observed) {
	return func(o *upgrade.Observed) { o.Request = &upgrade.Request{Name: name, Modules: modules} }
}

func missing(names ...string) func(*upgrade.Observed) {
	return func(o *upgrade.Observed) { o.InstallMissing, o.ModulesFresh = names, true }
}

// installFailed: the last install run of names (with A serving) failed.
func installFailed(names ...string) *odoov1alpha2.UpgradeStatus {
	st := succeededA()
	st.Phase, st.Failed, st.Trigger = odoov1alpha2.UpgradeFailed, true, odoov1alpha2.UpgradeTriggerModules
	st.FromImage, st.FromCronImage = imgA, cronA
	st.ModulesInstall = names
	return st
}

// inFlight is an image-triggered upgrade from A to B at step, with a restore
// point named at Start.
func inFlight(step odoov1alpha2.UpgradeStep, mods ...func(*odoov1alpha2.UpgradeStatus)) *odoov1alpha2.UpgradeStatus {
	start := t0
	st := &odoov1alpha2.UpgradeStatus{
		Phase:              odoov1alpha2.UpgradeRunning,
		Step:               step,
		Trigger:            upgrade.TriggerImage,
		Request:            "r1",
		StartTime:          &start,
		FromImage:          imgA,
		FromCronImage:      cronA,
		ImageAttempted:     imgB,
		CronImageAttempted: cronB,
		ImageCurrent:       imgA,
		JobName:            "shop-upgrade-0123456789",
		RestorePointBackup: restorePoint,
		Message:            "upgrading modules with " + imgB,
	}
	for _, m := range mods {
		m(st)
	}
	return st
}

// restoring is a failed upgrade carrying out onFailure Restore.
func restoring(mods ...func(*odoov1alpha2.UpgradeStatus)) *odoov1alpha2.UpgradeStatus {
	return inFlight(odoov1alpha2.UpgradeStepRestore, append([]func(*odoov1alpha2.UpgradeStatus){func(st *odoov1alpha2.UpgradeStatus) {
		st.Failed = true
		st.Message = "module sale_stock: KeyError"
	}}, mods...)...)
}

// succeededA: the last upgrade (Z → A) succeeded; A serves.
func succeededA(mods ...func(*odoov1alpha2.UpgradeStatus)) *odoov1alpha2.UpgradeStatus {
	start, end := t0, metav1.NewTime(t0.Add(10*time.Minute))
	st := &odoov1alpha2.UpgradeStatus{
		Phase: odoov1alpha2.UpgradeSuccess, Step: odoov1alpha2.UpgradeStepDone, Trigger: upgrade.TriggerImage, Request: "r1",
		StartTime: &start, CompletionTime: &end, Duration: "10m0s",
		FromImage: imgZ, FromCronImage: cronZ, ImageAttempted: imgA, CronImageAttempted: cronA, ImageCurrent: imgA,
		JobName: "shop-upgrade-aaaaaaaaaa", RestorePointBackup: restorePoint,
	}
	for _, m := range mods {
		m(st)
	}
	return st
}

// failedB: the last upgrade (A → B) failed; A serves.
func failedB(mods ...func(*odoov1alpha2.UpgradeStatus)) *odoov1alpha2.UpgradeStatus {
	start, end := t0, metav1.NewTime(t0.Add(10*time.Minute))
	st := inFlight(odoov1alpha2.UpgradeStepDone, func(st *odoov1alpha2.UpgradeStatus) {
		st.Phase, st.Failed = odoov1alpha2.UpgradeFailed, true
		st.CompletionTime, st.Duration = &end, "10m0s"
		st.StartTime = &start
		st.Message = "module sale_stock: KeyError: 'picking_type_id'"
	})
	for _, m := range mods {
		m(st)
	}
	return st
}

// cancelledB: an upgrade to B cancelled before its Job (spec reverted to A).
func cancelledB() *odoov1alpha2.UpgradeStatus {
	return failedB(func(st *odoov1alpha2.UpgradeStatus) {
		st.Failed = false
		st.Message = "cancelled: spec.image changed before the upgrade Job ran"
	})
}

func annotationTrigger(st *odoov1alpha2.UpgradeStatus) {
	st.Trigger, st.Request = upgrade.TriggerAnnotation, "r2"
}

// sameImageRun: an upgrade run that keeps the images (annotation or legacy
// request with the spec unchanged): attempted = from = A.
func sameImageRun(st *odoov1alpha2.UpgradeStatus) {
	st.ImageAttempted, st.CronImageAttempted = imgA, cronA
}

type decideCase struct {
	name string
	st   *odoov1alpha2.UpgradeStatus
	o    upgrade.Observed
	want upgrade.Action
	// msg is a substring of the action's message; empty: not checked.
	msg string
}

func runDecideCases(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var before *odoov1alpha2.UpgradeStatus
			if tc.st != nil {
				before = tc.st.DeepCopy()
			}
			got := upgrade.Decide(tc.st, tc.o)
			g.Expect(got.Kind).To(Equal(tc.want.Kind), "action %+v", got)
			g.Expect(got.Step).To(Equal(tc.want.Step), "action %+v", got)
			g.Expect(got.Trigger).To(Equal(tc.want.Trigger), "action %+v", got)
			g.Expect(got.Request).To(Equal(tc.want.Request), "action %+v", got)
			if tc.msg != "" {
				g.Expect(got.Message).To(ContainSubstring(tc.msg))
			}
			// Restart: the same status and observations decide the same action.
			g.Expect(upgrade.Decide(tc.st, tc.o)).To(Equal(got))
			g.Expect(tc.st).To(Equal(before), "Decide must not modify the status")
		})
	}
}

func TestDecideWithoutUpgradeInFlight(t *testing.T) {
	start := upgrade.Action{Kind: upgrade.Start, Trigger: upgrade.TriggerImage}
	annotation := upgrade.Action{Kind: upgrade.Start, Trigger: upgrade.TriggerAnnotation}
	none := upgrade.Action{Kind: upgrade.None}
	wait := upgrade.Action{Kind: upgrade.Wait}
	install := upgrade.Action{Kind: upgrade.Start, Trigger: odoov1alpha2.UpgradeTriggerModules}
	runDecideCases(t, []decideCase{
		// No status yet.
		{name: "no status: nothing changed", o: obs(), want: none},
		{name: "no status: image changed", o: obs(specWebB), want: start},
		{name: "no status: cron image changed", o: obs(specCronB), want: start},
		{name: "no status: both images changed", o: obs(specB), want: start},
		{name: "no status: annotation set", o: obs(upgradeNow("now-1")), want: annotation},
		{name: "no status: annotation wins over an image change", o: obs(specB, upgradeNow("now-1")), want: annotation},
		{name: "no status: annotation wins over a legacy request", o: obs(upgradeNow("now-1"), request("uj")), want: annotation},
		{name: "no status: legacy request due", o: obs(request("uj", "sale")),
			want: upgrade.Action{Kind: upgrade.Start, Trigger: "OdooUpgradeJob/uj", Request: &upgrade.Request{Name: "uj", Modules: []string{"sale"}}}},
		{name: "no status: legacy request wins over an image change", o: obs(specB, request("uj")),
			want: upgrade.Action{Kind: upgrade.Start, Trigger: "OdooUpgradeJob/uj", Request: &upgrade.Request{Name: "uj"}}},
		{name: "no status: autoUpgrade disabled, image changed: rolled out without upgrade", o: obs(specB, autoUpgradeOff), want: none},
		{name: "no status: autoUpgrade disabled, annotation still runs one upgrade", o: obs(autoUpgradeOff, upgradeNow("now-1")), want: annotation},
		{name: "no status: autoUpgrade disabled, legacy request still runs", o: obs(autoUpgradeOff, request("uj")),
			want: upgrade.Action{Kind: upgrade.Start, Trigger: "OdooUpgradeJob/uj", Request: &upgrade.Request{Name: "uj"}}},
		{name: "no status: not initialised, image changed: the init Job installs with spec.image", o: obs(specB, notInitialised), want: none},
		{name: "no status: not initialised, annotation waits for the init", o: obs(notInitialised, upgradeNow("now-1")), want: none},
		{name: "no status: not initialised, legacy request waits for the init", o: obs(notInitialised, request("uj")), want: none},
		{name: "no status: busy, image changed: waits for the filestore migration", o: obs(specB, busy), want: wait, msg: "filestore migration"},
		{name: "no status: busy, annotation waits", o: obs(busy, upgradeNow("now-1")), want: wait},
		{name: "no status: busy, nothing changed", o: obs(busy), want: none},
		{name: "no status: busy, autoUpgrade disabled, image changed", o: obs(specB, busy, autoUpgradeOff), want: none},
		{name: "no status: maintenance mode and restore point off change nothing", o: obs(specB, maintenanceOff, beforeUpgradeOff), want: start},

		// Last upgrade succeeded (A serves).
		{name: "success: nothing changed", st: succeededA(), o: obs(), want: none},
		{name: "success: image changed", st: succeededA(), o: obs(specB), want: start},
		{name: "success: cron image changed", st: succeededA(), o: obs(specCronB), want: start},
		{name: "success: annotation same value as acted on", st: succeededA(), o: obs(upgradeNow("r1")), want: none},
		{name: "success: annotation new value", st: succeededA(), o: obs(upgradeNow("r2")), want: annotation},
		{name: "success: annotation same value, image changed", st: succeededA(), o: obs(specB, upgradeNow("r1")), want: start},
		{name: "success: annotation removed", st: succeededA(), o: obs(upgradeNow("")), want: none},
		{name: "success: legacy request due", st: succeededA(), o: obs(request("uj", "sale")),
			want: upgrade.Action{Kind: upgrade.Start, Trigger: "OdooUpgradeJob/uj", Request: &upgrade.Request{Name: "uj", Modules: []string{"sale"}}}},
		{name: "success: autoUpgrade disabled, image changed", st: succeededA(), o: obs(specB, autoUpgradeOff), want: none},
		{name: "success: autoUpgrade disabled, annotation bumped", st: succeededA(), o: obs(autoUpgradeOff, upgradeNow("r2")), want: annotation},
		{name: "success: busy, image changed", st: succeededA(), o: obs(specB, busy), want: wait},
		{name: "success: spec back to the image before (downgrade) is an image change", st: succeededA(),
			o: obs(func(o *upgrade.Observed) { o.SpecImage, o.SpecCronImage = imgZ, cronZ }), want: start},
		{name: "success: failure string of a finished upgrade is ignored", st: succeededA(), o: obs(failure("stale")), want: none},
		{name: "success: a stale read of cron on the image before is not a new upgrade", st: succeededA(),
			o: obs(func(o *upgrade.Observed) { o.RunningCronImage = cronZ }), want: none},
		{name: "success: a stale read of both tiers on the images before is not a new upgrade", st: succeededA(),
			o: obs(func(o *upgrade.Observed) { o.RunningImage, o.RunningCronImage = imgZ, cronZ }), want: none},

		// Last upgrade to B failed (A serves, spec still B).
		{name: "failed: spec still names the failed image: not retried", st: failedB(), o: upgrading(), want: none},
		{name: "failed: not retried on restart either (no Job left)", st: failedB(), o: upgrading(upgradeJob(upgrade.JobAbsent)), want: none},
		{name: "failed: spec changed to a third image", st: failedB(), o: obs(specC), want: start},
		{name: "failed: only the cron image changed", st: failedB(), o: obs(specWebB), want: start},
		{name: "failed: spec reverted to the serving image", st: failedB(), o: obs(), want: none},
		{name: "failed: annotation same value", st: failedB(), o: upgrading(upgradeNow("r1")), want: none},
		{name: "failed: annotation bumped retries", st: failedB(), o: upgrading(upgradeNow("r2")), want: annotation},
		{name: "failed: annotation bumped while busy waits", st: failedB(), o: upgrading(upgradeNow("r2"), busy), want: wait},
		{name: "failed: autoUpgrade disabled", st: failedB(), o: upgrading(autoUpgradeOff), want: none},
		{name: "failed: legacy request due", st: failedB(), o: upgrading(request("uj")),
			want: upgrade.Action{Kind: upgrade.Start, Trigger: "OdooUpgradeJob/uj", Request: &upgrade.Request{Name: "uj"}}},
		{name: "failed during Rollout: Deployments still carry B, spec B: not retried", st: failedB(), o: upgrading(runningB), want: none},
		{name: "failed during Rollout: Deployments still carry B, spec reverted to A: nothing to upgrade", st: failedB(), o: obs(runningB), want: none},
		{name: "failed during Rollout: Deployments still carry B, spec C: upgrade", st: failedB(), o: obs(runningB, specC), want: start},
		{name: "failed: restore finished, spec still B", st: failedB(func(st *odoov1alpha2.UpgradeStatus) { st.KeptDatabase = "shop_kept" }), o: upgrading(), want: none},

		// Declared modules missing from the database (spec.modules.install).
		{name: "install: missing modules, fresh read: an install run", o: obs(missing("crm")), want: install},
		{name: "install: a stale read does not start a run", o: obs(missing("crm"), func(o *upgrade.Observed) { o.ModulesFresh = false }), want: none},
		{name: "install: nothing missing", o: obs(missing()), want: none},
		{name: "install: an image change goes first", o: obs(specB, missing("crm")), want: start},
		{name: "install: not initialised waits for the init", o: obs(notInitialised, missing("crm")), want: none},
		{name: "install: busy waits", o: obs(busy, missing("crm")), want: wait},
		{name: "install: after an install run failed for the same modules: not retried", st: installFailed("crm"), o: obs(missing("crm")), want: none},
		{name: "install: the declared list changed after a failed run: a new run", st: installFailed("crm"), o: obs(missing("crm", "website")), want: install},
		{name: "install: after a failed image upgrade reverted: the install runs", st: failedB(), o: obs(missing("crm")), want: install},

		// Cancelled before the Job (spec reverted to A).
		{name: "cancelled: nothing changed", st: cancelledB(), o: obs(), want: none},
		{name: "cancelled: spec set to B again is a new image change", st: cancelledB(), o: upgrading(), want: start},
	})
}

func TestDecideInFlight(t *testing.T) {
	var (
		snapshot     = odoov1alpha2.UpgradeStepSnapshot
		stopCron     = odoov1alpha2.UpgradeStepStopCron
		restorePt    = odoov1alpha2.UpgradeStepRestorePoint
		upgradeStep  = odoov1alpha2.UpgradeStepUpgrade
		verify       = odoov1alpha2.UpgradeStepVerify
		rollout      = odoov1alpha2.UpgradeStepRollout
		cancel       = upgrade.Action{Kind: upgrade.Cancel}
		fail         = upgrade.Action{Kind: upgrade.Fail}
		wait         = upgrade.Action{Kind: upgrade.Wait}
		advanceTo    = func(s odoov1alpha2.UpgradeStep) upgrade.Action { return upgrade.Action{Kind: upgrade.Advance, Step: s} }
		notTouched   = "was not touched"
		mayHoldMods  = "may hold modules"
		restoreFails = "module sale_stock: KeyError"
	)
	runDecideCases(t, []decideCase{
		// Snapshot.
		{name: "Snapshot: not taken", st: inFlight(snapshot), o: upgrading(), want: upgrade.Action{Kind: upgrade.TakeSnapshot}},
		{name: "Snapshot: taken, maintenance mode: stop cron next", st: inFlight(snapshot), o: upgrading(snapshotTaken), want: advanceTo(stopCron)},
		{name: "Snapshot: taken, maintenance mode, no restore point: stop cron next", st: inFlight(snapshot), o: upgrading(snapshotTaken, beforeUpgradeOff), want: advanceTo(stopCron)},
		{name: "Snapshot: taken, no maintenance mode: restore point next", st: inFlight(snapshot), o: upgrading(snapshotTaken, maintenanceOff), want: advanceTo(restorePt)},
		{name: "Snapshot: taken, neither: the upgrade Job next", st: inFlight(snapshot, func(st *odoov1alpha2.UpgradeStatus) { st.RestorePointBackup = "" }),
			o: upgrading(snapshotTaken, maintenanceOff, beforeUpgradeOff), want: advanceTo(upgradeStep)},
		{name: "Snapshot: spec reverted to the old image: cancel", st: inFlight(snapshot), o: obs(), want: cancel, msg: notTouched},
		{name: "Snapshot: spec changed to a third image: cancel", st: inFlight(snapshot), o: obs(specC), want: cancel},
		{name: "Snapshot: only the cron image reverted: cancel", st: inFlight(snapshot), o: obs(specWebB), want: cancel},
		{name: "Snapshot: snapshot failed", st: inFlight(snapshot), o: upgrading(failure("no ir_module_module table")), want: fail, msg: "no ir_module_module table"},
		{name: "Snapshot: revert wins over a failure", st: inFlight(snapshot), o: obs(failure("boom")), want: cancel},
		{name: "Snapshot: a new annotation waits for the upgrade in flight", st: inFlight(snapshot), o: upgrading(upgradeNow("r9")), want: upgrade.Action{Kind: upgrade.TakeSnapshot}},
		{name: "Snapshot: a legacy request waits for the upgrade in flight", st: inFlight(snapshot), o: upgrading(request("uj")), want: upgrade.Action{Kind: upgrade.TakeSnapshot}},
		{name: "Snapshot: autoUpgrade disabled mid-upgrade: the upgrade goes on", st: inFlight(snapshot), o: upgrading(autoUpgradeOff), want: upgrade.Action{Kind: upgrade.TakeSnapshot}},
		{name: "Snapshot: taken, preflight needed: create its Job", st: inFlight(snapshot), o: upgrading(snapshotTaken, preflight(upgrade.JobAbsent)), want: upgrade.Action{Kind: upgrade.CreatePreflightJob}},
		{name: "Snapshot: preflight running: wait, nothing touched", st: inFlight(snapshot), o: upgrading(snapshotTaken, preflight(upgrade.JobRunning)), want: upgrade.Action{Kind: upgrade.Wait}},
		{name: "Snapshot: preflight passed: the steps go on", st: inFlight(snapshot), o: upgrading(snapshotTaken, preflight(upgrade.JobSucceeded)), want: advanceTo(stopCron)},
		{name: "Snapshot: preflight refused: fail at Snapshot", st: inFlight(snapshot), o: upgrading(snapshotTaken, preflight(upgrade.JobSucceeded), failure("modules missing from the new image")), want: fail, msg: "modules missing from the new image"},
		{name: "Snapshot: preflight Job failed without a reason: fail", st: inFlight(snapshot), o: upgrading(snapshotTaken, preflight(upgrade.JobFailed)), want: fail, msg: "the preflight Job of " + imgB + " failed; nothing was touched"},
		{name: "Snapshot: revert during the preflight: cancel", st: inFlight(snapshot), o: obs(snapshotTaken, preflight(upgrade.JobRunning)), want: cancel, msg: notTouched},
		{name: "Snapshot: the initialised flag is not looked at in flight", st: inFlight(snapshot), o: upgrading(notInitialised, snapshotTaken), want: advanceTo(stopCron)},

		// StopCron.
		{name: "StopCron: pods still there", st: inFlight(stopCron), o: upgrading(), want: wait, msg: "cron"},
		{name: "StopCron: stopped: restore point next", st: inFlight(stopCron), o: upgrading(cronStopped), want: advanceTo(restorePt)},
		{name: "StopCron: stopped, no restore point asked: the upgrade Job next", st: inFlight(stopCron, func(st *odoov1alpha2.UpgradeStatus) { st.RestorePointBackup = "" }),
			o: upgrading(cronStopped, beforeUpgradeOff), want: advanceTo(upgradeStep)},
		{name: "StopCron: spec reverted: cancel", st: inFlight(stopCron), o: obs(cronStopped), want: cancel, msg: notTouched},
		{name: "StopCron: third image: cancel", st: inFlight(stopCron), o: obs(specC), want: cancel},
		{name: "StopCron: failure", st: inFlight(stopCron), o: upgrading(failure("boom")), want: fail},

		// RestorePoint.
		{name: "RestorePoint: backup absent: create it", st: inFlight(restorePt), o: upgrading(), want: upgrade.Action{Kind: upgrade.CreateRestorePointBackup}},
		{name: "RestorePoint: backup running or waiting", st: inFlight(restorePt), o: upgrading(restorePointBackup(upgrade.JobRunning)), want: wait},
		{name: "RestorePoint: backup Completed: the upgrade Job next", st: inFlight(restorePt), o: upgrading(restorePointBackup(upgrade.JobSucceeded)), want: advanceTo(upgradeStep)},
		{name: "RestorePoint: backup Failed: fail, database untouched", st: inFlight(restorePt), o: upgrading(restorePointBackup(upgrade.JobFailed)), want: fail, msg: notTouched},
		{name: "RestorePoint: spec reverted, backup absent: cancel", st: inFlight(restorePt), o: obs(), want: cancel},
		{name: "RestorePoint: spec reverted, backup running: cancel", st: inFlight(restorePt), o: obs(restorePointBackup(upgrade.JobRunning)), want: cancel},
		{name: "RestorePoint: spec reverted, backup Completed: cancel", st: inFlight(restorePt), o: obs(restorePointBackup(upgrade.JobSucceeded)), want: cancel},
		{name: "RestorePoint: third image: cancel", st: inFlight(restorePt), o: obs(specC, restorePointBackup(upgrade.JobSucceeded)), want: cancel},
		{name: "RestorePoint: failure", st: inFlight(restorePt), o: upgrading(failure("no space left on the claim")), want: fail, msg: "no space left"},

		// Upgrade.
		{name: "Upgrade: Job absent: create it", st: inFlight(upgradeStep), o: upgrading(), want: upgrade.Action{Kind: upgrade.CreateUpgradeJob}},
		{name: "Upgrade: Job running", st: inFlight(upgradeStep), o: upgrading(upgradeJob(upgrade.JobRunning)), want: wait},
		{name: "Upgrade: Job succeeded: verify", st: inFlight(upgradeStep), o: upgrading(upgradeJob(upgrade.JobSucceeded)), want: advanceTo(verify)},
		{name: "Upgrade: Job failed: verify reads its log", st: inFlight(upgradeStep), o: upgrading(upgradeJob(upgrade.JobFailed)), want: advanceTo(verify)},
		{name: "Upgrade: spec reverted, Job succeeded: fail", st: inFlight(upgradeStep), o: obs(upgradeJob(upgrade.JobSucceeded)), want: fail, msg: mayHoldMods},
		{name: "Upgrade: spec reverted, Job failed: fail", st: inFlight(upgradeStep), o: obs(upgradeJob(upgrade.JobFailed)), want: fail},
		{name: "Upgrade: third image, Job succeeded: fail", st: inFlight(upgradeStep), o: obs(specC, upgradeJob(upgrade.JobSucceeded)), want: fail},
		// The Job is read from the API server (not a cache): absent means it
		// was never created, so the database was not touched.
		{name: "Upgrade: spec reverted before the Job was created: cancel", st: inFlight(upgradeStep), o: obs(upgradeJob(upgrade.JobAbsent)), want: cancel, msg: notTouched},
		{name: "Upgrade: maintenance mode off changes nothing", st: inFlight(upgradeStep), o: upgrading(maintenanceOff), want: upgrade.Action{Kind: upgrade.CreateUpgradeJob}},

		// Verify.
		{name: "Verify: no verdict yet", st: inFlight(verify), o: upgrading(upgradeJob(upgrade.JobSucceeded)), want: wait},
		{name: "Verify: OK: roll out", st: inFlight(verify), o: upgrading(verdict(true, "42 modules upgraded")), want: advanceTo(rollout), msg: "42 modules upgraded"},
		{name: "Verify: failed: fail with the verdict", st: inFlight(verify), o: upgrading(verdict(false, restoreFails)), want: fail, msg: restoreFails},
		{name: "Verify: failed with onFailure Restore: the same Fail, Apply picks the step", st: inFlight(verify), o: upgrading(verdict(false, restoreFails), onFailureRestore), want: fail},
		{name: "Verify: spec reverted: fail", st: inFlight(verify), o: obs(verdict(true, "ok")), want: fail, msg: mayHoldMods},
		{name: "Verify: third image: fail", st: inFlight(verify), o: obs(specC), want: fail},
		{name: "Verify: failure string", st: inFlight(verify), o: upgrading(failure("post-check unreadable")), want: fail},

		// Rollout.
		{name: "Rollout: web not rolled out yet", st: inFlight(rollout), o: upgrading(), want: wait},
		{name: "Rollout: rolled out: success", st: inFlight(rollout), o: upgrading(rolledOut), want: upgrade.Action{Kind: upgrade.Succeed}},
		{name: "Rollout: Deployments already carry B, not all available", st: inFlight(rollout), o: upgrading(runningB), want: wait},
		{name: "Rollout: spec reverted: fail", st: inFlight(rollout), o: obs(runningB), want: fail},
		{name: "Rollout: third image: fail", st: inFlight(rollout), o: obs(specC, runningB), want: fail},
		{name: "Rollout: failure string", st: inFlight(rollout), o: upgrading(failure("boom")), want: fail},
		{name: "Rollout: autoUpgrade disabled mid-upgrade: goes on", st: inFlight(rollout), o: upgrading(autoUpgradeOff, rolledOut), want: upgrade.Action{Kind: upgrade.Succeed}},

		// Restore (failed upgrade, onFailure Restore).
		{name: "Restore: web or cron still has pods", st: restoring(), o: upgrading(onFailureRestore), want: wait},
		{name: "Restore: stopped, Job absent: create it", st: restoring(), o: upgrading(onFailureRestore, webStopped), want: upgrade.Action{Kind: upgrade.CreateRestoreJob}},
		{name: "Restore: Job running", st: restoring(), o: upgrading(onFailureRestore, webStopped, restoreJob(upgrade.JobRunning)), want: wait},
		{name: "Restore: Job succeeded: swap", st: restoring(), o: upgrading(onFailureRestore, webStopped, restoreJob(upgrade.JobSucceeded)), want: upgrade.Action{Kind: upgrade.Swap}},
		{name: "Restore: Job failed: finish failed, live database as the upgrade left it", st: restoring(),
			o: upgrading(onFailureRestore, webStopped, restoreJob(upgrade.JobFailed)), want: upgrade.Action{Kind: upgrade.FinishFailed}, msg: "left as the upgrade left it"},
		{name: "Restore: swapped: finish failed", st: restoring(), o: upgrading(onFailureRestore, webStopped, restoreJob(upgrade.JobSucceeded), swapped),
			want: upgrade.Action{Kind: upgrade.FinishFailed}, msg: "writes made during the upgrade window are lost"},
		{name: "Restore: swapped and web already starting again: finish failed", st: restoring(), o: upgrading(onFailureRestore, swapped), want: upgrade.Action{Kind: upgrade.FinishFailed}},
		{name: "Restore: spec reverted during the restore: the restore goes on", st: restoring(), o: obs(onFailureRestore, webStopped), want: upgrade.Action{Kind: upgrade.CreateRestoreJob}},
		{name: "Restore: third image during the restore: the restore goes on", st: restoring(), o: obs(specC, onFailureRestore, webStopped, restoreJob(upgrade.JobSucceeded)), want: upgrade.Action{Kind: upgrade.Swap}},
		{name: "Restore: annotation bumped during the restore: the restore goes on", st: restoring(), o: upgrading(onFailureRestore, webStopped, upgradeNow("r9")), want: upgrade.Action{Kind: upgrade.CreateRestoreJob}},
		{name: "Restore: failure string during the restore: the restore goes on", st: restoring(), o: upgrading(onFailureRestore, webStopped, failure("boom")), want: upgrade.Action{Kind: upgrade.CreateRestoreJob}},
		{name: "failed flag at another step: finish failed", st: inFlight(verify, func(st *odoov1alpha2.UpgradeStatus) { st.Failed = true }), o: upgrading(), want: upgrade.Action{Kind: upgrade.FinishFailed}},

		// Upgrades that keep the images (annotation, legacy request): a spec
		// change is a new image upgrade after this run, not a cancel.
		{name: "annotation run, images kept: spec changed mid-run goes on", st: inFlight(stopCron, annotationTrigger, sameImageRun), o: obs(specC, cronStopped), want: advanceTo(restorePt)},
		{name: "annotation run, images kept: spec changed during Rollout goes on", st: inFlight(rollout, annotationTrigger, sameImageRun), o: obs(specC, rolledOut), want: upgrade.Action{Kind: upgrade.Succeed}},
		{name: "legacy request run, images kept: spec changed mid-run goes on",
			st: inFlight(upgradeStep, sameImageRun, func(st *odoov1alpha2.UpgradeStatus) { st.Trigger = "OdooUpgradeJob/uj" }),
			o:  obs(specC, upgradeJob(upgrade.JobSucceeded)), want: advanceTo(verify)},

		// An annotation retry of a failed image change (attempted B, A
		// serving): reverting spec.image to A must cancel it like an
		// image-triggered upgrade, or the machine rolls out B against the spec.
		{name: "annotation retry of B: spec reverted to A before the Job: cancel", st: inFlight(stopCron, annotationTrigger), o: obs(cronStopped), want: cancel},
		{name: "annotation retry of B: spec reverted to A after the Job: fail", st: inFlight(verify, annotationTrigger), o: obs(verdict(true, "ok")), want: fail},
	})
}

// A superseded upgrade whose Job still runs must not end while the Job runs:
// cron would come back and another upgrade could start on a database that
// `odoo -u` still writes to (at most one mutating Job per database).
func TestDecideRevertWhileTheUpgradeJobRuns(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    upgrade.Observed
	}{
		{"spec reverted to the old image", obs(upgradeJob(upgrade.JobRunning))},
		{"spec changed to a third image", obs(specC, upgradeJob(upgrade.JobRunning))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			st := inFlight(odoov1alpha2.UpgradeStepUpgrade)
			a := upgrade.Decide(st, tc.o)
			next := upgrade.Apply(st, a, tc.o, t0)
			g.Expect(upgrade.InFlight(next)).To(BeTrue(), "action %+v ended the upgrade while its Job runs: %+v", a, next)
			g.Expect(upgrade.Serve(next, tc.o).StopCron).To(BeTrue(), "cron must stay stopped while the upgrade Job runs")
			g.Expect(upgrade.Decide(next, tc.o).Kind).NotTo(Equal(upgrade.Start))
		})
	}
}

// The step order follows what Start recorded: a restore point named in the
// status is taken before the upgrade Job, or onFailure Restore later loads a
// dump that was never written. Switching spec.backup.beforeUpgrade off
// mid-upgrade must not produce that.
func TestDecideRestorePointPromisedAtStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   *odoov1alpha2.UpgradeStatus
		o    upgrade.Observed
	}{
		{"after Snapshot, no maintenance mode", inFlight(odoov1alpha2.UpgradeStepSnapshot),
			upgrading(snapshotTaken, maintenanceOff, beforeUpgradeOff)},
		{"after StopCron", inFlight(odoov1alpha2.UpgradeStepStopCron), upgrading(cronStopped, beforeUpgradeOff)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(tc.st.RestorePointBackup).NotTo(BeEmpty())
			next := upgrade.Apply(tc.st, upgrade.Decide(tc.st, tc.o), tc.o, t0)
			if next.Step == odoov1alpha2.UpgradeStepUpgrade {
				g.Expect(next.RestorePointBackup).To(BeEmpty(),
					"the restore point step was skipped but the status still names restore point %q", next.RestorePointBackup)
				return
			}
			g.Expect(next.Step).To(Equal(odoov1alpha2.UpgradeStepRestorePoint))
		})
	}
}

// A legacy OdooUpgradeJob runs once. The status records that it ran
// (trigger OdooUpgradeJob/<name>); when the operator stops between that
// write and marking the OdooUpgradeJob done, the request is still observed
// as due on restart and must not run a second `odoo -u`.
func TestDecideLegacyRequestRunsOnce(t *testing.T) {
	for _, phase := range []odoov1alpha2.UpgradePhase{odoov1alpha2.UpgradeSuccess, odoov1alpha2.UpgradeFailed} {
		t.Run(string(phase), func(t *testing.T) {
			g := NewWithT(t)
			st := succeededA(func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase, st.Failed = phase, phase == odoov1alpha2.UpgradeFailed
				st.Trigger = upgrade.TriggerRequestPrefix + "uj"
				st.FromImage, st.FromCronImage = imgA, cronA
				st.Modules = []string{"sale"}
			})
			g.Expect(upgrade.Decide(st, obs(request("uj", "sale"))).Kind).To(Equal(upgrade.None))
			// Another request is a new run.
			g.Expect(upgrade.Decide(st, obs(request("uj2", "sale"))).Kind).To(Equal(upgrade.Start))
		})
	}
}

// states and events: every state is decided against every event, checking
// the properties that hold everywhere.
func allStates() []struct {
	name string
	st   *odoov1alpha2.UpgradeStatus
	base upgrade.Observed
} {
	type state = struct {
		name string
		st   *odoov1alpha2.UpgradeStatus
		base upgrade.Observed
	}
	states := []state{
		{"none", nil, obs()},
		{"success", succeededA(), obs()},
		{"failed", failedB(), upgrading()},
		{"cancelled", cancelledB(), obs()},
		{"restore", restoring(), upgrading(onFailureRestore)},
	}
	for _, s := range []odoov1alpha2.UpgradeStep{
		odoov1alpha2.UpgradeStepSnapshot, odoov1alpha2.UpgradeStepStopCron, odoov1alpha2.UpgradeStepRestorePoint,
		odoov1alpha2.UpgradeStepUpgrade, odoov1alpha2.UpgradeStepVerify, odoov1alpha2.UpgradeStepRollout,
	} {
		states = append(states, state{string(s), inFlight(s), upgrading()},
			state{string(s) + " (annotation)", inFlight(s, annotationTrigger), upgrading()})
	}
	return states
}

func allEvents() []struct {
	name string
	mod  func(*upgrade.Observed)
} {
	type event = struct {
		name string
		mod  func(*upgrade.Observed)
	}
	return []event{
		{"nothing", func(*upgrade.Observed) {}},
		{"image A", specA},
		{"image B", specB},
		{"image C", specC},
		{"web image B only", specWebB},
		{"cron image B only", specCronB},
		{"running B", runningB},
		{"running C", runningC},
		{"annotation r1", upgradeNow("r1")},
		{"annotation r2", upgradeNow("r2")},
		{"legacy request", request("uj", "sale")},
		{"autoUpgrade off", autoUpgradeOff},
		{"not initialised", notInitialised},
		{"busy", busy},
		{"maintenance off", maintenanceOff},
		{"restore point off", beforeUpgradeOff},
		{"onFailure Restore", onFailureRestore},
		{"snapshot taken", snapshotTaken},
		{"cron stopped", cronStopped},
		{"restore point Job running", restorePointBackup(upgrade.JobRunning)},
		{"restore point Job succeeded", restorePointBackup(upgrade.JobSucceeded)},
		{"restore point Job failed", restorePointBackup(upgrade.JobFailed)},
		{"upgrade Job running", upgradeJob(upgrade.JobRunning)},
		{"upgrade Job succeeded", upgradeJob(upgrade.JobSucceeded)},
		{"upgrade Job failed", upgradeJob(upgrade.JobFailed)},
		{"verdict OK", verdict(true, "ok")},
		{"verdict failed", verdict(false, "module x failed")},
		{"rolled out", rolledOut},
		{"web stopped", webStopped},
		{"restore Job running", restoreJob(upgrade.JobRunning)},
		{"restore Job succeeded", restoreJob(upgrade.JobSucceeded)},
		{"restore Job failed", restoreJob(upgrade.JobFailed)},
		{"swapped", swapped},
		{"failure", failure("boom")},
	}
}

func statusChanging(k upgrade.Kind) bool {
	switch k {
	case upgrade.Start, upgrade.Advance, upgrade.Succeed, upgrade.Fail, upgrade.Cancel, upgrade.FinishFailed:
		return true
	}
	return false
}

func TestDecideEveryStateAndEvent(t *testing.T) {
	known := map[upgrade.Kind]bool{upgrade.None: true, upgrade.Wait: true, upgrade.Start: true, upgrade.TakeSnapshot: true, upgrade.CreatePreflightJob: true, upgrade.Advance: true, upgrade.CreateRestorePointBackup: true,
		upgrade.CreateUpgradeJob: true, upgrade.Succeed: true, upgrade.Fail: true, upgrade.Cancel: true, upgrade.CreateRestoreJob: true, upgrade.Swap: true, upgrade.FinishFailed: true}
	for _, s := range allStates() {
		for _, e := range allEvents() {
			t.Run(s.name+"/"+e.name, func(t *testing.T) {
				g := NewWithT(t)
				o := s.base
				e.mod(&o)
				var before *odoov1alpha2.UpgradeStatus
				if s.st != nil {
					before = s.st.DeepCopy()
				}
				a := upgrade.Decide(s.st, o)
				g.Expect(known).To(HaveKey(a.Kind))
				g.Expect(upgrade.Decide(s.st, o)).To(Equal(a), "deciding twice must give the same action")
				g.Expect(s.st).To(Equal(before))

				if upgrade.InFlight(s.st) {
					g.Expect(a.Kind).NotTo(Equal(upgrade.Start), "an upgrade in flight is never started over")
					g.Expect(a.Kind).NotTo(Equal(upgrade.None), "an upgrade in flight always has a next action")
				} else {
					g.Expect(a.Kind).To(BeElementOf(upgrade.None, upgrade.Wait, upgrade.Start))
				}
				if a.Kind == upgrade.Advance {
					g.Expect(a.Step).NotTo(BeEmpty())
				}

				if !statusChanging(a.Kind) {
					return
				}
				// Restart after the status was stored: deciding again on the
				// same observations never repeats the same change.
				next := upgrade.Apply(s.st, a, o, metav1.NewTime(t0.Add(time.Minute)))
				again := upgrade.Decide(next, o)
				if statusChanging(again.Kind) {
					g.Expect(upgrade.Apply(next, again, o, metav1.NewTime(t0.Add(2*time.Minute)))).NotTo(Equal(next),
						"%+v then %+v loops", a, again)
				}
				g.Expect(again.Kind == upgrade.Start && a.Kind == upgrade.Start).To(BeFalse(), "started twice")
			})
		}
	}
}

// The step order for each combination of maintenanceMode and beforeUpgrade,
// walked with every observation the next step needs.
func TestDecideStepOrder(t *testing.T) {
	for _, tc := range []struct {
		maintenance, beforeUpgrade bool
		want                       []odoov1alpha2.UpgradeStep
	}{
		{true, true, []odoov1alpha2.UpgradeStep{"Snapshot", "StopCron", "RestorePoint", "Upgrade", "Verify", "Rollout", "Done"}},
		{true, false, []odoov1alpha2.UpgradeStep{"Snapshot", "StopCron", "Upgrade", "Verify", "Rollout", "Done"}},
		{false, true, []odoov1alpha2.UpgradeStep{"Snapshot", "RestorePoint", "Upgrade", "Verify", "Rollout", "Done"}},
		{false, false, []odoov1alpha2.UpgradeStep{"Snapshot", "Upgrade", "Verify", "Rollout", "Done"}},
	} {
		t.Run(fmt.Sprintf("maintenance=%v,beforeUpgrade=%v", tc.maintenance, tc.beforeUpgrade), func(t *testing.T) {
			g := NewWithT(t)
			o := upgrading(func(o *upgrade.Observed) {
				o.MaintenanceMode, o.BeforeUpgrade = tc.maintenance, tc.beforeUpgrade
				o.SnapshotTaken, o.CronStopped, o.WebRolledOut = true, true, true
				o.RestorePoint, o.UpgradeJob = upgrade.JobSucceeded, upgrade.JobSucceeded
				o.Verdict = &upgrade.Verdict{OK: true, Message: "ok"}
			})
			st := upgrade.Apply(nil, upgrade.Decide(nil, o), o, t0)
			if tc.beforeUpgrade {
				st.RestorePointBackup = restorePoint
			}
			steps := []odoov1alpha2.UpgradeStep{st.Step}
			for i := 0; upgrade.InFlight(st) && i < 20; i++ {
				a := upgrade.Decide(st, o)
				g.Expect(a.Kind).To(BeElementOf(upgrade.Advance, upgrade.Succeed), "at %s", st.Step)
				st = upgrade.Apply(st, a, o, t0)
				steps = append(steps, st.Step)
			}
			g.Expect(steps).To(Equal(tc.want))
			g.Expect(st.Phase).To(Equal(odoov1alpha2.UpgradeSuccess))
		})
	}
}

// FailedFor is what the controller reports as Degraded: the last upgrade
// failed for exactly the images the spec asks for.
func TestFailedFor(t *testing.T) {
	g := NewWithT(t)
	g.Expect(upgrade.FailedFor(failedB(), imgB, cronB)).To(BeTrue())
	g.Expect(upgrade.FailedFor(failedB(), imgC, cronC)).To(BeFalse(), "a new image is a new attempt")
	g.Expect(upgrade.FailedFor(failedB(), imgB, cronA)).To(BeFalse(), "the cron image changed")
	g.Expect(upgrade.FailedFor(failedB(), imgA, cronA)).To(BeFalse(), "reverted")
	g.Expect(upgrade.FailedFor(cancelledB(), imgB, cronB)).To(BeFalse(), "a cancel is not a failure")
	g.Expect(upgrade.FailedFor(restoring(), imgB, cronB)).To(BeFalse(), "still restoring")
	g.Expect(upgrade.FailedFor(succeededA(), imgA, cronA)).To(BeFalse())
	g.Expect(upgrade.FailedFor(nil, imgB, cronB)).To(BeFalse())
}

func TestRolledBackImageStartsNothing(t *testing.T) {
	o := upgrade.Observed{Initialized: true, AutoUpgrade: true, RolledBack: true, SpecImage: "b", SpecCronImage: "b",
		RunningImage: "a", RunningCronImage: "a", UpgradeNow: "again", Request: &upgrade.Request{Name: "uj"}}
	if a := upgrade.Decide(nil, o); a.Kind != upgrade.None {
		t.Errorf("Decide = %s, want None while spec.image is rolled back", a.Kind)
	}
}
