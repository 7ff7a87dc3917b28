// Package dbmove is the state machine of a move of an instance's database to
// another PostgreSQL cluster (a change of spec.database.cluster):
//
//	Begin → Stop → Dump → CreateTarget → Load → Check → Swap
//	                 ↘ Fail (the instance stays on the source; a target
//	                   database the move created is dropped)
//
// Web and cron are held at 0 for the whole move: a dump taken while Odoo
// writes would lose what it wrote after the dump. The source database is
// never written, renamed or dropped: it stays on the source cluster after
// the move.
//
// Decide is pure: it maps status.database.move and what the controller
// observed for the recorded step to one next Action. Apply turns the action
// into the status to store. The controller stores the next step before it
// acts on it, and every Job has a deterministic name recorded at Begin, so an
// operator restart at any point resumes at the recorded step and never runs a
// second Job for it.
package dbmove

import (
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
)

// Kind is the kind of the next action.
type Kind string

// Actions.
const (
	// None: nothing to do.
	None Kind = "None"
	// Refuse reports Facts.Refusal; nothing changes.
	Refuse Kind = "Refuse"
	// Begin takes the lock and records the move at step Stop.
	Begin Kind = "Begin"
	// Wait: the tiers stop or a Job runs.
	Wait Kind = "Wait"
	// Advance records Action.Step.
	Advance Kind = "Advance"
	// RunDump creates the dump Job (create-only).
	RunDump Kind = "RunDump"
	// CreateTarget creates the role and the empty database on the target,
	// then advances to Load.
	CreateTarget Kind = "CreateTarget"
	// RunLoad creates the load Job (create-only).
	RunLoad Kind = "RunLoad"
	// Check compares the source and target databases: the controller reads
	// them and decides again with Facts.Checked set.
	Check Kind = "Check"
	// Swap records the target as the instance's cluster.
	Swap Kind = "Swap"
	// Fail drops the target database when the move created it, then records
	// the failure.
	Fail Kind = "Fail"
	// Forget clears a failed move once spec.database.cluster names the
	// cluster in use again.
	Forget Kind = "Forget"
)

// Action is the next step.
type Action struct {
	Kind Kind
	// Step is what Advance records.
	Step odoov1alpha2.DatabaseMoveStep
	// Why explains Refuse and Fail.
	Why string
}

// Facts are what the controller read for this reconcile.
type Facts struct {
	// Serving is the cluster that holds the database in use
	// (status.database.cluster).
	Serving string
	// Wanted is the cluster spec.database.cluster names, resolved; "" when
	// it names none (empty: the instance stays where it is).
	Wanted string
	// Refusal is why a move to Wanted cannot start ("" when it can): an
	// unknown cluster, the tenant policy, a database of that name already
	// on the target.
	Refusal string
	// Ready is true once the database is initialised and no upgrade owns
	// it: nothing moves a database Odoo's init or an upgrade writes to.
	Ready bool
	// TiersStopped is true when web and cron have no pod left.
	TiersStopped bool
	// Job is the state of the Job of the recorded step (dump, load),
	// JobFailure what a failed one says.
	Job        datajob.Outcome
	JobFailure string
	// Checked is true once the source and target were compared;
	// CheckFailure is why they differ ("" when equal).
	Checked      bool
	CheckFailure string
}

// Moving is true while a move is in progress: web and cron stay at 0.
func Moving(db *odoov1alpha2.DatabaseStatus) bool {
	return db != nil && db.Move != nil && db.Move.Phase == odoov1alpha2.DatabaseMoveMoving
}

// Decide returns the next step. It is pure: table-tested without an API
// server or a database.
func Decide(m *odoov1alpha2.DatabaseMove, f Facts) Action {
	if m != nil && m.Phase == odoov1alpha2.DatabaseMoveMoving {
		return decideStep(m, f)
	}
	failed := m != nil && m.Phase == odoov1alpha2.DatabaseMoveFailed
	switch {
	case f.Wanted == "" || f.Wanted == f.Serving:
		if failed {
			return Action{Kind: Forget}
		}
		return Action{Kind: None}
	case failed && m.TargetCluster == f.Wanted && m.SourceCluster == f.Serving:
		// Not retried until spec.database.cluster changes again.
		return Action{Kind: None}
	case f.Refusal != "":
		return Action{Kind: Refuse, Why: f.Refusal}
	case !f.Ready:
		return Action{Kind: None}
	}
	return Action{Kind: Begin}
}

func decideStep(m *odoov1alpha2.DatabaseMove, f Facts) Action {
	switch m.Step {
	case odoov1alpha2.DatabaseMoveStepStop:
		if !f.TiersStopped {
			return Action{Kind: Wait}
		}
		return Action{Kind: Advance, Step: odoov1alpha2.DatabaseMoveStepDump}
	case odoov1alpha2.DatabaseMoveStepDump:
		return jobStep(f, RunDump, odoov1alpha2.DatabaseMoveStepCreateTarget, "the dump of the source database failed")
	case odoov1alpha2.DatabaseMoveStepCreateTarget:
		return Action{Kind: CreateTarget}
	case odoov1alpha2.DatabaseMoveStepLoad:
		return jobStep(f, RunLoad, odoov1alpha2.DatabaseMoveStepCheck, "loading the dump into the target database failed")
	case odoov1alpha2.DatabaseMoveStepCheck:
		switch {
		case !f.Checked:
			return Action{Kind: Check}
		case f.CheckFailure != "":
			return Action{Kind: Fail, Why: f.CheckFailure}
		}
		return Action{Kind: Swap}
	}
	return Action{Kind: Fail, Why: "unknown step " + string(m.Step)}
}

func jobStep(f Facts, run Kind, next odoov1alpha2.DatabaseMoveStep, failure string) Action {
	switch f.Job {
	case datajob.Absent:
		return Action{Kind: run}
	case datajob.Succeeded:
		return Action{Kind: Advance, Step: next}
	case datajob.Failed:
		why := failure
		if f.JobFailure != "" {
			why += ": " + f.JobFailure
		}
		return Action{Kind: Fail, Why: why}
	}
	return Action{Kind: Wait}
}

// TargetCreated is true when the move's step is past the creation of the
// target database: only then may a failure drop it (before, a database of
// that name on the target is not the move's).
func TargetCreated(m *odoov1alpha2.DatabaseMove) bool {
	return m != nil && (m.Step == odoov1alpha2.DatabaseMoveStepLoad || m.Step == odoov1alpha2.DatabaseMoveStepCheck)
}
