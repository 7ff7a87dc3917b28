package odooinstance

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/filestoremigration"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// A storage class change of the filestore is a data migration, decided by
// package filestoremigration from the status and from what exists (claims,
// the copy Job, the tiers); this file observes and carries out its steps.

// reconcileFilestore creates the filestore claim in use and grows it, and
// carries out a storage class change as a migration.
func (r *Reconciler) reconcileFilestore(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	claim := resources.FilestoreClaimName(inst)
	// A re-created instance takes up the claim its predecessor of the same
	// name kept, when a migration had moved it off the default name.
	if retained, err := r.retainedFilestore(ctx, inst); err != nil {
		return ctrl.Result{}, err
	} else if retained != "" {
		claim = retained
	}
	pvc := &corev1.PersistentVolumeClaim{}
	if err := r.getOptional(ctx, inst, claim, pvc); err != nil {
		return ctrl.Result{}, err
	}
	existing := nilIfAbsent(pvc)
	if requested, current, shrink := resources.FilestoreShrinkRequested(inst, existing); shrink {
		s.degraded = append(s.degraded, problem{"FilestoreShrinkRefused",
			fmt.Sprintf("spec.filestore.storageSize %s is below the volume's %s; volumes cannot shrink, set it to %s or more", requested.String(), current.String(), current.String())})
	}
	// A claim that does not exist yet is created with the spec's class; an
	// existing one keeps its own.
	applied := &corev1.PersistentVolumeClaim{}
	if _, err := r.Applier.Apply(ctx, "PersistentVolumeClaim", resources.FilestorePVC(inst, claim, inst.Spec.Filestore.StorageClass, existing), existing, applied); err != nil {
		return ctrl.Result{}, wrap("filestore PersistentVolumeClaim", err)
	}
	s.pvc = applied

	status := odoov1alpha2.FilestoreStatus{}
	if inst.Status.Filestore != nil {
		status = *inst.Status.Filestore.DeepCopy()
	}
	// Record the claim in use and its class (once, then on change only).
	if status.ClaimName != claim || status.StorageClass != resources.ClaimClass(applied) {
		status.ClaimName, status.StorageClass = claim, resources.ClaimClass(applied)
		if err := r.persistFilestore(ctx, s, &status); err != nil {
			return ctrl.Result{}, err
		}
	}

	o, err := r.observeFilestore(ctx, s, &status)
	if err != nil {
		return ctrl.Result{}, err
	}
	action := filestoremigration.Decide(status, o)
	if action != filestoremigration.None || migrating(inst) {
		// Decide on the status as stored, not on a cache that may not have
		// seen this operator's last write yet: a stale "Copying" would hold
		// the tiers again after the swap, a stale "no migration" would
		// remove the copy Job of the migration in progress. A stale read
		// ends the reconcile without writing anything; the cache's update
		// event brings the next one.
		fresh, err := r.storedFilestore(ctx, inst)
		if err != nil {
			return ctrl.Result{}, err
		}
		if !equality.Semantic.DeepEqual(fresh, inst.Status.Filestore) {
			s.stop, s.staleStatus = true, true
			return ctrl.Result{RequeueAfter: requeueShort}, nil
		}
	}
	if action == filestoremigration.Start {
		// The lock before the migration is recorded: an upgrade, a backup
		// or a restore holding it makes the migration wait.
		if d, err := r.lockStep(ctx, s, odoov1alpha2.OperationFilestoreMigration, nil); err != nil || !d.Go() {
			if err == nil {
				s.progressing = &problem{odoov1alpha2.ReasonFilestoreMigrating, "filestore migration " + d.Message}
			}
			return ctrl.Result{RequeueAfter: requeueShort}, err
		}
	}
	res, err := r.runFilestoreAction(ctx, s, &status, action)
	if err == nil {
		// status.operation follows the migration; released once it ended.
		err = r.migrationLock(ctx, s, action)
	}
	return res, err
}

