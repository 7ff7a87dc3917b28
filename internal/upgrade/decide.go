// Package upgrade is the state machine of a guarded module upgrade:
//
//	Snapshot (+ preflight) → StopCron → RestorePoint → Upgrade → Verify → Rollout → Done (Success)
//	                                        ↘ failure ↘ Restore ↘ Done (Failed)
//
// An Odoo upgrade is not one transaction: Odoo commits after every module, so
// a failed `-u all` leaves a half-upgraded database. The machine therefore
// records module versions, takes a restore point (an OdooBackupJob), judges the Job by exit code,
// log and a post-check of ir_module_module, and keeps the old image serving
// until the upgrade is proven good.
//
// Decide is pure: it maps the persisted status and what the controller
// observed to one next Action. Apply turns that action into the status to
// persist before the controller carries it out, so an operator restart at any
// point resumes at the recorded step, and Job names are deterministic, so a
// resumed step never runs a second Job.
package upgrade

import (
	"slices"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/restore"
)

// JobState is where a Job of the upgrade stands: the data Jobs' one
// outcome.
type JobState = datajob.Outcome

// Job states.
const (
	JobAbsent    = datajob.Absent
	JobRunning   = datajob.Running
	JobSucceeded = datajob.Succeeded
	JobFailed    = datajob.Failed
)

// Trigger kinds recorded in status.upgrade.trigger.
const (
	TriggerImage      = "Image"
	TriggerAnnotation = "Annotation"
	// TriggerRequestPrefix precedes the name of a legacy OdooUpgradeJob.
	TriggerRequestPrefix = "OdooUpgradeJob/"
)

// Request is a legacy OdooUpgradeJob whose scheduled time has come.
type Request struct {
	Name           string
	Modules        []string
	ModulesInstall []string
}

// Verdict is the judgement of a finished upgrade Job: its exit, its log and
// the post-check of ir_module_module.
type Verdict struct {
	OK      bool
	Message string
}

// Observed is what the controller read for this reconcile.
type Observed struct {
	// Initialized is true once the database holds Odoo's base modules.
	Initialized bool
	// Busy is true while another operation owns the database (a filestore
	// migration): at most one mutating Job per database.
	Busy bool

	SpecImage, SpecCronImage       string
	RunningImage, RunningCronImage string

	AutoUpgrade     bool
	MaintenanceMode bool
	BeforeUpgrade   bool
	OnFailure       odoov1alpha2.UpgradeFailurePolicy

	// UpgradeNow is the bemade.org/upgrade-now annotation's value.
	UpgradeNow string
	// Request is a due legacy OdooUpgradeJob, nil when none.
	Request *Request
	// InstallMissing are the modules spec.modules.install declares and the
	// database lacks, from the last read of status.modules.
	InstallMissing []string
	// ModulesFresh is true when that read is newer than the last upgrade's
	// end: a stale read must not start the same install again.
	ModulesFresh bool
	// RolledBack is true while an automatic rollback holds spec.image away:
	// no upgrade starts for it until spec.image changes.
	RolledBack bool

	// SnapshotTaken is true once the module versions before the upgrade are recorded.
	SnapshotTaken bool
	// PreflightNeeded is true when the new image is to be compared with the
	// database before anything is touched (the upgrade changes the image
	// and the operator runs preflights).
	PreflightNeeded bool
	// Preflight is where the preflight Job stands. A refusal, a Job that
	// failed or an image that cannot be pulled comes as Failure, while the
	// step is still Snapshot: nothing was touched.
	Preflight JobState
	// CronStopped is true when the cron Deployment has no pod left.
	CronStopped bool
	// WebStopped is true when neither web nor cron has a pod left.
	WebStopped bool
	// RestorePoint is where the restore point OdooBackupJob stands: absent,
	// running (also while it waits), succeeded (Completed) or failed.
	RestorePoint JobState
	UpgradeJob   JobState
	// Verdict is set while the step is Verify.
	Verdict *Verdict
	// WebRolledOut is true when the web Deployment runs the attempted image
	// with all replicas available.
	WebRolledOut bool
	RestoreJob   JobState
	// Swapped is true once the restored database carries the live name.
	Swapped bool
	// Failure explains a step that cannot go on (a restore point or module
	// snapshot that failed); empty otherwise.
	Failure string
}

// Kind is the kind of the next action.
type Kind string

