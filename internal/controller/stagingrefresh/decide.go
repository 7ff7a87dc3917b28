// Package stagingrefresh reconciles OdooStagingRefreshJob objects and the
// staging instances that ask for them. A refresh composes the existing
// machinery, one child per step:
//
//	"" → Backup: an OdooBackupJob <refresh>-backup of production (it takes
//	             production's lock as a Backup; production keeps serving)
//	   → Restore: an OdooRestoreJob <refresh>-restore into staging from that
//	             backup, neutralize and keepPreviousDatabase true (it loads a
//	             new database, neutralizes and checks it, swaps it in and
//	             keeps the previous one)
//	   → Done
//
// The refresh holds the staging instance's lock (kind StagingRefresh) from
// its first step until its restore takes it over (package operation).
// Decide is pure: it maps what the controller observed to one action; the
// controller records the step before it creates the step's child, and the
// children's names are deterministic, so a restart at any point resumes
// without a second child.
package stagingrefresh

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// Kind is the kind of the next action.
type Kind string

// Actions, each carried out by the controller.
const (
	// Nothing: the refresh ended.
	Nothing Kind = "Nothing"
	// Pending: the refresh cannot start yet (an instance not found, the
	// staging instance's lock held); Message says why.
	Pending Kind = "Pending"
	// Refuse fails a refresh that asks for something never done.
	Refuse Kind = "Refuse"
	// CreateBackup takes the staging lock (step Backup) and creates the
	// OdooBackupJob of production.
	CreateBackup Kind = "CreateBackup"
	// RecordBackup records the completed backup's object key and the
	// Restore step.
	RecordBackup Kind = "RecordBackup"
	// CreateRestore records the lock's Restore step and creates the
	// OdooRestoreJob into staging, which takes the lock over.
	CreateRestore Kind = "CreateRestore"
	// Wait: a child runs.
	Wait Kind = "Wait"
	// Complete ends the refresh as Completed.
	Complete Kind = "Complete"
	// Fail ends the refresh as Failed (a child failed).
	Fail Kind = "Fail"
)

// Action is what the controller does next.
type Action struct {
	Kind Kind
	// Reason is the Ready condition's reason.
	Reason string
	// Message explains the action; recorded in status.message.
	Message string
	// ObjectKey is the backup's object key (RecordBackup).
	ObjectKey string
	// KeptDatabase is the previous staging database (Complete).
	KeptDatabase string
}

// Facts is what the controller observed.
type Facts struct {
	// Refresh is the OdooStagingRefreshJob.
	Refresh *odoov1alpha2.OdooStagingRefreshJob
	// Target is the staging instance, nil when not found.
	Target *odoov1alpha2.OdooInstance
	// Source is the production instance, nil when not found.
	Source *odoov1alpha2.OdooInstance
	// Backup and Restore are the children, nil when not found.
	Backup  *odoov1alpha2.OdooBackupJob
	Restore *odoov1alpha2.OdooRestoreJob
}

// Decide maps the facts to the next action.
func Decide(f Facts) Action {
	sr := f.Refresh
	st := sr.Status
	if st.Phase.Finished() {
		return Action{Kind: Nothing}
	}
	if msg := Invalid(sr); msg != "" {
		return refuse(msg)
	}
	if st.Step == odoov1alpha2.StagingRefreshStepRestore {
		return decideRestore(f)
	}
	if f.Target == nil || f.Source == nil {
		missing := sr.Spec.OdooInstanceRef.Name
		if f.Target != nil {
			missing = sr.Spec.Source.InstanceName
		}
		return Action{Kind: Pending, Reason: odoov1alpha2.ReasonStagingRefreshWaiting,
			Message: fmt.Sprintf("waiting for the OdooInstance %s to exist", missing)}
	}
	if msg := Unsafe(f.Target, f.Source); msg != "" {
		return refuse(msg)
	}
	if f.Backup == nil {
		if d := operation.Check(f.Target, odoov1alpha2.OperationStagingRefresh, sr.Name); !d.Go() {
			return Action{Kind: Pending, Reason: odoov1alpha2.ReasonStagingRefreshWaiting, Message: "staging: " + d.Message}
		}
		return Action{Kind: CreateBackup, Reason: odoov1alpha2.ReasonStagingRefreshBackingUp,
			Message: "backing up production " + f.Source.Name + " (OdooBackupJob " + operation.StagingRefreshBackupName(sr.Name) + ")"}
	}
	if !ownedBy(f.Backup.OwnerReferences, sr) {
		return refuse(fmt.Sprintf("the OdooBackupJob %s exists and was not created by this refresh; delete it or use another refresh name", f.Backup.Name))
	}
	switch f.Backup.Status.Phase {
	case odoov1alpha2.JobCompleted:
		if f.Backup.Status.ObjectKey == "" {
			return fail("production's backup " + f.Backup.Name + " completed without status.objectKey")
		}
		return Action{Kind: RecordBackup, Reason: odoov1alpha2.ReasonStagingRefreshRestoring, ObjectKey: f.Backup.Status.ObjectKey,
			Message: "production backed up; restoring into " + f.Target.Name}
	case odoov1alpha2.JobFailed:
		return fail(fmt.Sprintf("production's backup %s failed: %s; staging keeps its database", f.Backup.Name, f.Backup.Status.Message))
	}
	return Action{Kind: Wait, Reason: odoov1alpha2.ReasonStagingRefreshBackingUp,
		Message: fmt.Sprintf("backing up production %s (OdooBackupJob %s %s)", f.Source.Name, f.Backup.Name, phaseOr(f.Backup.Status.Phase))}
}

