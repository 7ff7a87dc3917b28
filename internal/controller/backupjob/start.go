package backupjob

import (
	"context"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// A backup that cannot start (a Secret or claim missing, a pod that cannot
// be scheduled, an image that cannot be pulled) would otherwise stay Running
// for ever: its pod would hold the filestore claim and every restore of the
// instance would wait for it. It fails after the start deadline, measured
// from the OdooBackupJob's creation (before its Job exists) or from the Job's
// creation, both stored in the API server, so an operator restart changes
// nothing; the Job is deleted (propagation Background) so its pod goes and
// releases the claims.

// DefaultStartDeadline is the start deadline when none is configured.
const DefaultStartDeadline = 5 * time.Minute

// notStartedPrefix begins the message of a backup failed at its start
// deadline. It is recorded before the Job is deleted, so a restart between
// the two still fails the backup with its reason.
const notStartedPrefix = "the backup did not start within "

// waitingStartPrefix begins the message of a backup whose pod has not
// started yet.
const waitingStartPrefix = "waiting for the backup Job "

func (r *Reconciler) startDeadline() time.Duration {
	if r.StartDeadline > 0 {
		return r.StartDeadline
	}
	return DefaultStartDeadline
}

// missingInputs names what the backup's pod needs and does not exist yet:
// the S3 credentials Secret (or one of its keys), the destination claim, the
// filestore claim; "" when all exist.
func (r *Reconciler) missingInputs(ctx context.Context, b *odoov1alpha2.OdooBackupJob, filestoreClaim string) (string, error) {
	d := b.Spec.Destination
	var missing []string
	if ref := d.S3CredentialsSecretRef; d.PVC == nil && ref != nil {
		s := &corev1.Secret{}
		err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: ref.Name}, s)
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, fmt.Sprintf("the S3 credentials Secret %q (spec.destination.s3CredentialsSecretRef) does not exist", ref.Name))
		case err != nil:
			return "", err
		default:
			for _, k := range []string{resources.S3SecretAccessKeyKey, resources.S3SecretSecretKeyKey} {
				if _, ok := s.Data[k]; !ok {
					missing = append(missing, fmt.Sprintf("the S3 credentials Secret %q has no key %s", ref.Name, k))
				}
			}
		}
	}
	claims := []string{}
	if d.PVC != nil {
		claims = append(claims, d.PVC.ClaimName)
	}
	if filestoreClaim != "" {
		claims = append(claims, filestoreClaim)
	}
	for _, name := range claims {
		err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: name}, &corev1.PersistentVolumeClaim{})
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, fmt.Sprintf("the claim %q does not exist", name))
		case err != nil:
			return "", err
		}
	}
	return strings.Join(missing, "; "), nil
}

// waitInputs keeps a backup whose inputs are missing Pending until they
// exist, and fails it once the start deadline since its creation passed.
func (r *Reconciler) waitInputs(b *odoov1alpha2.OdooBackupJob, missing string, now time.Time) ctrl.Result {
	deadline := r.startDeadline()
	waited := now.Sub(b.CreationTimestamp.Time)
	if waited >= deadline {
		r.failNotStarted(b, fmt.Sprintf("%s%s: %s; no Job was created, nothing was backed up", notStartedPrefix, deadline, missing))
		return ctrl.Result{}
	}
	b.Status.Phase, b.Status.Message = odoov1alpha2.JobPending, fmt.Sprintf(
		"waiting: %s; the backup fails if it is still missing at %s",
		missing, b.CreationTimestamp.Add(deadline).UTC().Format(time.RFC3339))
	return ctrl.Result{RequeueAfter: min(deadline-waited, waitRetry)}
}

// failNotStarted fails the backup with msg, with a Warning event.
func (r *Reconciler) failNotStarted(b *odoov1alpha2.OdooBackupJob, msg string) {
	now := metav1.Now()
	b.Status.Phase, b.Status.Message, b.Status.CompletionTime = odoov1alpha2.JobFailed, msg, &now
	if r.Recorder != nil {
		r.Recorder.Eventf(b, nil, corev1.EventTypeWarning, odoov1alpha2.EventBackupNotStarted, "Backup", "%s", msg)
	}
}

// PodStartProblem says whether a Job's pods started (a container ran or
// runs, or a pod ended), and if not, why, in the words of the kubelet or the
// scheduler. It is pure: table-tested without an API server.
func PodStartProblem(pods []corev1.Pod) (started bool, why string) {
	if len(pods) == 0 {
		return false, "no pod was created for it"
	}
	var reasons []string
	for _, p := range pods {
		if p.Status.Phase != corev1.PodPending && p.Status.Phase != "" {
			return true, ""
		}
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if cs.State.Running != nil || cs.State.Terminated != nil {
				return true, ""
			}
			if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing" {
				reasons = append(reasons, fmt.Sprintf("pod %s: container %s is waiting: %s: %s", p.Name, cs.Name, w.Reason, w.Message))
			}
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				reasons = append(reasons, fmt.Sprintf("pod %s cannot be scheduled: %s: %s", p.Name, c.Reason, c.Message))
			}
		}
	}
	if len(reasons) == 0 {
		return false, "its pod is still Pending"
	}
	return false, strings.Join(reasons, "; ")
}

// checkStart fails the backup whose Job's pod did not start within the start
// deadline since the Job's creation, and deletes the Job. It reports whether
// it took over the reconcile.
func (r *Reconciler) checkStart(ctx context.Context, b *odoov1alpha2.OdooBackupJob, job *batchv1.Job, now time.Time) (ctrl.Result, bool, error) {
	if resources.FinishedCondition(job) != nil {
		return ctrl.Result{}, false, nil
	}
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.InNamespace(job.Namespace), client.MatchingLabels{"batch.kubernetes.io/job-name": job.Name}); err != nil {
		return ctrl.Result{}, true, err
	}
	started, why := PodStartProblem(pods.Items)
	if started {
		if strings.HasPrefix(b.Status.Message, waitingStartPrefix) {
			b.Status.Message = "the backup Job " + job.Name + " is running"
		}
		return ctrl.Result{}, false, nil
	}
	deadline := r.startDeadline()
	waited := now.Sub(job.CreationTimestamp.Time)
	if waited < deadline {
		b.Status.Phase = odoov1alpha2.JobRunning
		b.Status.Message = fmt.Sprintf("%s%s to start: %s; it fails if it has not started at %s",
			waitingStartPrefix, job.Name, why, job.CreationTimestamp.Add(deadline).UTC().Format(time.RFC3339))
		return ctrl.Result{RequeueAfter: min(deadline-waited, waitRetry)}, true, nil
	}
	msg := fmt.Sprintf("%s%s: %s; the Job %s was deleted so that its pod releases the claims, nothing was backed up", notStartedPrefix, deadline, why, job.Name)
	// Recorded first: after a restart the Job's absence is read with it.
	if b.Status.Message != msg {
		before := b.DeepCopy()
		b.Status.Message = msg
		if err := operation.PatchStatus(ctx, r.Client, b, before); err != nil {
			return ctrl.Result{}, true, err
		}
	}
	if err := r.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, true, fmt.Errorf("deleting the backup Job that did not start: %w", err)
	}
	r.failNotStarted(b, msg)
	return ctrl.Result{}, true, nil
}