// Actions, each carried out by the controller after Apply's status is stored.
const (
	// None: nothing to do.
	None Kind = "None"
	// Wait: a step is in progress (a Job runs, pods terminate, the database
	// is busy); the controller requeues or waits for a watch event.
	Wait Kind = "Wait"
	// Start records a new upgrade at step Snapshot.
	Start Kind = "Start"
	// TakeSnapshot records the module versions.
	TakeSnapshot Kind = "TakeSnapshot"
	// CreatePreflightJob creates the Job listing what the new image ships.
	CreatePreflightJob Kind = "CreatePreflightJob"
	// Advance moves to Action.Step; the step's work happens next reconcile.
	Advance Kind = "Advance"
	// CreateRestorePointBackup creates the restore point OdooBackupJob.
	CreateRestorePointBackup Kind = "CreateRestorePointBackup"
	// CreateUpgradeJob creates the `odoo -u` Job.
	CreateUpgradeJob Kind = "CreateUpgradeJob"
	// Succeed ends the upgrade with phase Success.
	Succeed Kind = "Succeed"
	// Fail judges the upgrade failed and applies the failure policy.
	Fail Kind = "Fail"
	// Cancel ends an upgrade whose image was changed before its Job ran.
	Cancel Kind = "Cancel"
	// CreateRestoreJob creates the target database and the Job loading the
	// restore point backup into it.
	CreateRestoreJob Kind = "CreateRestoreJob"
	// Swap renames the restored database into the live name.
	Swap Kind = "Swap"
	// FinishFailed ends a failed upgrade (after its restore, if any).
	FinishFailed Kind = "FinishFailed"
)

// Action is the next step the controller takes.
type Action struct {
	Kind Kind
	// Step is the step Advance moves to.
	Step odoov1alpha2.UpgradeStep
	// Trigger is what Start starts.
	Trigger string
	// Request is the legacy OdooUpgradeJob Start answers, nil otherwise.
	Request *Request
	// Message explains Fail, Cancel, FinishFailed and Succeed.
	Message string
}

// InFlight is true while an upgrade runs (any step but Done).
func InFlight(st *odoov1alpha2.UpgradeStatus) bool {
	return st.InFlight()
}

// Decide returns the one next action. It is pure: table-tested without an
// API server or a database.
func Decide(st *odoov1alpha2.UpgradeStatus, o Observed) Action {
	o = withRunning(st, o)
	if InFlight(st) {
		return decideInFlight(st, o)
	}
	trigger, req := wanted(st, o)
	switch {
	case trigger == "":
		return Action{Kind: None}
	case o.Busy:
		return Action{Kind: Wait, Message: "waiting for the filestore migration to finish"}
	}
	return Action{Kind: Start, Trigger: trigger, Request: req}
}

// wanted returns the trigger of an upgrade that should start now, "" for none.
func wanted(st *odoov1alpha2.UpgradeStatus, o Observed) (string, *Request) {
	if !o.Initialized || o.RolledBack {
		// The init Job installs with spec.image; nothing to upgrade yet. A
		// rolled-back spec.image runs nothing, not even on request, until
		// spec.image changes: a request would upgrade the database for an
		// image that is held away.
		return "", nil
	}
	if o.UpgradeNow != "" && (st == nil || st.Request != o.UpgradeNow) {
		return TriggerAnnotation, nil
	}
	if o.Request != nil && (st == nil || st.Trigger != TriggerRequestPrefix+o.Request.Name) {
		// A finished upgrade with the request's trigger answered it already,
		// even if the OdooUpgradeJob's status was not written yet.
		return TriggerRequestPrefix + o.Request.Name, o.Request
	}
	if o.AutoUpgrade && !o.RolledBack && imageChanged(o) && !failedFor(st, o) && !succeededFor(st, o) {
		return TriggerImage, nil
	}
	if len(o.InstallMissing) > 0 && o.ModulesFresh && !imageChanged(o) && !installFailedFor(st, o) {
		// After any image change: an install runs with the image that
		// serves.
		return odoov1alpha2.UpgradeTriggerModules, nil
	}
	return "", nil
}

// installFailedFor is true when the last install run failed for exactly
// these modules: not retried until the declared list changes (or the
// annotation is bumped, which runs an upgrade, not an install).
func installFailedFor(st *odoov1alpha2.UpgradeStatus, o Observed) bool {
	return st != nil && st.Trigger == odoov1alpha2.UpgradeTriggerModules && st.Phase == odoov1alpha2.UpgradeFailed &&
		slices.Equal(st.ModulesInstall, o.InstallMissing)
}