// storedFilestore reads status.filestore from the API server.
func (r *Reconciler) storedFilestore(ctx context.Context, inst *odoov1alpha2.OdooInstance) (*odoov1alpha2.FilestoreStatus, error) {
	live := &odoov1alpha2.OdooInstance{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(inst), live); err != nil {
		return nil, err
	}
	return live.Status.Filestore, nil
}

// observeFilestore reads what filestoremigration.Decide needs.
func (r *Reconciler) observeFilestore(ctx context.Context, s *scope, status *odoov1alpha2.FilestoreStatus) (filestoremigration.Facts, error) {
	inst := s.instance
	o := filestoremigration.Facts{
		SpecClass:    inst.Spec.Filestore.StorageClass,
		CurrentClass: status.StorageClass,
		// No migration starts while a module upgrade owns the database.
		Initialized: inst.Status.Database != nil && inst.Status.Database.Initialized && !upgrade.InFlight(inst.Status.Upgrade),
	}
	web, cron, err := r.currentDeployments(ctx, s)
	if err != nil {
		return o, err
	}
	if m := status.Migration; m != nil {
		target := &corev1.PersistentVolumeClaim{}
		if err := r.getOptional(ctx, inst, m.TargetClaim, target); err != nil {
			return o, err
		}
		o.TargetExists = target.UID != "" && target.DeletionTimestamp.IsZero()
		if m.Phase == odoov1alpha2.FilestoreMigrationCopying {
			job := &batchv1.Job{}
			if err := r.getOptional(ctx, inst, m.JobName, job); err != nil {
				return o, err
			}
			o.Job = datajob.OutcomeOf(job)
			stopped, err := r.tiersStopped(ctx, inst, nilIfAbsent(web), nilIfAbsent(cron))
			if err != nil {
				return o, err
			}
			o.TiersStopped = stopped
		}
	}
	if status.PreviousClaim != "" {
		prev := &corev1.PersistentVolumeClaim{}
		if err := r.getOptional(ctx, inst, status.PreviousClaim, prev); err != nil {
			return o, err
		}
		o.PreviousExists = prev.UID != "" && prev.DeletionTimestamp.IsZero()
		o.ReadyOnClaim = meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionReady) &&
			mountsClaim(web, status.ClaimName) && mountsClaim(cron, status.ClaimName)
	}
	return o, nil
}

// tiersStopped is true when both Deployments are at 0 replicas and no web or
// cron pod is left.
func (r *Reconciler) tiersStopped(ctx context.Context, inst *odoov1alpha2.OdooInstance, web, cron *appsv1.Deployment) (bool, error) {
	return r.stopped(ctx, inst, []*appsv1.Deployment{web, cron}, resources.ComponentWeb, resources.ComponentCron)
}

func mountsClaim(d *appsv1.Deployment, claim string) bool {
	return d.UID != "" && podMountsClaim(d.Spec.Template.Spec, claim)
}

