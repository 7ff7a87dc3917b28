package backupjob

import (
	"context"
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// markedForPruning reports a finished backup whose stored files are to be
// deleted (annotation bemade.org/prune), and that is not being deleted.
func markedForPruning(b *odoov1alpha2.OdooBackupJob) bool {
	finished := b.Status.Phase.Finished()
	return finished && b.Annotations[odoov1alpha2.AnnotationPrune] != "" && b.DeletionTimestamp.IsZero()
}

// prune deletes the backup's stored files by one create-only Job
// <name>-prune, recorded in status.prune before it is created, then the
// OdooBackupJob once the Job succeeded. A failed Job leaves the object,
// with the reason and the fix, and a Warning event; the Job runs again once
// it is gone (deleted by hand, or by its TTL).
func (r *Reconciler) prune(ctx context.Context, b *odoov1alpha2.OdooBackupJob) (ctrl.Result, error) {
	if b.Status.JobName == "" {
		// No backup Job was ever created (the spec was refused): nothing
		// was written, so there is nothing to delete but the object.
		return ctrl.Result{}, r.deletePruned(ctx, b, "no backup Job ever ran, so no file was written")
	}
	before := b.DeepCopy()
	loc := resources.BackupLocationOf(b, false)
	jobName := resources.PruneJobName(b)
	job := &batchv1.Job{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: jobName}, job)
	switch {
	case apierrors.IsNotFound(err):
		now := metav1.Now()
		b.Status.Prune = &odoov1alpha2.BackupPruneStatus{JobName: jobName, Phase: odoov1alpha2.JobRunning, StartTime: &now,
			Message: fmt.Sprintf("deleting the stored files of %s (%s: %s)", loc.URL, odoov1alpha2.AnnotationPrune, b.Annotations[odoov1alpha2.AnnotationPrune])}
		// Recorded before the Job is created.
		if err := operation.PatchStatus(ctx, r.Client, b, before); err != nil {
			return ctrl.Result{}, err
		}
		if err := r.Apply(ctx, resources.PruneJob(b, loc, r.Images.Operator, r.DataJobDeadline), client.FieldOwner(resources.FieldManager)); err != nil {
			return ctrl.Result{}, fmt.Errorf("prune Job: %w", err)
		}
		return ctrl.Result{}, nil
	case err != nil:
		return ctrl.Result{}, err
	}
	if b.Status.Prune == nil {
		b.Status.Prune = &odoov1alpha2.BackupPruneStatus{JobName: jobName, StartTime: job.Status.StartTime}
	}
	b.Status.Prune.Phase = odoov1alpha2.JobRunning
	if c := resources.FinishedCondition(job); c != nil {
		switch c.Type {
		case batchv1.JobComplete:
			res, _, _ := datajob.Read(ctx, r.APIReader, job)
			what := "its stored files were already gone"
			if res != nil && len(res.Removed) > 0 {
				what = "deleted " + strings.Join(res.Removed, ", ") + " from " + loc.URL
			}
			return ctrl.Result{}, r.deletePruned(ctx, b, what)
		case batchv1.JobFailed:
			res, exit, found := datajob.Read(ctx, r.APIReader, job)
			b.Status.Prune.Phase = odoov1alpha2.JobFailed
			b.Status.Prune.Message = datajob.FailureMessage("prune", job, *c, res, exit, found) +
				fmt.Sprintf("; the files of %s may be partly deleted (the .sha256 goes first: the backup no longer counts as complete). "+
					"Fix the cause (the S3 credentials or endpoint, the claim), then delete Job %s to run it again (its TTL does so after 7 days); "+
					"deleting this OdooBackupJob instead leaves the files in place", loc.URL, jobName)
		}
	}
	if equality.Semantic.DeepEqual(before.Status, b.Status) {
		return ctrl.Result{}, nil
	}
	if err := operation.PatchStatus(ctx, r.Client, b, before); err != nil {
		return ctrl.Result{}, err
	}
	if b.Status.Prune.Phase == odoov1alpha2.JobFailed && (before.Status.Prune == nil || before.Status.Prune.Phase != odoov1alpha2.JobFailed) {
		r.Recorder.Eventf(b, nil, corev1.EventTypeWarning, odoov1alpha2.EventBackupPruneFailed, "Prune", "%s", b.Status.Prune.Message)
	}
	return ctrl.Result{}, nil
}

// deletePruned deletes the OdooBackupJob whose files are gone (the UID
// precondition keeps a new object of the same name safe).
func (r *Reconciler) deletePruned(ctx context.Context, b *odoov1alpha2.OdooBackupJob, what string) error {
	if err := r.Delete(ctx, b, client.Preconditions{UID: &b.UID}); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.Recorder.Eventf(b, nil, corev1.EventTypeNormal, odoov1alpha2.EventBackupPruned, "Prune",
		"backup %s pruned (%s: %s): %s; OdooBackupJob deleted", b.Name, odoov1alpha2.AnnotationPrune, b.Annotations[odoov1alpha2.AnnotationPrune], what)
	return nil
}
