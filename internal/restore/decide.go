// Package restore is the state machine of a restore: a backup is loaded by
// one Job into a new database, checked (and neutralized), then swapped in for
// the live one while the instance's web and cron are held at 0, its
// filestore moved into place; the live database is kept aside under another
// name, dropped only when the restore asks for it:
//
//	"" → Load → (Neutralize) → Stop → Swap → Filestore → Start → (DropPrevious) → Done
//	       ↘ FailBeforeSwap: the target is dropped, the live database untouched
//
// Decide is pure: it maps status.step and what the controller observed for
// that step to one next Action. Apply turns the action into the status to
// store. The controller stores the next step before it acts on it, and every
// Job and database has a deterministic name recorded in status, so an
// operator restart at any point resumes at the recorded step and never runs
// a second Job for it.
//
// The load of a backup into a new database is shared with a failed upgrade's
// restore of its restore point (package upgrade): DecideLoad decides it for
// both, and CreateTarget and SwapIn carry it out for both.
package restore

import (
	"fmt"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
)

// Kind is the kind of the next action.
type Kind string

// Actions, each carried out by the controller (after Apply's status is
// stored when it changes the step).
const (
	// Wait: a Job runs, the tiers stop, or a passing problem (Facts.Problem)
	// is retried; Message, when set, is recorded.
	Wait Kind = "Wait"
	// Pending: the restore cannot start yet (Facts.Waiting).
	Pending Kind = "Pending"
	// Refuse fails a restore before anything exists.
	Refuse Kind = "Refuse"
	// Begin records the database names and the Load step.
	Begin Kind = "Begin"
	// CreateLoad creates the empty target database and the load Job.
	CreateLoad Kind = "CreateLoad"
	// CreateNeutralizeJob creates the `odoo neutralize` Job.
	CreateNeutralizeJob Kind = "CreateNeutralizeJob"
	// Hold holds web and cron at 0: the instance's lock at step Stop.
	Hold Kind = "Hold"
	// Advance records Action.Step; its work happens next reconcile.
	Advance Kind = "Advance"
	// Swap renames the live database aside and the target to the live
	// name in one transaction (safe to repeat), then records Filestore.
	Swap Kind = "Swap"
	// CreateFilestoreJob creates the Job moving the restored filestore in.
	CreateFilestoreJob Kind = "CreateFilestoreJob"
	// Release removes the hold, then records DropPrevious or completes.
	Release Kind = "Release"
	// DropPrevious drops the kept previous database, then completes.
	DropPrevious Kind = "DropPrevious"
	// Complete ends the restore as Completed.
	Complete Kind = "Complete"
	// RouteMail points the neutralized copy's active mail server (the
	// dummy `odoo neutralize` leaves on) at the administrator's mail
	// catcher, as the tenant, before the swap.
	RouteMail Kind = "RouteMail"
	// FailBeforeSwap drops the target database, then fails: the live
	// database is untouched.
	FailBeforeSwap Kind = "FailBeforeSwap"
	// Fail fails the restore as it stands (after the swap: the hold stays).
	Fail Kind = "Fail"
)

// Action is the next step the controller takes.
type Action struct {
	Kind Kind
	// Step is the step Advance (and Swap, Release) records.
	Step odoov1alpha2.RestoreStep
	// Message is the status message the action records.
	Message string
	// Neutralized and FilestoreMoved are recorded with Advance.
	Neutralized    bool
	FilestoreMoved *bool
	// TargetDropped is recorded with FailBeforeSwap once the controller
	// dropped the target database.
	TargetDropped bool
}

// Names are the deterministic names Begin records, derived from the live
// database and the restore by the controller.
type Names struct {
	Database, Target, Kept, Job string
}

// Facts are what the controller read for the recorded step.
type Facts struct {
	// Refusal is why the spec is refused (step ""), "" when acceptable.
	Refusal string
	// Waiting is why the restore cannot start yet (step ""): the instance
	// is missing, another operation holds it, a Secret is missing.
	Waiting string
	// Names are what Begin records.
	Names Names
	// Location is the backup's URL, Instance the OdooInstance's name,
	// NextJob the name of the Job the step's message announces: for the
	// messages.
	Location, Instance, NextJob string
	// Problem is a passing problem of this reconcile (the cluster cannot be
	// reached, the tenant login is not there yet): recorded and retried.
	Problem string
	// InstanceGone is true when the OdooInstance no longer exists.
	InstanceGone bool
	// Job is the state of the Job of the recorded step (load, neutralize,
	// filestore), JobFailure what a failed one says.
	Job        datajob.Outcome
	JobFailure string
	// SHA256 is the digest the load Job reported for the backup.
	SHA256 string
	// Checked is true once the loaded (or neutralized) database was read;
	// CheckFailure is why it is refused, "" when it passed.
	Checked      bool
	CheckFailure string
	// Neutralize is the restore's effective spec.neutralize.
	Neutralize bool
	// MailCatcher is the host staging's mail goes to ("" for none: the
	// target is not Staging, or the administrator set no catcher);
	// MailRouted is true once every active mail server of the neutralized
	// copy points at it.
	MailCatcher string
	MailRouted  bool
	// Stopped is true once web and cron are held and have no pod left.
	Stopped bool
	// FilestoreResult is what the filestore Job reported: "moved",
	// "absent", or "" when it said nothing.
	FilestoreResult string
	// KeepPrevious is the effective spec.keepPreviousDatabase.
	KeepPrevious bool
	// NotReady is why the instance does not serve the restored database
	// yet, "" once it does (step DropPrevious).
	NotReady string
	// KeptNameWrong is set when status.keptDatabase is not the name this
	// restore keeps the previous database under: nothing is dropped.
	KeptNameWrong string
}

