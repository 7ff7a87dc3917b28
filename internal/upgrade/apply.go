package upgrade

import (
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Apply returns the status to store before the controller carries out a.
// It is pure; the input status is not modified. For Start the caller fills in
// JobName, and RestorePointBackup when spec.backup.beforeUpgrade asks for
// one: both depend on the instance's name.
func Apply(st *odoov1alpha2.UpgradeStatus, a Action, o Observed, now metav1.Time) *odoov1alpha2.UpgradeStatus {
	o = withRunning(st, o)
	next := &odoov1alpha2.UpgradeStatus{}
	if st != nil {
		next = st.DeepCopy()
	}
	switch a.Kind {
	case Start:
		request := next.Request
		next = &odoov1alpha2.UpgradeStatus{
			Phase:              odoov1alpha2.UpgradeRunning,
			Step:               odoov1alpha2.UpgradeStepSnapshot,
			Trigger:            a.Trigger,
			Request:            request,
			StartTime:          &now,
			ImageAttempted:     o.SpecImage,
			CronImageAttempted: o.SpecCronImage,
			ImageCurrent:       o.RunningImage,
			FromImage:          o.RunningImage,
			FromCronImage:      o.RunningCronImage,
			Message:            "upgrading modules with " + o.SpecImage + "; " + o.RunningImage + " keeps serving",
		}
		if a.Trigger == TriggerAnnotation {
			next.Request = o.UpgradeNow
		}
		if a.Request != nil {
			next.Modules = append([]string(nil), a.Request.Modules...)
			next.ModulesInstall = append([]string(nil), a.Request.ModulesInstall...)
		}
		if a.Trigger == odoov1alpha2.UpgradeTriggerModules {
			next.ModulesInstall = append([]string(nil), o.InstallMissing...)
			next.Message = "installing " + strings.Join(o.InstallMissing, ", ") + " with " + o.SpecImage + ", which keeps serving"
		}
	case Advance:
		next.Step = a.Step
		if a.Message != "" {
			next.Message = a.Message
		}
	case Succeed:
		next.Phase = odoov1alpha2.UpgradeSuccess
		next.Step = odoov1alpha2.UpgradeStepDone
		next.ImageCurrent = next.ImageAttempted
		finish(next, now)
	case Fail:
		next.Failed = true
		next.Message = a.Message
		next.ImageCurrent = next.FromImage
		if o.OnFailure == odoov1alpha2.UpgradeFailureRestore && restorable(st) {
			next.Step = odoov1alpha2.UpgradeStepRestore
			break
		}
		next.Phase = odoov1alpha2.UpgradeFailed
		next.Step = odoov1alpha2.UpgradeStepDone
		finish(next, now)
	case Cancel:
		next.Phase = odoov1alpha2.UpgradeFailed
		next.Step = odoov1alpha2.UpgradeStepDone
		next.Message = a.Message
		next.ImageCurrent = next.FromImage
		finish(next, now)
	case FinishFailed:
		if a.Message != "" {
			next.Message += "; " + a.Message
		}
		next.Phase = odoov1alpha2.UpgradeFailed
		next.Step = odoov1alpha2.UpgradeStepDone
		finish(next, now)
	}
	return next
}

// restorable is true when the database may have been changed by the upgrade
// Job and a restore point of the state before it exists.
func restorable(st *odoov1alpha2.UpgradeStatus) bool {
	if st == nil || st.RestorePointBackup == "" {
		return false
	}
	switch st.Step {
	case odoov1alpha2.UpgradeStepUpgrade, odoov1alpha2.UpgradeStepVerify, odoov1alpha2.UpgradeStepRollout:
		return true
	}
	return false
}

func finish(st *odoov1alpha2.UpgradeStatus, now metav1.Time) {
	st.CompletionTime = &now
	if st.StartTime != nil {
		st.Duration = now.Sub(st.StartTime.Time).Round(time.Second).String()
	}
}