// decideRestore is the Restore step: the backup is recorded.
func decideRestore(f Facts) Action {
	sr := f.Refresh
	if f.Restore == nil {
		if f.Target == nil || f.Source == nil {
			return fail("the staging or production OdooInstance was deleted before the restore started; staging was not changed")
		}
		if msg := Unsafe(f.Target, f.Source); msg != "" {
			return refuse(msg)
		}
		if d := operation.Check(f.Target, odoov1alpha2.OperationStagingRefresh, sr.Name); !d.Go() {
			return Action{Kind: Pending, Reason: odoov1alpha2.ReasonStagingRefreshWaiting, Message: "staging: " + d.Message}
		}
		return Action{Kind: CreateRestore, Reason: odoov1alpha2.ReasonStagingRefreshRestoring,
			Message: "restoring production's backup into " + sr.Spec.OdooInstanceRef.Name + " (OdooRestoreJob " + operation.StagingRefreshRestoreName(sr.Name) + ")"}
	}
	if !ownedBy(f.Restore.OwnerReferences, sr) {
		return refuse(fmt.Sprintf("the OdooRestoreJob %s exists and was not created by this refresh; delete it or use another refresh name", f.Restore.Name))
	}
	switch f.Restore.Status.Phase {
	case odoov1alpha2.JobCompleted:
		return Action{Kind: Complete, Reason: odoov1alpha2.ReasonStagingRefreshCompleted, KeptDatabase: f.Restore.Status.KeptDatabase,
			Message: fmt.Sprintf("staging runs on a neutralized copy of production; the previous database is kept as %q", f.Restore.Status.KeptDatabase)}
	case odoov1alpha2.JobFailed:
		return fail(fmt.Sprintf("the restore %s into staging failed: %s", f.Restore.Name, f.Restore.Status.Message))
	}
	step := string(f.Restore.Status.Step)
	if step == "" {
		step = phaseOr(f.Restore.Status.Phase)
	}
	return Action{Kind: Wait, Reason: odoov1alpha2.ReasonStagingRefreshRestoring,
		Message: fmt.Sprintf("restoring into %s (OdooRestoreJob %s at %s)", sr.Spec.OdooInstanceRef.Name, f.Restore.Name, step)}
}

// Invalid reports a spec this operator refuses whatever the instances are,
// "" when it is acceptable.
func Invalid(sr *odoov1alpha2.OdooStagingRefreshJob) string {
	switch {
	case sr.Spec.OdooInstanceRef.Namespace != "" && sr.Spec.OdooInstanceRef.Namespace != sr.Namespace:
		return fmt.Sprintf("spec.odooInstanceRef.namespace %q is not the refresh's own namespace %q: only a staging instance of its own namespace is refreshed",
			sr.Spec.OdooInstanceRef.Namespace, sr.Namespace)
	case sr.Spec.Source.InstanceNamespace != "" && sr.Spec.Source.InstanceNamespace != sr.Namespace:
		return fmt.Sprintf("spec.source.instanceNamespace %q is not the refresh's own namespace %q: production is copied only within one namespace",
			sr.Spec.Source.InstanceNamespace, sr.Namespace)
	case sr.Spec.Source.InstanceName == sr.Spec.OdooInstanceRef.Name:
		return "spec.source.instanceName names the staging instance itself: a refresh copies production into another (staging) instance"
	case sr.Spec.FilestoreMethod == odoov1alpha2.StagingFilestoreSnapshot:
		return "spec.filestoreMethod snapshot is not supported: use auto or copy (the filestore is copied through production's backup)"
	}
	return ""
}

// Unsafe reports why copying source into target must never happen, "" when
// it may: the target must be a staging instance, the one that names source
// as its production (when it names one), on a database other than
// production's.
func Unsafe(target, source *odoov1alpha2.OdooInstance) string {
	switch {
	case target.Spec.Environment != odoov1alpha2.EnvironmentStaging:
		return fmt.Sprintf("the target OdooInstance %s is not spec.environment Staging: a refresh replaces its database; set environment: Staging on a staging instance", target.Name)
	case target.Spec.ProductionInstanceRef != nil && target.Spec.ProductionInstanceRef.Name != source.Name:
		return fmt.Sprintf("spec.source.instanceName %s is not the staging instance's spec.productionInstanceRef.name %s", source.Name, target.Spec.ProductionInstanceRef.Name)
	case databaseOf(target) == databaseOf(source):
		return fmt.Sprintf("the staging instance %s uses production's database %q: a refresh would swap staging onto production's database; give staging its own spec.database.name", target.Name, databaseOf(source))
	case source.Spec.Backup.Destination == nil:
		return fmt.Sprintf("production %s has no spec.backup.destination: a refresh copies production through a fresh backup written there; set it (a claim or an S3 bucket)", source.Name)
	}
	return ""
}

// databaseOf is the database an instance uses (its recorded name, else the
// name it will get).
func databaseOf(inst *odoov1alpha2.OdooInstance) string {
	if inst.Status.Database != nil && inst.Status.Database.Name != "" {
		return inst.Status.Database.Name
	}
	return resources.DatabaseName(inst)
}

func ownedBy(refs []metav1.OwnerReference, sr *odoov1alpha2.OdooStagingRefreshJob) bool {
	for _, r := range refs {
		if r.Controller != nil && *r.Controller && r.UID == sr.UID {
			return true
		}
	}
	return false
}

func refuse(msg string) Action {
	return Action{Kind: Refuse, Reason: odoov1alpha2.ReasonStagingRefreshRefused, Message: msg + "; this refresh did not change staging"}
}

func fail(msg string) Action {
	return Action{Kind: Fail, Reason: odoov1alpha2.ReasonStagingRefreshFailed, Message: msg}
}

func phaseOr(p odoov1alpha2.JobPhase) string {
	if p == "" {
		return "Pending"
	}
	return string(p)
}