// Results of the swap-filestore command.
const (
	FilestoreMoved  = "moved"
	FilestoreAbsent = "absent"
)

// LoadAction is the next move of a load: the step a restore and a failed
// upgrade's restore share.
type LoadAction int

// Load moves.
const (
	// LoadCreate creates the target database and the Job loading the backup.
	LoadCreate LoadAction = iota
	// LoadWait waits for the Job.
	LoadWait
	// LoadFailed: the Job failed; the target is dropped, nothing swapped.
	LoadFailed
	// Loaded: the backup is in the target; it is checked, then swapped in.
	Loaded
)

// DecideLoad is the load step from its Job's state: the Job is created only
// when absent (read from the API server), so a repeated step never runs a
// second one.
func DecideLoad(job datajob.Outcome) LoadAction {
	switch job {
	case datajob.Absent:
		return LoadCreate
	case datajob.Running:
		return LoadWait
	case datajob.Failed:
		return LoadFailed
	}
	return Loaded
}

// Decide returns the one next action for st's step. It is pure:
// table-tested without an API server or a database.
func Decide(st odoov1alpha2.OdooRestoreJobStatus, f Facts) Action {
	if st.Phase.Finished() {
		return Action{Kind: Wait}
	}
	switch st.Step {
	case "":
		return decideStart(f)
	case odoov1alpha2.RestoreStepLoad:
		return decideLoad(st, f)
	case odoov1alpha2.RestoreStepNeutralize:
		return decideNeutralize(st, f)
	case odoov1alpha2.RestoreStepStop:
		if !f.Stopped {
			return Action{Kind: Hold}
		}
		return Action{Kind: Advance, Step: odoov1alpha2.RestoreStepSwap, Message: "web and cron are stopped; swapping the databases"}
	case odoov1alpha2.RestoreStepSwap:
		return Action{Kind: Swap, Step: odoov1alpha2.RestoreStepFilestore, Message: fmt.Sprintf(
			"the restored database is now %q, the previous one is kept as %q; moving the restored filestore into place (Job %s)",
			st.Database, st.KeptDatabase, f.NextJob)}
	case odoov1alpha2.RestoreStepFilestore:
		return decideFilestore(st, f)
	case odoov1alpha2.RestoreStepStart:
		if !f.KeepPrevious {
			return Action{Kind: Release, Step: odoov1alpha2.RestoreStepDropPrevious, Message: fmt.Sprintf(
				"web and cron are released; the previous database %q is dropped once the instance is Ready on the restored one (keepPreviousDatabase false)",
				st.KeptDatabase)}
		}
		return Action{Kind: Release, Step: odoov1alpha2.RestoreStepDone}
	case odoov1alpha2.RestoreStepDropPrevious:
		return decideDropPrevious(st, f)
	}
	return Action{Kind: Wait}
}

func decideStart(f Facts) Action {
	switch {
	case f.Refusal != "":
		return Action{Kind: Refuse, Message: f.Refusal}
	case f.Waiting != "":
		return Action{Kind: Pending, Message: f.Waiting}
	}
	return Action{Kind: Begin, Step: odoov1alpha2.RestoreStepLoad,
		Message: fmt.Sprintf("loading %s into the new database %q", f.Location, f.Names.Target)}
}

