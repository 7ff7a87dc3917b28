package odooinstance

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/backup/retention"
	"github.com/odoo-operator/odoo-operator/internal/backup/schedule"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// LabelScheduledBackup marks the OdooBackupJobs a spec.backup.schedule made.
const LabelScheduledBackup = "bemade.org/scheduled-backup"

// scheduleStamp is the time format in the names of scheduled backups.
const scheduleStamp = "200601021504"

// scheduledBackupName is <instance>-<yyyymmddhhmm>, short enough for its
// Job's name (<name>-backup) to fit 63 characters.
func scheduledBackupName(inst *odoov1alpha2.OdooInstance, at time.Time) string {
	return resources.BackupName(inst.Name, "-"+at.UTC().Format(scheduleStamp))
}

// scheduledBackup is the OdooBackupJob of one schedule time.
func scheduledBackup(inst *odoov1alpha2.OdooInstance, at time.Time) *odoov1alpha2.OdooBackupJob {
	b := inst.Spec.Backup
	name := scheduledBackupName(inst, at)
	format := b.Format
	if format == "" {
		format = odoov1alpha2.BackupFormatZip
	}
	labels := resources.Labels(inst, "backup")
	labels[LabelScheduledBackup] = "true"
	return &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: inst.Namespace, Labels: labels,
			Annotations: map[string]string{"bemade.org/scheduled-time": at.UTC().Format(time.RFC3339)},
		},
		Spec: odoov1alpha2.OdooBackupJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: inst.Name},
			Format:          format, WithFilestore: ptr.To(true), Destination: resources.BackupDestinationFor(b.Destination, name, format),
		},
	}
}

// retentionPolicy is spec.backup.retention with Odoo.sh's defaults.
func retentionPolicy(r *odoov1alpha2.BackupRetention) retention.Policy {
	p := retention.DefaultPolicy()
	if r == nil {
		return p
	}
	if r.Daily != nil {
		p.KeepDaily = int(*r.Daily)
	}
	if r.Weekly != nil {
		p.KeepWeekly = int(*r.Weekly)
	}
	if r.Monthly != nil {
		p.KeepMonthly = int(*r.Monthly)
	}
	return p
}

// reconcileBackupSchedule creates the OdooBackupJob of the newest due
// schedule time (deterministic name: create-only, so a restart never takes
// two), and marks the scheduled OdooBackupJobs beyond the retention for
// pruning (annotation bemade.org/prune=retention): the backup controller
// then deletes their files, then them.
func (r *Reconciler) reconcileBackupSchedule(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	b := inst.Spec.Backup
	if b.Schedule == "" || b.Destination == nil || (!s.initialized && !initialized(inst)) {
		return ctrl.Result{}, nil
	}
	sched, err := schedule.Parse(b.Schedule, schedule.Floor(r.BackupMinInterval))
	if err != nil {
		// Admission refuses it; an object stored before that rule (or before
		// the administrator raised the floor) is told, and takes no backup.
		s.degraded = append(s.degraded, problem{odoov1alpha2.ReasonBackupScheduleInvalid,
			fmt.Sprintf("spec.backup.schedule: %v; no scheduled backup is taken until it is fixed", err)})
		return ctrl.Result{}, nil
	}
	if !s.backupsObserved {
		return ctrl.Result{}, nil
	}
	// The Backups phase read the instance's OdooBackupJobs from the cache
	// already. A cache behind the API server is harmless here: a due backup
	// already created is refused as AlreadyExists (deterministic name), and
	// marks and deletes carry the object's UID as a precondition.
	list := &odoov1alpha2.OdooBackupJobList{Items: scheduledBackups(inst, s.backups)}
	// The schedule resumes from its newest backup (a missed time is taken
	// once), or from the instance's creation when it has none.
	var last time.Time
	for _, job := range list.Items {
		if at := scheduledTime(&job); at.After(last) {
			last = at
		}
	}
	if last.IsZero() {
		last = inst.CreationTimestamp.Time
	}
	now := time.Now().UTC()
	due, next, ok := schedule.Due(sched, last, now)
	log.FromContext(ctx).V(1).Info("backup schedule", "last", last, "due", due, "ok", ok, "next", next, "backups", len(list.Items))
	if ok {
		if err := r.Create(ctx, scheduledBackup(inst, due)); err != nil && !apierrors.IsAlreadyExists(err) {
			return ctrl.Result{}, wrap("scheduled OdooBackupJob", err)
		}
	}
	// Pruning is the backup controller's work (a Job deletes the files, then
	// the object): a prune that fails never holds the schedule up.
	mark, forget := pruneActions(inst, list.Items, retentionPolicy(b.Retention), now)
	uids := map[string]types.UID{}
	for _, job := range list.Items {
		uids[job.Name] = job.UID
	}
	for _, name := range mark {
		if err := r.markForPruning(ctx, inst.Namespace, name, uids[name]); err != nil {
			return ctrl.Result{}, err
		}
	}
	for _, name := range forget {
		job := &odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: inst.Namespace}}
		if err := r.Delete(ctx, job, client.Preconditions{UID: ptr.To(uids[name])}); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, wrap("deleting OdooBackupJob "+name, err)
		}
	}
	if next.IsZero() {
		// No time within five years (a 29 February far ahead): looked at
		// again with the instance's next change.
		return ctrl.Result{}, nil
	}
	return ctrl.Result{RequeueAfter: next.Sub(now) + time.Second}, nil
}

// scheduledBackups are the backups the schedule of inst created.
func scheduledBackups(inst *odoov1alpha2.OdooInstance, backups []odoov1alpha2.OdooBackupJob) []odoov1alpha2.OdooBackupJob {
	var out []odoov1alpha2.OdooBackupJob
	for _, b := range backups {
		if b.Labels[LabelScheduledBackup] == "true" && b.Labels[resources.InstanceLabel] == inst.Name {
			out = append(out, b)
		}
	}
	return out
}