// runFilestoreAction carries out one step. Steps that change what later
// reconciles decide write the status first.
func (r *Reconciler) runFilestoreAction(ctx context.Context, s *scope, status *odoov1alpha2.FilestoreStatus, action filestoremigration.Action) (ctrl.Result, error) {
	inst := s.instance
	m := status.Migration
	if action != filestoremigration.None && action != filestoremigration.Cleanup {
		s.progressing = &problem{odoov1alpha2.ReasonFilestoreMigrating, ""}
	}
	switch action {
	case filestoremigration.Start:
		return r.startMigration(ctx, s, status)

	case filestoremigration.WaitTiers:
		s.progressing.message = fmt.Sprintf("migrating the filestore to storage class %q: waiting for web and cron to stop", m.TargetStorageClass)
		return ctrl.Result{RequeueAfter: requeueShort}, nil

	case filestoremigration.CreateTarget:
		s.progressing.message = fmt.Sprintf("migrating the filestore to storage class %q: creating claim %s", m.TargetStorageClass, m.TargetClaim)
		source := &corev1.PersistentVolumeClaim{}
		if err := r.getOptional(ctx, inst, m.SourceClaim, source); err != nil {
			return ctrl.Result{}, err
		}
		desired := resources.FilestoreTargetPVC(inst, m.TargetClaim, m.TargetStorageClass, nilIfAbsent(source))
		return ctrl.Result{}, wrap("migration target claim", r.Applier.Client.Apply(ctx, desired, client.FieldOwner(resources.FieldManager)))

	case filestoremigration.RunCopy:
		s.progressing.message = fmt.Sprintf("migrating the filestore to storage class %q: starting copy Job %s", m.TargetStorageClass, m.JobName)
		job := resources.FilestoreCopyJob(resources.CopyInputs{
			Instance: inst, Name: m.JobName, Image: resources.MigrationImage(inst), Source: m.SourceClaim, Target: m.TargetClaim,
		})
		// Create-only, like the init Job: the name says what it does.
		return ctrl.Result{}, wrap("filestore copy Job", r.Applier.Client.Apply(ctx, job, client.FieldOwner(resources.FieldManager)))

	case filestoremigration.WaitCopy:
		s.progressing.message = fmt.Sprintf("migrating the filestore to storage class %q: Job %s copies %s to %s", m.TargetStorageClass, m.JobName, m.SourceClaim, m.TargetClaim)
		return ctrl.Result{}, nil

	case filestoremigration.Swap:
		return r.swapFilestore(ctx, s, status)

	case filestoremigration.Fail:
		return r.failMigration(ctx, s, status)

	case filestoremigration.DropTarget:
		s.progressing.message = fmt.Sprintf("removing claim %s of the failed filestore migration", m.TargetClaim)
		return ctrl.Result{RequeueAfter: requeueShort}, r.deleteClaim(ctx, inst, m.TargetClaim)

	case filestoremigration.Cleanup:
		busy, err := r.releaseClaim(ctx, inst, status.PreviousClaim)
		if err != nil || busy {
			return ctrl.Result{RequeueAfter: requeueShort}, err
		}
		if err := r.deleteClaim(ctx, inst, status.PreviousClaim); err != nil {
			return ctrl.Result{}, err
		}
		*status = filestoremigration.Apply(*status, action, filestoremigration.Inputs{}, metav1.Now())
		return ctrl.Result{}, r.persistFilestore(ctx, s, status)

	case filestoremigration.Forget:
		s.progressing = nil
		*status = filestoremigration.Apply(*status, action, filestoremigration.Inputs{}, metav1.Now())
		meta.RemoveStatusCondition(&inst.Status.Conditions, odoov1alpha2.ConditionFilestoreMigrated)
		return ctrl.Result{}, r.persistFilestore(ctx, s, status)
	}
	return ctrl.Result{}, nil
}

// startMigration records the migration as Copying. Leftovers of an earlier
// attempt under the same names (a failed copy, then the same class asked
// again) are removed first, so that every object named in a Copying status was
// created for it.
func (r *Reconciler) startMigration(ctx context.Context, s *scope, status *odoov1alpha2.FilestoreStatus) (ctrl.Result, error) {
	inst := s.instance
	class := inst.Spec.Filestore.StorageClass
	source := status.ClaimName
	target := resources.FilestoreTargetClaimName(inst, source, class)
	jobName := resources.FilestoreCopyJobName(inst, source, target)
	s.progressing.message = fmt.Sprintf("migrating the filestore to storage class %q", class)

	stale := false
	job := &batchv1.Job{}
	if err := r.getOptional(ctx, inst, jobName, job); err != nil {
		return ctrl.Result{}, err
	}
	if job.UID != "" {
		stale = true
		if err := client.IgnoreNotFound(r.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground))); err != nil {
			return ctrl.Result{}, wrap("removing an earlier copy Job", err)
		}
	}
	old := &corev1.PersistentVolumeClaim{}
	if err := r.getOptional(ctx, inst, target, old); err != nil {
		return ctrl.Result{}, err
	}
	if old.UID != "" {
		stale = true
		if err := r.deleteClaim(ctx, inst, target); err != nil {
			return ctrl.Result{}, err
		}
	}
	if stale {
		return ctrl.Result{RequeueAfter: requeueShort}, nil
	}

	*status = filestoremigration.Apply(*status, filestoremigration.Start,
		filestoremigration.Inputs{TargetStorageClass: class, TargetClaim: target, JobName: jobName}, metav1.Now())
	meta.SetStatusCondition(&inst.Status.Conditions, metav1.Condition{
		Type: odoov1alpha2.ConditionFilestoreMigrated, Status: metav1.ConditionUnknown,
		Reason: odoov1alpha2.ReasonFilestoreMigrating, Message: status.Migration.Message, ObservedGeneration: inst.Generation,
	})
	if err := r.persistFilestore(ctx, s, status); err != nil {
		return ctrl.Result{}, err
	}
	r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventFilestoreMigrationStarted, "MigrateFilestore",
		"migrating the filestore from storage class %q to %q: %s", status.StorageClass, class, status.Migration.Message)
	return ctrl.Result{}, nil
}

