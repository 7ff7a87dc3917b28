package upgrade_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

var t25 = metav1.NewTime(t0.Add(25*time.Minute + 400*time.Millisecond))

// finished is the status fields Apply sets when an upgrade ends at t25.
func finished(st *odoov1alpha2.UpgradeStatus) {
	end := t25
	st.CompletionTime, st.Duration = &end, "25m0s"
}

func TestApply(t *testing.T) {
	now := metav1.NewTime(t0.Add(time.Hour))
	started := func(mods ...func(*odoov1alpha2.UpgradeStatus)) *odoov1alpha2.UpgradeStatus {
		st := &odoov1alpha2.UpgradeStatus{
			Phase: odoov1alpha2.UpgradeRunning, Step: odoov1alpha2.UpgradeStepSnapshot, Trigger: upgrade.TriggerImage,
			StartTime: &now, FromImage: imgA, FromCronImage: cronA, ImageAttempted: imgB, CronImageAttempted: cronB,
			ImageCurrent: imgA,
		}
		for _, m := range mods {
			m(st)
		}
		return st
	}
	tests := []struct {
		name string
		st   *odoov1alpha2.UpgradeStatus
		a    upgrade.Action
		o    upgrade.Observed
		now  metav1.Time
		// want is the expected status; its message is checked by msg.
		want *odoov1alpha2.UpgradeStatus
		msg  []string
	}{
		// Start.
		{name: "start from no status", a: upgrade.Action{Kind: upgrade.Start, Trigger: upgrade.TriggerImage}, o: upgrading(), now: now,
			want: started(), msg: []string{imgB, imgA + " keeps serving"}},
		{name: "start carries the acted-on annotation value over", st: succeededA(), a: upgrade.Action{Kind: upgrade.Start, Trigger: upgrade.TriggerImage}, o: upgrading(), now: now,
			want: started(func(st *odoov1alpha2.UpgradeStatus) { st.Request = "r1" })},
		{name: "start after a failure clears the failure, the times, the Job and the kept database",
			st: failedB(func(st *odoov1alpha2.UpgradeStatus) { st.KeptDatabase = "shop_kept"; st.Modules = []string{"sale"} }),
			a:  upgrade.Action{Kind: upgrade.Start, Trigger: upgrade.TriggerImage}, o: obs(specC), now: now,
			want: started(func(st *odoov1alpha2.UpgradeStatus) {
				st.Request, st.ImageAttempted, st.CronImageAttempted = "r1", imgC, cronC
			})},
		{name: "start by annotation records its value", st: succeededA(), a: upgrade.Action{Kind: upgrade.Start, Trigger: upgrade.TriggerAnnotation},
			o: obs(upgradeNow("r2")), now: now,
			want: started(func(st *odoov1alpha2.UpgradeStatus) {
				st.Trigger, st.Request, st.ImageAttempted, st.CronImageAttempted = upgrade.TriggerAnnotation, "r2", imgA, cronA
			})},
		{name: "start by annotation with autoUpgrade disabled and a new image attempts the spec", a: upgrade.Action{Kind: upgrade.Start, Trigger: upgrade.TriggerAnnotation},
			o: upgrading(autoUpgradeOff, upgradeNow("r2")), now: now,
			want: started(func(st *odoov1alpha2.UpgradeStatus) { st.Trigger, st.Request = upgrade.TriggerAnnotation, "r2" })},
		{name: "start by legacy request records its modules", st: succeededA(),
			a: upgrade.Action{Kind: upgrade.Start, Trigger: "OdooUpgradeJob/uj", Request: &upgrade.Request{Name: "uj", Modules: []string{"sale", "stock"}, ModulesInstall: []string{"l10n_ca"}}},
			o: obs(request("uj", "sale", "stock")), now: now,
			want: started(func(st *odoov1alpha2.UpgradeStatus) {
				st.Trigger, st.Request, st.ImageAttempted, st.CronImageAttempted = "OdooUpgradeJob/uj", "r1", imgA, cronA
				st.Modules, st.ModulesInstall = []string{"sale", "stock"}, []string{"l10n_ca"}
			})},
		{name: "start after a failure during Rollout: the old image is what runs", st: failedB(),
			a: upgrade.Action{Kind: upgrade.Start, Trigger: upgrade.TriggerImage}, o: obs(runningB, specC), now: now,
			want: started(func(st *odoov1alpha2.UpgradeStatus) {
				st.Request, st.ImageAttempted, st.CronImageAttempted = "r1", imgC, cronC
			})},

		// Advance.
		{name: "advance moves the step only", st: inFlight(odoov1alpha2.UpgradeStepSnapshot),
			a: upgrade.Action{Kind: upgrade.Advance, Step: odoov1alpha2.UpgradeStepStopCron}, o: upgrading(), now: now,
			want: inFlight(odoov1alpha2.UpgradeStepStopCron), msg: []string{"upgrading modules with " + imgB}},
		{name: "advance with a message records it", st: inFlight(odoov1alpha2.UpgradeStepVerify),
			a: upgrade.Action{Kind: upgrade.Advance, Step: odoov1alpha2.UpgradeStepRollout, Message: "42 modules upgraded"}, o: upgrading(), now: now,
			want: inFlight(odoov1alpha2.UpgradeStepRollout), msg: []string{"42 modules upgraded"}},

		// Succeed.
		{name: "succeed", st: inFlight(odoov1alpha2.UpgradeStepRollout), a: upgrade.Action{Kind: upgrade.Succeed}, o: upgrading(rolledOut), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepDone, finished, func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase, st.ImageCurrent = odoov1alpha2.UpgradeSuccess, imgB
			})},

		// Fail, KeepOldImage.
		{name: "fail at Verify keeps the old image", st: inFlight(odoov1alpha2.UpgradeStepVerify),
			a: upgrade.Action{Kind: upgrade.Fail, Message: "module sale_stock failed"}, o: upgrading(), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepDone, finished, func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase, st.Failed = odoov1alpha2.UpgradeFailed, true
			}), msg: []string{"module sale_stock failed"}},
		{name: "fail during Rollout: the old image is current again", st: inFlight(odoov1alpha2.UpgradeStepRollout),
			a: upgrade.Action{Kind: upgrade.Fail, Message: "cancelled"}, o: obs(runningB), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepDone, finished, func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase, st.Failed = odoov1alpha2.UpgradeFailed, true
			})},

		// Fail, Restore.
		{name: "fail at Upgrade with Restore and a restore point: restore", st: inFlight(odoov1alpha2.UpgradeStepUpgrade),
			a: upgrade.Action{Kind: upgrade.Fail, Message: "cancelled"}, o: obs(onFailureRestore, upgradeJob(upgrade.JobFailed)), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepRestore, func(st *odoov1alpha2.UpgradeStatus) { st.Failed = true })},
		{name: "fail at Verify with Restore and a restore point: restore", st: inFlight(odoov1alpha2.UpgradeStepVerify),
			a: upgrade.Action{Kind: upgrade.Fail, Message: "module sale_stock failed"}, o: upgrading(onFailureRestore), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepRestore, func(st *odoov1alpha2.UpgradeStatus) { st.Failed = true }),
			msg:  []string{"module sale_stock failed"}},
		{name: "fail during Rollout with Restore: restore", st: inFlight(odoov1alpha2.UpgradeStepRollout),
			a: upgrade.Action{Kind: upgrade.Fail, Message: "cancelled"}, o: obs(runningB, onFailureRestore), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepRestore, func(st *odoov1alpha2.UpgradeStatus) { st.Failed = true })},
		{name: "fail at Verify with Restore but no restore point: done",
			st: inFlight(odoov1alpha2.UpgradeStepVerify, func(st *odoov1alpha2.UpgradeStatus) { st.RestorePointBackup = "" }),
			a:  upgrade.Action{Kind: upgrade.Fail, Message: "module sale_stock failed"}, o: upgrading(onFailureRestore, beforeUpgradeOff), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepDone, finished, func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase, st.Failed, st.RestorePointBackup = odoov1alpha2.UpgradeFailed, true, ""
			})},
		{name: "fail at Snapshot with Restore: the database was not touched, done", st: inFlight(odoov1alpha2.UpgradeStepSnapshot),
			a: upgrade.Action{Kind: upgrade.Fail, Message: "no module table"}, o: upgrading(onFailureRestore), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepDone, finished, func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase, st.Failed = odoov1alpha2.UpgradeFailed, true
			})},
		{name: "fail at StopCron with Restore: done", st: inFlight(odoov1alpha2.UpgradeStepStopCron),
			a: upgrade.Action{Kind: upgrade.Fail, Message: "boom"}, o: upgrading(onFailureRestore), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepDone, finished, func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase, st.Failed = odoov1alpha2.UpgradeFailed, true
			})},
		{name: "fail at RestorePoint with Restore: the dump failed, done", st: inFlight(odoov1alpha2.UpgradeStepRestorePoint),
			a: upgrade.Action{Kind: upgrade.Fail, Message: "the restore point could not be taken"}, o: upgrading(onFailureRestore, restorePointBackup(upgrade.JobFailed)), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepDone, finished, func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase, st.Failed = odoov1alpha2.UpgradeFailed, true
			})},

		// Cancel.
		{name: "cancel before the Job", st: inFlight(odoov1alpha2.UpgradeStepRestorePoint),
			a: upgrade.Action{Kind: upgrade.Cancel, Message: "cancelled: spec.image changed"}, o: obs(), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepDone, finished, func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase = odoov1alpha2.UpgradeFailed
			}), msg: []string{"cancelled: spec.image changed"}},
		{name: "cancel with Restore policy does not restore", st: inFlight(odoov1alpha2.UpgradeStepStopCron),
			a: upgrade.Action{Kind: upgrade.Cancel, Message: "cancelled"}, o: obs(onFailureRestore), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepDone, finished, func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase = odoov1alpha2.UpgradeFailed
			})},

		// FinishFailed.
		{name: "finish failed after the restore appends its outcome", st: restoring(func(st *odoov1alpha2.UpgradeStatus) { st.KeptDatabase = "shop_kept" }),
			a: upgrade.Action{Kind: upgrade.FinishFailed, Message: "restored the restore point"}, o: upgrading(onFailureRestore, swapped), now: t25,
			want: restoring(finished, func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase, st.Step, st.KeptDatabase = odoov1alpha2.UpgradeFailed, odoov1alpha2.UpgradeStepDone, "shop_kept"
			}), msg: []string{"module sale_stock: KeyError; restored the restore point"}},
		{name: "finish failed without a message keeps the failure's", st: inFlight(odoov1alpha2.UpgradeStepVerify, func(st *odoov1alpha2.UpgradeStatus) { st.Failed = true }),
			a: upgrade.Action{Kind: upgrade.FinishFailed}, o: upgrading(), now: t25,
			want: inFlight(odoov1alpha2.UpgradeStepDone, finished, func(st *odoov1alpha2.UpgradeStatus) {
				st.Phase, st.Failed = odoov1alpha2.UpgradeFailed, true
			}), msg: []string{"upgrading modules with " + imgB}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var before *odoov1alpha2.UpgradeStatus
			if tc.st != nil {
				before = tc.st.DeepCopy()
			}
			got := upgrade.Apply(tc.st, tc.a, tc.o, tc.now)
			g.Expect(tc.st).To(Equal(before), "Apply must not modify its input")
			g.Expect(got).NotTo(BeNil())
			for _, m := range tc.msg {
				g.Expect(got.Message).To(ContainSubstring(m))
			}
			got.Message, tc.want.Message = "", ""
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

// Actions the controller carries out without a new status leave the status
// as it is, in a copy.
func TestApplyLeavesTheStatusForSideEffects(t *testing.T) {
	for _, k := range []upgrade.Kind{upgrade.None, upgrade.Wait, upgrade.TakeSnapshot, upgrade.CreateRestorePointBackup, upgrade.CreateUpgradeJob, upgrade.CreateRestoreJob, upgrade.Swap} {
		for _, st := range []*odoov1alpha2.UpgradeStatus{succeededA(), inFlight(odoov1alpha2.UpgradeStepUpgrade), restoring()} {
			t.Run(string(k)+"/"+string(st.Step), func(t *testing.T) {
				g := NewWithT(t)
				st.Modules = []string{"sale"}
				before := st.DeepCopy()
				got := upgrade.Apply(st, upgrade.Action{Kind: k}, upgrading(), t25)
				g.Expect(got).To(Equal(before))
				g.Expect(got).NotTo(BeIdenticalTo(st))
				got.Modules[0] = "changed"
				got.StartTime.Time = time.Time{}
				g.Expect(st).To(Equal(before), "the result shares memory with the input")
			})
		}
	}
}

// The Start status owns its module lists: the request the action came from
// may change afterwards.
func TestApplyStartCopiesTheRequest(t *testing.T) {
	g := NewWithT(t)
	req := &upgrade.Request{Name: "uj", Modules: []string{"sale"}, ModulesInstall: []string{"l10n_ca"}}
	got := upgrade.Apply(nil, upgrade.Action{Kind: upgrade.Start, Trigger: upgrade.TriggerRequestPrefix + "uj", Request: req}, obs(), t0)
	req.Modules[0], req.ModulesInstall[0] = "changed", "changed"
	g.Expect(got.Modules).To(Equal([]string{"sale"}))
	g.Expect(got.ModulesInstall).To(Equal([]string{"l10n_ca"}))
}

// Decide then Apply: onFailure Restore restores only when the upgrade Job
// may have touched the database and a restore point exists.
func TestApplyFailurePolicy(t *testing.T) {
	fail := func(g Gomega, st *odoov1alpha2.UpgradeStatus, o upgrade.Observed) *odoov1alpha2.UpgradeStatus {
		a := upgrade.Decide(st, o)
		g.Expect(a.Kind).To(Equal(upgrade.Fail), "at %s: %+v", st.Step, a)
		return upgrade.Apply(st, a, o, t25)
	}
	noPoint := func(st *odoov1alpha2.UpgradeStatus) { st.RestorePointBackup = "" }
	for _, tc := range []struct {
		name        string
		st          *odoov1alpha2.UpgradeStatus
		o           upgrade.Observed
		wantRestore bool
	}{
		{"verdict failed, KeepOldImage", inFlight(odoov1alpha2.UpgradeStepVerify), upgrading(verdict(false, "x")), false},
		{"verdict failed, Restore", inFlight(odoov1alpha2.UpgradeStepVerify), upgrading(verdict(false, "x"), onFailureRestore), true},
		{"verdict failed, Restore, no restore point", inFlight(odoov1alpha2.UpgradeStepVerify, noPoint), upgrading(verdict(false, "x"), onFailureRestore), false},
		{"reverted after the Job, Restore", inFlight(odoov1alpha2.UpgradeStepUpgrade), obs(upgradeJob(upgrade.JobSucceeded), onFailureRestore), true},
		{"reverted during Rollout, Restore", inFlight(odoov1alpha2.UpgradeStepRollout), obs(runningB, onFailureRestore), true},
		{"restore point failed, Restore", inFlight(odoov1alpha2.UpgradeStepRestorePoint), upgrading(restorePointBackup(upgrade.JobFailed), onFailureRestore), false},
		{"snapshot failed, Restore", inFlight(odoov1alpha2.UpgradeStepSnapshot), upgrading(failure("x"), onFailureRestore), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			next := fail(g, tc.st, tc.o)
			g.Expect(next.Failed).To(BeTrue())
			g.Expect(next.ImageCurrent).To(Equal(imgA))
			if tc.wantRestore {
				g.Expect(next.Step).To(Equal(odoov1alpha2.UpgradeStepRestore))
				g.Expect(next.Phase).To(Equal(odoov1alpha2.UpgradeRunning), "the phase is Failed once the restore is done")
				g.Expect(next.CompletionTime).To(BeNil())
				g.Expect(upgrade.InFlight(next)).To(BeTrue())
				return
			}
			g.Expect(next.Step).To(Equal(odoov1alpha2.UpgradeStepDone))
			g.Expect(next.Phase).To(Equal(odoov1alpha2.UpgradeFailed))
			g.Expect(next.CompletionTime).NotTo(BeNil())
		})
	}
}

// A revert before the upgrade Job was created, with onFailure Restore: the
// database was not touched, so nothing is restored (a restore would throw
// away every write made since the restore point).
func TestApplyNoRestoreWhenTheJobNeverRan(t *testing.T) {
	g := NewWithT(t)
	st := inFlight(odoov1alpha2.UpgradeStepUpgrade)
	o := obs(upgradeJob(upgrade.JobAbsent), onFailureRestore)
	next := upgrade.Apply(st, upgrade.Decide(st, o), o, t25)
	g.Expect(next.Step).To(Equal(odoov1alpha2.UpgradeStepDone), "status %+v", next)
	g.Expect(next.Failed).To(BeFalse(), "a cancel, not a failure: the Job never ran")
}
