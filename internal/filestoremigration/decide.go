// Package filestoremigration is the state machine of a storage class change
// of an instance's filestore, a data migration:
//
//	Start → (WaitTiers) → CreateTarget → RunCopy → (WaitCopy) → Swap → Cleanup
//	                                                          ↘ Fail → DropTarget
//
// Decide is pure: it maps status.filestore and what the controller observed
// (claims, the copy Job, the tiers) to one next Action, never memory. Apply
// turns an action into the status to store; the controller stores it before
// the step that depends on it, and every object has a deterministic name
// recorded there, so an operator restart at any point resumes where the
// migration stood and never runs a second copy Job.
package filestoremigration

import (
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
)

// Action is the next step of the migration.
type Action string

// Actions.
const (
	None         Action = "none"
	Start        Action = "start"
	WaitTiers    Action = "wait-tiers"
	CreateTarget Action = "create-target"
	RunCopy      Action = "run-copy"
	WaitCopy     Action = "wait-copy"
	Swap         Action = "swap"
	Fail         Action = "fail"
	// DropTarget deletes the half-written claim of a failed migration.
	DropTarget Action = "drop-target"
	// Cleanup deletes the claim a successful migration left, once the
	// instance is Ready on the new one.
	Cleanup Action = "cleanup"
	// Forget clears a failed migration once the spec asks for the class
	// already in use.
	Forget Action = "forget"
)

// Facts are what the controller read for this reconcile.
type Facts struct {
	// SpecClass is spec.filestore.storageClass ("" = no preference: never
	// migrates).
	SpecClass string
	// CurrentClass is the class of the claim in use.
	CurrentClass string
	// Initialized is true once the database is initialised and no other
	// operation owns it: nothing is migrated while the init Job may write to
	// the filestore.
	Initialized bool
	// TargetExists says whether the migration's target claim exists.
	TargetExists bool
	// Job is the state of the migration's copy Job.
	Job datajob.Outcome
	// TiersStopped is true when web and cron have no pod left.
	TiersStopped bool
	// ReadyOnClaim is true when the instance is Ready and its Deployments
	// mount the claim in use.
	ReadyOnClaim bool
	// PreviousExists says whether status.filestore.previousClaim still exists.
	PreviousExists bool
}

// Copying is true while a migration copies: web and cron stay stopped.
func Copying(st *odoov1alpha2.FilestoreStatus) bool {
	return st != nil && st.Migration != nil && st.Migration.Phase == odoov1alpha2.FilestoreMigrationCopying
}

// Decide returns the next step. It is pure: table-tested without an API
// server.
func Decide(st odoov1alpha2.FilestoreStatus, f Facts) Action {
	if Copying(&st) {
		switch {
		case !f.TiersStopped:
			return WaitTiers
		case !f.TargetExists && f.Job == datajob.Absent:
			return CreateTarget
		case f.Job == datajob.Absent:
			return RunCopy
		case f.Job == datajob.Running:
			return WaitCopy
		case f.Job == datajob.Succeeded && f.TargetExists:
			return Swap
		default:
			// Failed, or succeeded into a claim that vanished since.
			return Fail
		}
	}
	failed := st.Migration != nil && st.Migration.Phase == odoov1alpha2.FilestoreMigrationFailed
	if failed && f.TargetExists {
		return DropTarget
	}
	if st.PreviousClaim != "" {
		if !f.PreviousExists || f.ReadyOnClaim {
			return Cleanup // only clears the status when the claim is gone
		}
		// A new migration waits until the last one is finished.
		return None
	}
	wanted := f.SpecClass != "" && f.SpecClass != f.CurrentClass
	switch {
	case failed && f.SpecClass == st.Migration.TargetStorageClass:
		// Not retried until spec.filestore.storageClass changes again.
		return None
	case wanted && f.Initialized:
		return Start
	case failed && !wanted:
		return Forget
	}
	return None
}