// swapFilestore switches the instance to the new claim and releases the
// tiers; the old claim is labelled and kept until the instance is Ready.
func (r *Reconciler) swapFilestore(ctx context.Context, s *scope, status *odoov1alpha2.FilestoreStatus) (ctrl.Result, error) {
	inst := s.instance
	m := status.Migration
	old := &corev1.PersistentVolumeClaim{}
	if err := r.getOptional(ctx, inst, m.SourceClaim, old); err != nil {
		return ctrl.Result{}, err
	}
	if old.UID != "" && old.Labels[odoov1alpha2.LabelFilestore] != "previous" {
		patch := client.MergeFrom(old.DeepCopy())
		if old.Labels == nil {
			old.Labels = map[string]string{}
		}
		old.Labels[odoov1alpha2.LabelFilestore] = "previous"
		if err := client.IgnoreNotFound(r.Patch(ctx, old, patch)); err != nil {
			return ctrl.Result{}, wrap("labelling the previous filestore claim", err)
		}
	}
	msg := filestoremigration.SwapMessage(*status)
	*status = filestoremigration.Apply(*status, filestoremigration.Swap, filestoremigration.Inputs{}, metav1.Now())
	meta.SetStatusCondition(&inst.Status.Conditions, metav1.Condition{
		Type: odoov1alpha2.ConditionFilestoreMigrated, Status: metav1.ConditionTrue,
		Reason: odoov1alpha2.ReasonFilestoreMigrated, Message: msg, ObservedGeneration: inst.Generation,
	})
	s.progressing = nil
	if err := r.persistFilestore(ctx, s, status); err != nil {
		return ctrl.Result{}, err
	}
	r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventFilestoreMigrationSucceeded, "MigrateFilestore", "%s", msg)
	return ctrl.Result{}, nil
}

// failMigration records the failure; the tiers come back on the old claim,
// and the half-written target is removed by the next step.
func (r *Reconciler) failMigration(ctx context.Context, s *scope, status *odoov1alpha2.FilestoreStatus) (ctrl.Result, error) {
	inst := s.instance
	m := status.Migration
	why := "the target claim " + m.TargetClaim + " disappeared"
	job := &batchv1.Job{}
	if err := r.getOptional(ctx, inst, m.JobName, job); err != nil {
		return ctrl.Result{}, err
	}
	if job.UID != "" && failedCondition(job) {
		var pods []corev1.Pod
		list := &corev1.PodList{}
		if err := r.APIReader.List(ctx, list, client.InNamespace(inst.Namespace), client.MatchingLabels{"job-name": m.JobName}); err == nil {
			pods = list.Items
		}
		why = resources.InitJobOutcome(job, pods).Message
	}
	*status = filestoremigration.Apply(*status, filestoremigration.Fail, filestoremigration.Inputs{Why: why}, metav1.Now())
	m = status.Migration
	meta.SetStatusCondition(&inst.Status.Conditions, metav1.Condition{
		Type: odoov1alpha2.ConditionFilestoreMigrated, Status: metav1.ConditionFalse,
		Reason: odoov1alpha2.ReasonFilestoreMigrationFailed, Message: m.Message, ObservedGeneration: inst.Generation,
	})
	s.progressing = nil
	if err := r.persistFilestore(ctx, s, status); err != nil {
		return ctrl.Result{}, err
	}
	r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.EventFilestoreMigrationFailed, "MigrateFilestore", "%s", m.Message)
	return ctrl.Result{RequeueAfter: requeueShort}, nil
}

