package odooinstance

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// backupJobInstanceIndex indexes OdooBackupJobs by the instance they back up.
const backupJobInstanceIndex = "spec.odooInstanceRef.name"

func instanceOfBackupJob(_ context.Context, o client.Object) []ctrl.Request {
	b := o.(*odoov1alpha2.OdooBackupJob)
	return []ctrl.Request{{NamespacedName: types.NamespacedName{Namespace: b.Namespace, Name: b.Spec.OdooInstanceRef.Name}}}
}

// observeBackups reads the instance's OdooBackupJobs (manual and scheduled)
// from the cache for the BackupSucceeded condition. It only reads, so it
// runs first and the condition follows every finished backup whatever the
// later phases do.
func (r *Reconciler) observeBackups(ctx context.Context, s *scope) (ctrl.Result, error) {
	list := &odoov1alpha2.OdooBackupJobList{}
	if err := r.List(ctx, list, client.InNamespace(s.instance.Namespace),
		client.MatchingFields{backupJobInstanceIndex: s.instance.Name}); err != nil {
		return ctrl.Result{}, err
	}
	s.backups, s.backupsObserved = list.Items, true
	return ctrl.Result{}, nil
}

// finishedAt orders finished backups: when they ended (then started, then
// were created, for objects that never recorded it).
func finishedAt(b *odoov1alpha2.OdooBackupJob) time.Time {
	switch {
	case b.Status.CompletionTime != nil:
		return b.Status.CompletionTime.Time
	case b.Status.StartTime != nil:
		return b.Status.StartTime.Time
	}
	return b.CreationTimestamp.Time
}

// newestFinishedBackup is the backup of inst that finished last (Completed
// or Failed), nil when none did; ties go to the greater name.
func newestFinishedBackup(inst *odoov1alpha2.OdooInstance, backups []odoov1alpha2.OdooBackupJob) *odoov1alpha2.OdooBackupJob {
	var newest *odoov1alpha2.OdooBackupJob
	for i := range backups {
		b := &backups[i]
		if b.Namespace != inst.Namespace || b.Spec.OdooInstanceRef.Name != inst.Name ||
			!b.Status.Phase.Finished() {
			continue
		}
		if newest == nil {
			newest = b
			continue
		}
		if c := finishedAt(b).Compare(finishedAt(newest)); c > 0 || (c == 0 && b.Name > newest.Name) {
			newest = b
		}
	}
	return newest
}

// backupCondition is BackupSucceeded for the newest finished backup of
// inst; nil when no backup of the instance has finished.
func backupCondition(inst *odoov1alpha2.OdooInstance, backups []odoov1alpha2.OdooBackupJob) *metav1.Condition {
	b := newestFinishedBackup(inst, backups)
	if b == nil {
		return nil
	}
	at := finishedAt(b).UTC().Format(time.RFC3339)
	c := &metav1.Condition{Type: odoov1alpha2.ConditionBackupSucceeded, ObservedGeneration: inst.Generation}
	if b.Status.Phase == odoov1alpha2.JobCompleted {
		c.Status, c.Reason = metav1.ConditionTrue, odoov1alpha2.ReasonBackupCompleted
		c.Message = fmt.Sprintf("backup %s completed at %s", b.Name, at)
		if b.Status.ObjectKey != "" {
			c.Message += ", stored at " + b.Status.ObjectKey
		}
		return c
	}
	c.Status, c.Reason = metav1.ConditionFalse, odoov1alpha2.ReasonBackupFailed
	c.Message = fmt.Sprintf("backup %s failed at %s: %s; see kubectl describe odoobackupjob %s", b.Name, at, b.Status.Message, b.Name)
	return c
}

// setBackupCondition sets or removes BackupSucceeded when the backups were
// observed by this reconcile, and leaves it as it is otherwise.
func setBackupCondition(status *odoov1alpha2.OdooInstanceStatus, in statusInputs) {
	if !in.backupsObserved {
		return
	}
	if c := backupCondition(in.instance, in.backups); c != nil {
		meta.SetStatusCondition(&status.Conditions, *c)
	} else {
		meta.RemoveStatusCondition(&status.Conditions, odoov1alpha2.ConditionBackupSucceeded)
	}
}

// emitBackupEvents emits the backupEvent of the transition, if any.
func (r *Reconciler) emitBackupEvents(before, after *odoov1alpha2.OdooInstance) {
	if kind, reason, note := backupEvent(before, after); reason != "" {
		r.Recorder.Eventf(after, nil, kind, reason, "Backup", "%s", note)
	}
}

// backupEvent is the event of a BackupSucceeded transition: a newly failed
// backup (Warning, once per failed backup: the message names it), or the
// first good backup after a failure; reason is "" for none.
func backupEvent(before, after *odoov1alpha2.OdooInstance) (kind, reason, note string) {
	old := meta.FindStatusCondition(before.Status.Conditions, odoov1alpha2.ConditionBackupSucceeded)
	c := meta.FindStatusCondition(after.Status.Conditions, odoov1alpha2.ConditionBackupSucceeded)
	switch {
	case c == nil:
	case c.Status == metav1.ConditionFalse && (old == nil || old.Status != c.Status || old.Message != c.Message):
		return corev1.EventTypeWarning, odoov1alpha2.EventBackupFailed, c.Message
	case c.Status == metav1.ConditionTrue && old != nil && old.Status == metav1.ConditionFalse:
		return corev1.EventTypeNormal, odoov1alpha2.EventBackupRecovered, c.Message
	}
	return "", "", ""
}
