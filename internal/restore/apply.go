package restore

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Apply returns the status to store for a; it is pure, st is not modified.
// The controller stores it before it acts when the step changes (Begin,
// Advance) and after its act for the actions that end a step by acting
// (Swap, Release, DropPrevious, the failures): their act is safe to
// repeat, so a restart between the two does it again. f carries the names
// Begin records and the digest the load Job reported.
func Apply(st odoov1alpha2.OdooRestoreJobStatus, a Action, f Facts, now metav1.Time) odoov1alpha2.OdooRestoreJobStatus {
	next := *st.DeepCopy()
	if st.Step == odoov1alpha2.RestoreStepLoad && f.SHA256 != "" {
		next.SHA256 = f.SHA256
	}
	names := f.Names
	switch a.Kind {
	case Pending:
		next.Phase, next.Message = odoov1alpha2.JobPending, a.Message
	case Begin:
		next.Phase, next.StartTime = odoov1alpha2.JobRunning, &now
		next.Database, next.TargetDatabase, next.KeptDatabase, next.JobName = names.Database, names.Target, names.Kept, names.Job
		next.Step, next.Message = a.Step, a.Message
	case Advance, Swap, Release:
		if a.Kind == Release && a.Step == odoov1alpha2.RestoreStepDone {
			return complete(next, a, now)
		}
		next.Step, next.Message = a.Step, a.Message
		if a.Neutralized {
			next.Neutralized = true
		}
		if a.FilestoreMoved != nil {
			next.FilestoreMoved = boolPtr(*a.FilestoreMoved)
		}
	case DropPrevious:
		next.PreviousDatabaseDropped = true
		return complete(next, a, now)
	case Complete:
		return complete(next, a, now)
	case Refuse, FailBeforeSwap, Fail:
		if a.TargetDropped {
			next.TargetDatabaseDropped = true
		}
		next.Phase, next.Message, next.CompletionTime = odoov1alpha2.JobFailed, a.Message, &now
		if next.Step != "" {
			next.Step = odoov1alpha2.RestoreStepDone
		}
	case Wait, Hold:
		if a.Message != "" {
			next.Message = a.Message
		}
	}
	return next
}

// complete ends the restore; a.Message is the summary the controller
// wrote (CompletedMessage and what it adds).
func complete(next odoov1alpha2.OdooRestoreJobStatus, a Action, now metav1.Time) odoov1alpha2.OdooRestoreJobStatus {
	next.Phase, next.Step, next.CompletionTime = odoov1alpha2.JobCompleted, odoov1alpha2.RestoreStepDone, &now
	next.Message = a.Message
	return next
}

// Stores says whether a changes the recorded step: its status is stored
// before the controller acts on the next step.
func Stores(a Action) bool {
	switch a.Kind {
	case Begin, Advance, Swap, Release, DropPrevious, Complete, Refuse, FailBeforeSwap, Fail:
		return true
	}
	return false
}