// releaseClaim deletes the finished Jobs of the instance that mount claim (the
// init Job, the copy Job): a claim is not removed while any pod, even a
// completed one, refers to it. busy is true while a running Job mounts it.
func (r *Reconciler) releaseClaim(ctx context.Context, inst *odoov1alpha2.OdooInstance, claim string) (busy bool, err error) {
	jobs := &batchv1.JobList{}
	if err := r.List(ctx, jobs, client.InNamespace(inst.Namespace), client.MatchingLabels{odoov1alpha2.LabelInstance: inst.Name}); err != nil {
		return false, err
	}
	for i := range jobs.Items {
		job := &jobs.Items[i]
		if !ownedBy(job, inst) || !job.DeletionTimestamp.IsZero() || !podMountsClaim(job.Spec.Template.Spec, claim) {
			continue
		}
		if !resources.InitJobOutcome(job, nil).Done {
			busy = true
			continue
		}
		if err := client.IgnoreNotFound(r.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground))); err != nil {
			return false, wrap("removing Job "+job.Name+" that mounts claim "+claim, err)
		}
	}
	return busy, nil
}

func podMountsClaim(pod corev1.PodSpec, claim string) bool {
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
			return true
		}
	}
	return false
}

func (r *Reconciler) deleteClaim(ctx context.Context, inst *odoov1alpha2.OdooInstance, name string) error {
	pvc := &corev1.PersistentVolumeClaim{}
	if err := r.getOptional(ctx, inst, name, pvc); err != nil || pvc.UID == "" {
		return err
	}
	// Claims carry no owner reference since deletionPolicy decides their
	// fate (claims.go): the operator's labels for the instance say it is
	// its own; an owner reference says so for claims of earlier versions.
	if !ownedBy(pvc, inst) && !ownClaim(pvc, inst.Name) {
		return fmt.Errorf("claim %s is not the instance's; not deleting it", name)
	}
	r.Applier.Forget("PersistentVolumeClaim", client.ObjectKeyFromObject(pvc))
	return wrap("deleting claim "+name, client.IgnoreNotFound(r.Delete(ctx, pvc,
		client.Preconditions{UID: &pvc.UID})))
}

// persistFilestore writes status.filestore and the FilestoreMigrated
// condition at once, before the step that depends on them; the final status
// patch of the reconcile then has nothing left to say about them.
func (r *Reconciler) persistFilestore(ctx context.Context, s *scope, status *odoov1alpha2.FilestoreStatus) error {
	inst := s.instance
	inst.Status.Filestore = status.DeepCopy()
	base := s.before.DeepCopy()
	after := base.DeepCopy() // its own conditions slice: base must stay as read
	after.Status.Filestore = status.DeepCopy()
	if c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionFilestoreMigrated); c != nil {
		meta.SetStatusCondition(&after.Status.Conditions, *c)
	} else {
		meta.RemoveStatusCondition(&after.Status.Conditions, odoov1alpha2.ConditionFilestoreMigrated)
	}
	if err := operation.PatchStatus(ctx, r.Client, after, base); err != nil {
		return wrap("recording the filestore status", err)
	}
	// The reconcile's later writes build on this one.
	s.before.ResourceVersion, s.instance.ResourceVersion = after.ResourceVersion, after.ResourceVersion
	s.before.Status.Filestore = after.Status.Filestore.DeepCopy()
	s.before.Status.Conditions = after.Status.Conditions
	return nil
}