// withRunning corrects the running images for an upgrade that failed while
// its new image was being rolled out: the Deployments still carry the failed
// image until the old one is applied again, but the old one is what runs.
func withRunning(st *odoov1alpha2.UpgradeStatus, o Observed) Observed {
	if st == nil || st.Step != odoov1alpha2.UpgradeStepDone || st.Phase != odoov1alpha2.UpgradeFailed {
		return o
	}
	if o.RunningImage == st.ImageAttempted {
		o.RunningImage = st.FromImage
	}
	if o.RunningCronImage == st.CronImageAttempted {
		o.RunningCronImage = st.FromCronImage
	}
	return o
}

func imageChanged(o Observed) bool {
	return o.SpecImage != o.RunningImage || o.SpecCronImage != o.RunningCronImage
}

// failedFor is true when the last upgrade failed for exactly the images the
// spec asks for: they are not retried until the spec changes again or the
// annotation is bumped.
func failedFor(st *odoov1alpha2.UpgradeStatus, o Observed) bool {
	return st != nil && st.Phase == odoov1alpha2.UpgradeFailed && st.Failed &&
		st.ImageAttempted == o.SpecImage && st.CronImageAttempted == o.SpecCronImage
}

// succeededFor is true when the last upgrade succeeded for exactly the images
// the spec asks for: the database is upgraded for them, so they are rolled out
// as they are. The running images are read from the Deployment cache, which
// can lag behind the rollout that followed the success (an operator restarted
// during Rollout applies cron's new image in the very reconcile that records
// the success); without this, a stale read would start the same upgrade again.
func succeededFor(st *odoov1alpha2.UpgradeStatus, o Observed) bool {
	return st != nil && st.Step == odoov1alpha2.UpgradeStepDone && st.Phase == odoov1alpha2.UpgradeSuccess &&
		st.ImageAttempted == o.SpecImage && st.CronImageAttempted == o.SpecCronImage
}

// FailedFor is true when the last upgrade failed for the images the spec asks
// for, which therefore do not run.
func FailedFor(st *odoov1alpha2.UpgradeStatus, specImage, specCronImage string) bool {
	return failedFor(st, Observed{SpecImage: specImage, SpecCronImage: specCronImage})
}

// superseded is true when the spec no longer asks for the images an upgrade
// that changes images is attempting (reverted, or changed again), whatever
// started it. A run that keeps the images (annotation, OdooUpgradeJob) is
// never superseded by the spec.
func superseded(st *odoov1alpha2.UpgradeStatus, o Observed) bool {
	changesImages := st.ImageAttempted != st.FromImage || st.CronImageAttempted != st.FromCronImage
	return changesImages && (o.SpecImage != st.ImageAttempted || o.SpecCronImage != st.CronImageAttempted)
}

func decideInFlight(st *odoov1alpha2.UpgradeStatus, o Observed) Action {
	if st.Failed {
		return decideRestore(st, o)
	}
	if superseded(st, o) {
		return decideSuperseded(st, o)
	}
	if o.Failure != "" {
		return Action{Kind: Fail, Message: o.Failure}
	}
	switch st.Step {
	case odoov1alpha2.UpgradeStepSnapshot:
		if !o.SnapshotTaken {
			return Action{Kind: TakeSnapshot}
		}
		if o.PreflightNeeded {
			switch o.Preflight {
			case JobAbsent:
				return Action{Kind: CreatePreflightJob}
			case JobRunning:
				return Action{Kind: Wait, Message: "checking the modules " + st.ImageAttempted + " ships against the database"}
			case JobFailed:
				// The controller explains a failed preflight as Failure;
				// without one, the step does not go on.
				return Action{Kind: Fail, Message: "the preflight Job of " + st.ImageAttempted + " failed; nothing was touched"}
			}
		}
		return advance(nextAfterSnapshot(st, o))
	case odoov1alpha2.UpgradeStepStopCron:
		if !o.CronStopped {
			return Action{Kind: Wait, Message: "waiting for the cron pods to stop"}
		}
		return advance(nextAfterStopCron(st))
	case odoov1alpha2.UpgradeStepRestorePoint:
		switch o.RestorePoint {
		case JobAbsent:
			return Action{Kind: CreateRestorePointBackup}
		case JobRunning:
			return Action{Kind: Wait, Message: "taking the restore point backup " + st.RestorePointBackup}
		case JobFailed:
			return Action{Kind: Fail, Message: "the restore point backup " + st.RestorePointBackup + " failed; the database was not touched"}
		}
		return advance(odoov1alpha2.UpgradeStepUpgrade)
	case odoov1alpha2.UpgradeStepUpgrade:
		switch o.UpgradeJob {
		case JobAbsent:
			return Action{Kind: CreateUpgradeJob}
		case JobRunning:
			return Action{Kind: Wait, Message: "the upgrade Job runs"}
		}
		return advance(odoov1alpha2.UpgradeStepVerify)
	case odoov1alpha2.UpgradeStepVerify:
		switch {
		case o.Verdict == nil:
			return Action{Kind: Wait, Message: "judging the upgrade"}
		case o.Verdict.OK:
			return Action{Kind: Advance, Step: odoov1alpha2.UpgradeStepRollout, Message: o.Verdict.Message}
		}
		return Action{Kind: Fail, Message: o.Verdict.Message}
	case odoov1alpha2.UpgradeStepRollout:
		if !o.WebRolledOut {
			return Action{Kind: Wait, Message: "rolling out the new image"}
		}
		return Action{Kind: Succeed}
	}
	return Action{Kind: Wait}
}