func decideLoad(st odoov1alpha2.OdooRestoreJobStatus, f Facts) Action {
	switch DecideLoad(f.Job) {
	case LoadCreate:
		switch {
		case f.InstanceGone:
			return Action{Kind: FailBeforeSwap, Message: fmt.Sprintf("OdooInstance %q disappeared before the backup was loaded; nothing was restored", f.Instance)}
		case f.Problem != "":
			return Action{Kind: Wait, Message: f.Problem}
		}
		return Action{Kind: CreateLoad}
	case LoadWait:
		return Action{Kind: Wait}
	case LoadFailed:
		return Action{Kind: FailBeforeSwap, Message: f.JobFailure}
	}
	switch {
	case f.Problem != "":
		return Action{Kind: Wait, Message: f.Problem}
	case !f.Checked:
		return Action{Kind: Wait}
	case f.CheckFailure != "":
		return Action{Kind: FailBeforeSwap, Message: f.CheckFailure}
	case f.Neutralize:
		return Action{Kind: Advance, Step: odoov1alpha2.RestoreStepNeutralize, Message: fmt.Sprintf(
			"the backup is loaded and verified in %q; neutralizing it (Job %s)", st.TargetDatabase, f.NextJob)}
	}
	return Action{Kind: Advance, Step: odoov1alpha2.RestoreStepStop, Message: fmt.Sprintf(
		"the backup is loaded and verified in %q; stopping web and cron to swap it in", st.TargetDatabase)}
}

func decideNeutralize(st odoov1alpha2.OdooRestoreJobStatus, f Facts) Action {
	if f.InstanceGone {
		return Action{Kind: FailBeforeSwap, Message: fmt.Sprintf("OdooInstance %q disappeared before the restored database was neutralized", f.Instance)}
	}
	switch f.Job {
	case datajob.Absent:
		if f.Problem != "" {
			return Action{Kind: Wait, Message: f.Problem}
		}
		return Action{Kind: CreateNeutralizeJob}
	case datajob.Running:
		return Action{Kind: Wait}
	case datajob.Failed:
		return Action{Kind: FailBeforeSwap, Message: "`odoo neutralize` failed: " + f.JobFailure}
	}
	switch {
	case f.Problem != "":
		return Action{Kind: Wait, Message: f.Problem}
	case !f.Checked:
		return Action{Kind: Wait}
	case f.CheckFailure != "":
		return Action{Kind: FailBeforeSwap, Message: f.CheckFailure}
	case f.MailCatcher != "" && !f.MailRouted:
		return Action{Kind: RouteMail}
	}
	return Action{Kind: Advance, Step: odoov1alpha2.RestoreStepStop, Neutralized: true, Message: fmt.Sprintf(
		"the restored database %q is neutralized and checked; stopping web and cron to swap it in", st.TargetDatabase)}
}

func decideFilestore(st odoov1alpha2.OdooRestoreJobStatus, f Facts) Action {
	switch f.Job {
	case datajob.Absent:
		return Action{Kind: CreateFilestoreJob}
	case datajob.Running:
		return Action{Kind: Wait}
	case datajob.Failed:
		return Action{Kind: Fail, Message: f.JobFailure + fmt.Sprintf(
			"; the restored database is already live as %q (the previous one kept as %q) and web and cron stay stopped: "+
				"put filestore/%s in place of filestore/%s by hand (keep the old one as filestore/%s), then remove the annotation %s from OdooInstance %q",
			st.Database, st.KeptDatabase, st.TargetDatabase, st.Database, st.KeptDatabase, odoov1alpha2.AnnotationRestoreHold, f.Instance)}
	}
	a := Action{Kind: Advance, Step: odoov1alpha2.RestoreStepStart}
	switch f.FilestoreResult {
	case FilestoreMoved:
		a.FilestoreMoved = boolPtr(true)
		a.Message = fmt.Sprintf("the restored filestore is in filestore/%s, the previous one kept in filestore/%s; releasing web and cron", st.Database, st.KeptDatabase)
	case FilestoreAbsent:
		a.FilestoreMoved = boolPtr(false)
		a.Message = fmt.Sprintf("the backup held no filestore: the live filestore stays in filestore/%s; releasing web and cron", st.Database)
	default:
		a.Message = fmt.Sprintf("the filestore Job %s succeeded without a result; releasing web and cron", f.NextJob)
	}
	return a
}

func decideDropPrevious(st odoov1alpha2.OdooRestoreJobStatus, f Facts) Action {
	switch {
	case f.InstanceGone:
		return Action{Kind: Complete, Message: fmt.Sprintf("; OdooInstance %q was deleted before it was Ready on the restored database, so the previous database %q is kept",
			f.Instance, st.KeptDatabase)}
	case f.NotReady != "":
		return Action{Kind: Wait, Message: fmt.Sprintf("waiting for the instance to be Ready on the restored database before dropping the previous one %q: %s", st.KeptDatabase, f.NotReady)}
	case f.KeptNameWrong != "":
		return Action{Kind: Fail, Message: f.KeptNameWrong}
	case f.Problem != "":
		return Action{Kind: Wait, Message: f.Problem}
	}
	return Action{Kind: DropPrevious}
}

func boolPtr(b bool) *bool { return &b }