// decideSuperseded ends an upgrade whose images the spec no longer asks for.
// Before the upgrade Job exists nothing was touched: a clean cancel. A running
// Job is let finish (bounded by its activeDeadlineSeconds): killing Odoo in
// the middle of a module leaves the database no better, and nothing else may
// run on the database meanwhile.
func decideSuperseded(st *odoov1alpha2.UpgradeStatus, o Observed) Action {
	switch st.Step {
	case odoov1alpha2.UpgradeStepSnapshot, odoov1alpha2.UpgradeStepStopCron, odoov1alpha2.UpgradeStepRestorePoint:
		return Action{Kind: Cancel, Message: cancelledUntouched}
	case odoov1alpha2.UpgradeStepUpgrade:
		switch o.UpgradeJob {
		case JobAbsent:
			// Jobs are read from the API server: absent means never created.
			return Action{Kind: Cancel, Message: cancelledUntouched}
		case JobRunning:
			return Action{Kind: Wait, Message: "spec.image changed; waiting for the running upgrade Job to end before cancelling"}
		}
	}
	return Action{Kind: Fail, Message: "cancelled: spec.image changed while the upgrade ran; the database may hold modules the upgrade already committed"}
}

const cancelledUntouched = "cancelled: spec.image changed before the upgrade Job ran; the database was not touched"

// decideRestore carries out onFailure Restore; it runs only when Apply put a
// failed upgrade at step Restore.
func decideRestore(st *odoov1alpha2.UpgradeStatus, o Observed) Action {
	if st.Step != odoov1alpha2.UpgradeStepRestore {
		return Action{Kind: FinishFailed}
	}
	switch {
	case o.Swapped:
		return Action{Kind: FinishFailed, Message: "restored the restore point backup " + st.RestorePointBackup +
			"; writes made during the upgrade window are lost"}
	case !o.WebStopped:
		return Action{Kind: Wait, Message: "stopping web and cron before the restore"}
	}
	// The load is the restore's own step (package restore): the same
	// decision, the same target creation and swap.
	switch restore.DecideLoad(o.RestoreJob) {
	case restore.LoadCreate:
		return Action{Kind: CreateRestoreJob}
	case restore.LoadWait:
		return Action{Kind: Wait, Message: "loading the restore point backup into a new database"}
	case restore.LoadFailed:
		return Action{Kind: FinishFailed, Message: "the restore of the backup " + st.RestorePointBackup +
			" failed; the live database was left as the upgrade left it"}
	}
	return Action{Kind: Swap}
}

func advance(step odoov1alpha2.UpgradeStep) Action {
	return Action{Kind: Advance, Step: step}
}

func nextAfterSnapshot(st *odoov1alpha2.UpgradeStatus, o Observed) odoov1alpha2.UpgradeStep {
	if o.MaintenanceMode {
		return odoov1alpha2.UpgradeStepStopCron
	}
	return nextAfterStopCron(st)
}

// nextAfterStopCron follows the restore point decided at Start (recorded in
// status), not the live spec, so a restore never looks for a backup that was
// skipped.
func nextAfterStopCron(st *odoov1alpha2.UpgradeStatus) odoov1alpha2.UpgradeStep {
	if st.RestorePointBackup != "" {
		return odoov1alpha2.UpgradeStepRestorePoint
	}
	return odoov1alpha2.UpgradeStepUpgrade
}
