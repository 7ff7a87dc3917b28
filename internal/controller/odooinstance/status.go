package odooinstance

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/logwatch"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// problem is something that keeps the instance from being Ready.
type problem struct {
	reason  string
	message string
}

// statusInputs is everything the status is computed from: what the reconcile
// observed and what went wrong. computeStatus turns it into the new status
// without side effects.
type statusInputs struct {
	instance *odoov1alpha2.OdooInstance
	web      *appsv1.Deployment
	cron     *appsv1.Deployment
	// stalled is a problem only the user can fix by changing the spec.
	stalled *problem
	// degraded are problems the operator retries.
	degraded []problem
	// reconcileErr is the error the phases returned, if any.
	reconcileErr error
	// hold keeps both tiers at 0 replicas (database not initialised yet, or
	// the instance is being deleted).
	hold bool
	// database is what the database phases found; nil when they did not run
	// (an earlier phase stopped the reconcile).
	database *databaseState
	// progressing is work that keeps the instance from being Ready while
	// nothing is wrong (a filestore migration).
	progressing *problem
	// stopWeb and stopCron keep one tier at 0 on purpose (maintenance mode
	// during an upgrade, a restore).
	stopWeb, stopCron bool
	// health is the log sampler's picture; healthEnabled says whether logs
	// are sampled at all.
	health        *logwatch.Health
	healthEnabled bool
	// rollback is a new rollback; clearRollback ends the one in force.
	rollback      *odoov1alpha2.RollbackStatus
	clearRollback bool
	// rolloutTime is set when web was just given a new image.
	rolloutTime *metav1.Time
	// backups are the instance's OdooBackupJobs; backupsObserved says
	// whether this reconcile read them.
	backups         []odoov1alpha2.OdooBackupJob
	backupsObserved bool
}

// databaseState is the outcome of the database and init phases.
type databaseState struct {
	cluster, name string
	initialized   bool
	init          initState
	initJob       string
	// problem is set when the database cannot be used right now (the
	// message is in statusInputs.degraded).
	problem bool
	legacy  bool
	// legacyMessage explains how to leave the legacy connection.
	legacyMessage string
}

// computeStatus returns the status for in. Conditions keep their
// lastTransitionTime when their status does not change.
func computeStatus(in statusInputs) odoov1alpha2.OdooInstanceStatus {
	inst := in.instance
	status := *inst.Status.DeepCopy()
	gen := inst.Generation

	status.URL = inst.URL()
	status.Selector = labels.SelectorFromSet(resources.SelectorLabels(inst, resources.ComponentWeb)).String()
	status.ReadyReplicas = 0
	if in.web != nil {
		status.ReadyReplicas = in.web.Status.ReadyReplicas
	}

	webReplicas, cronReplicas := inst.WebReplicas(), inst.CronReplicas()
	if in.hold || in.stopWeb {
		webReplicas = 0
	}
	if in.hold || in.stopCron {
		cronReplicas = 0
	}
	webOK := setDeploymentCondition(&status, odoov1alpha2.ConditionWebAvailable, in.web, webReplicas, gen)
	cronOK := setDeploymentCondition(&status, odoov1alpha2.ConditionCronAvailable, in.cron, cronReplicas, gen)
	setImages(&status, in.web, in.cron, webOK, cronOK)
	setWantedImage(&status, inst)
	dbReady := setDatabase(&status, in.database, gen)
	setUpgradeCondition(&status, gen)
	setHealth(&status, in.health, in.healthEnabled, gen)
	setRollback(&status, in, gen)
	setBackupCondition(&status, in)
	setStalled(&status, in.stalled, gen)
	setDegraded(&status, in, gen)
	act := currentActivity(inst, &status, in.web, webOK)
	setReady(&status, in, act, webOK && cronOK && dbReady, gen)
	status.Phase = derivePhase(&status, inst, act)
	if in.reconcileErr == nil {
		status.ObservedGeneration = gen
	}
	return status
}

// setDatabase records the database in status, sets DatabaseReady and the
// legacy-connection condition, and returns whether the database is usable.
func setDatabase(status *odoov1alpha2.OdooInstanceStatus, db *databaseState, gen int64) bool {
	if db == nil {
		c := meta.FindStatusCondition(status.Conditions, odoov1alpha2.ConditionDatabaseReady)
		return c != nil && c.Status == metav1.ConditionTrue
	}
	if status.Database == nil {
		status.Database = &odoov1alpha2.DatabaseStatus{}
	}
	status.Database.Cluster = db.cluster
	status.Database.Name = db.name
	status.Database.Initialized = db.initialized
	if db.legacy {
		meta.SetStatusCondition(&status.Conditions, metav1.Condition{
			Type: odoov1alpha2.ConditionLegacyDatabaseConnection, Status: metav1.ConditionTrue,
			Reason: odoov1alpha2.ReasonClustersSecretMissing, Message: db.legacyMessage, ObservedGeneration: gen,
		})
	} else {
		meta.RemoveStatusCondition(&status.Conditions, odoov1alpha2.ConditionLegacyDatabaseConnection)
	}
	cond := metav1.Condition{Type: odoov1alpha2.ConditionDatabaseReady, Status: metav1.ConditionFalse, ObservedGeneration: gen}
	switch {
	case db.problem:
		cond.Reason, cond.Message = odoov1alpha2.ReasonDatabaseError, fmt.Sprintf("database %q on cluster %q cannot be used; see the Degraded condition", db.name, db.cluster)
	case db.init == initFailed:
		cond.Reason, cond.Message = odoov1alpha2.ReasonInitFailed, fmt.Sprintf("init Job %s failed; see the Degraded condition", db.initJob)
	case !db.initialized:
		cond.Reason, cond.Message = odoov1alpha2.ReasonInitializing, fmt.Sprintf("database %q exists on cluster %q; init Job %s installs the base modules", db.name, db.cluster, db.initJob)
	default:
		cond.Status, cond.Reason = metav1.ConditionTrue, odoov1alpha2.ReasonDatabaseReady
		cond.Message = fmt.Sprintf("database %q on cluster %q is initialised", db.name, db.cluster)
	}
	meta.SetStatusCondition(&status.Conditions, cond)
	return cond.Status == metav1.ConditionTrue
}

// deploymentState says whether a Deployment runs its current template with all
// desired replicas available, and if not, why.
func deploymentState(d *appsv1.Deployment, desired int32) (ok bool, reason, message string) {
	if d == nil {
		return false, odoov1alpha2.ReasonReconciling, "the Deployment does not exist yet"
	}
	if d.Generation != d.Status.ObservedGeneration {
		return false, odoov1alpha2.ReasonRollingOut, fmt.Sprintf("Deployment %s: waiting for the Deployment controller to observe generation %d", d.Name, d.Generation)
	}
	if c := progressDeadlineExceeded(d); c != nil {
		return false, odoov1alpha2.ReasonProgressDeadlineExceeded, fmt.Sprintf("Deployment %s: %s", d.Name, c.Message)
	}
	if desired == 0 {
		if d.Status.Replicas > 0 {
			return false, odoov1alpha2.ReasonRollingOut, fmt.Sprintf("Deployment %s: %d pods still terminating", d.Name, d.Status.Replicas)
		}
		return true, odoov1alpha2.ReasonScaledToZero, fmt.Sprintf("Deployment %s is scaled to 0", d.Name)
	}
	switch {
	case d.Status.UpdatedReplicas < desired:
		return false, odoov1alpha2.ReasonRollingOut, fmt.Sprintf("Deployment %s: %d of %d pods updated", d.Name, d.Status.UpdatedReplicas, desired)
	case d.Status.Replicas > d.Status.UpdatedReplicas:
		return false, odoov1alpha2.ReasonRollingOut, fmt.Sprintf("Deployment %s: %d old pods terminating", d.Name, d.Status.Replicas-d.Status.UpdatedReplicas)
	case d.Status.AvailableReplicas < desired:
		return false, odoov1alpha2.ReasonRollingOut, fmt.Sprintf("Deployment %s: %d of %d pods available", d.Name, d.Status.AvailableReplicas, desired)
	}
	return true, odoov1alpha2.ReasonAvailable, fmt.Sprintf("Deployment %s: %d of %d pods available", d.Name, d.Status.AvailableReplicas, desired)
}

// setDeploymentCondition sets WebAvailable or CronAvailable and returns whether
// the Deployment is settled (all replicas available, or scaled to 0 on purpose).
func setDeploymentCondition(status *odoov1alpha2.OdooInstanceStatus, condType string, d *appsv1.Deployment, desired int32, gen int64) bool {
	ok, reason, message := deploymentState(d, desired)
	cond := metav1.ConditionFalse
	if ok && desired > 0 {
		cond = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type: condType, Status: cond, Reason: reason, Message: message, ObservedGeneration: gen,
	})
	return ok
}

// setImages records the images that actually run once a rollout settled, and
// keeps the one before as the rollback target.
func setImages(status *odoov1alpha2.OdooInstanceStatus, web, cron *appsv1.Deployment, webOK, cronOK bool) {
	if webOK && web != nil {
		if image := containerImage(web); image != "" && image != status.Deployment.CurrentImage {
			if status.Deployment.CurrentImage != "" {
				status.Deployment.PreviousImage = status.Deployment.CurrentImage
			}
			status.Deployment.CurrentImage = image
		}
	}
	if cronOK && cron != nil {
		if image := containerImage(cron); image != "" && image != status.Deployment.CronImage {
			if status.Deployment.CronImage != "" {
				status.Deployment.PreviousCronImage = status.Deployment.CronImage
			}
			status.Deployment.CronImage = image
		}
	}
}

// setWantedImage shows spec.image beside the image that serves while the two
// differ (a rollout, an upgrade, a failed upgrade, a rollback).
func setWantedImage(status *odoov1alpha2.OdooInstanceStatus, inst *odoov1alpha2.OdooInstance) {
	status.Deployment.WantedImage = ""
	if inst.Spec.Image != status.Deployment.CurrentImage {
		status.Deployment.WantedImage = inst.Spec.Image
	}
}

func containerImage(d *appsv1.Deployment) string {
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == resources.ContainerName {
			return c.Image
		}
	}
	return ""
}

func setStalled(status *odoov1alpha2.OdooInstanceStatus, stalled *problem, gen int64) {
	if stalled == nil {
		meta.RemoveStatusCondition(&status.Conditions, odoov1alpha2.ConditionStalled)
		return
	}
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type: odoov1alpha2.ConditionStalled, Status: metav1.ConditionTrue,
		Reason: stalled.reason, Message: stalled.message, ObservedGeneration: gen,
	})
}

func setDegraded(status *odoov1alpha2.OdooInstanceStatus, in statusInputs, gen int64) {
	problems := slices.Clone(in.degraded)
	if in.reconcileErr != nil {
		problems = append(problems, problem{reason: odoov1alpha2.ReasonApplyFailed, message: in.reconcileErr.Error()})
	}
	for _, c := range []*metav1.Condition{
		meta.FindStatusCondition(status.Conditions, odoov1alpha2.ConditionWebAvailable),
		meta.FindStatusCondition(status.Conditions, odoov1alpha2.ConditionCronAvailable),
	} {
		if c != nil && c.Reason == odoov1alpha2.ReasonProgressDeadlineExceeded {
			problems = append(problems, problem{reason: c.Reason, message: c.Message})
		}
	}
	if len(problems) == 0 {
		meta.SetStatusCondition(&status.Conditions, metav1.Condition{
			Type: odoov1alpha2.ConditionDegraded, Status: metav1.ConditionFalse,
			Reason: odoov1alpha2.ReasonAsExpected, Message: "no problem found", ObservedGeneration: gen,
		})
		return
	}
	message := problems[0].message
	for _, p := range problems[1:] {
		message += "; " + p.message
	}
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type: odoov1alpha2.ConditionDegraded, Status: metav1.ConditionTrue,
		Reason: problems[0].reason, Message: message, ObservedGeneration: gen,
	})
}

// setReady sets Ready and Progressing: Ready when both tiers settled, a web
// pod serves (unless spec.replicas is 0) and nothing is wrong, otherwise
// Progressing while the operator can still get there by itself. A tier held
// at 0 by an operation (a restore swapping the database, a filestore copy,
// maintenance during an upgrade) is settled but serves nothing: not Ready.
func setReady(status *odoov1alpha2.OdooInstanceStatus, in statusInputs, act *activity, settled bool, gen int64) {
	degraded := meta.IsStatusConditionTrue(status.Conditions, odoov1alpha2.ConditionDegraded)
	stalled := in.stalled != nil
	serving := in.instance.WebReplicas() == 0 || status.ReadyReplicas > 0
	switch {
	case stalled:
		setReadyProgressing(status, gen, metav1.ConditionFalse, in.stalled.reason, in.stalled.message, metav1.ConditionFalse)
	case degraded:
		c := meta.FindStatusCondition(status.Conditions, odoov1alpha2.ConditionDegraded)
		setReadyProgressing(status, gen, metav1.ConditionFalse, c.Reason, c.Message, metav1.ConditionTrue)
	case in.progressing != nil:
		setReadyProgressing(status, gen, metav1.ConditionFalse, in.progressing.reason, in.progressing.message, metav1.ConditionTrue)
	case act != nil && !serving:
		setReadyProgressing(status, gen, metav1.ConditionFalse, act.reason, act.message, metav1.ConditionTrue)
	case !settled:
		reason, message := odoov1alpha2.ReasonRollingOut, "rolling out"
		for _, t := range []string{odoov1alpha2.ConditionDatabaseReady, odoov1alpha2.ConditionWebAvailable, odoov1alpha2.ConditionCronAvailable} {
			if c := meta.FindStatusCondition(status.Conditions, t); c != nil && c.Status != metav1.ConditionTrue && c.Reason != odoov1alpha2.ReasonScaledToZero {
				reason, message = c.Reason, c.Message
				break
			}
		}
		setReadyProgressing(status, gen, metav1.ConditionFalse, reason, message, metav1.ConditionTrue)
	case !serving:
		setReadyProgressing(status, gen, metav1.ConditionFalse, odoov1alpha2.ReasonNotServing,
			fmt.Sprintf("no web pod is ready; spec.replicas asks for %d", in.instance.WebReplicas()), metav1.ConditionTrue)
	default:
		message := fmt.Sprintf("%d web and %d cron pods available", in.instance.WebReplicas(), in.instance.CronReplicas())
		setReadyProgressing(status, gen, metav1.ConditionTrue, odoov1alpha2.ReasonAvailable, message, metav1.ConditionFalse)
	}
}

func setReadyProgressing(status *odoov1alpha2.OdooInstanceStatus, gen int64, ready metav1.ConditionStatus, reason, message string, progressing metav1.ConditionStatus) {
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type: odoov1alpha2.ConditionReady, Status: ready, Reason: reason, Message: message, ObservedGeneration: gen,
	})
	progReason, progMessage := odoov1alpha2.ReasonReconciled, "the instance matches its spec"
	if progressing == metav1.ConditionTrue {
		progReason, progMessage = reason, message
	}
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type: odoov1alpha2.ConditionProgressing, Status: progressing, Reason: progReason, Message: progMessage, ObservedGeneration: gen,
	})
}

// derivePhase summarises the conditions and the activity in one word for
// `kubectl get odoo`. An operation in progress (upgrade, restore, migration,
// rollback) names the phase, even when it also made the instance Degraded:
// the Ready condition carries the problem. An instance whose web pods serve
// stays Running during a plain rollout.
func derivePhase(status *odoov1alpha2.OdooInstanceStatus, inst *odoov1alpha2.OdooInstance, act *activity) odoov1alpha2.Phase {
	ready := meta.IsStatusConditionTrue(status.Conditions, odoov1alpha2.ConditionReady)
	switch {
	case meta.IsStatusConditionTrue(status.Conditions, odoov1alpha2.ConditionStalled):
		return odoov1alpha2.PhaseFailed
	case act != nil:
		return act.phase
	case meta.IsStatusConditionTrue(status.Conditions, odoov1alpha2.ConditionDegraded):
		return odoov1alpha2.PhaseDegraded
	case status.Database != nil && !status.Database.Initialized:
		return odoov1alpha2.PhaseInitializing
	case inst.WebReplicas() == 0 && ready:
		return odoov1alpha2.PhaseStopped
	case ready, status.ReadyReplicas > 0:
		return odoov1alpha2.PhaseRunning
	default:
		return odoov1alpha2.PhasePending
	}
}

// setUpgradeCondition mirrors status.upgrade into the UpgradeSucceeded
// condition, absent until the first upgrade.
func setUpgradeCondition(status *odoov1alpha2.OdooInstanceStatus, gen int64) {
	st := status.Upgrade
	if st == nil || st.Phase == "" {
		meta.RemoveStatusCondition(&status.Conditions, odoov1alpha2.ConditionUpgradeSucceeded)
		return
	}
	cond := metav1.Condition{Type: odoov1alpha2.ConditionUpgradeSucceeded, ObservedGeneration: gen, Message: st.Message}
	switch st.Phase {
	case odoov1alpha2.UpgradeSuccess:
		cond.Status, cond.Reason = metav1.ConditionTrue, odoov1alpha2.ReasonUpgradeSucceeded
	case odoov1alpha2.UpgradeFailed:
		cond.Status, cond.Reason = metav1.ConditionFalse, odoov1alpha2.ReasonUpgradeFailed
		if !st.Failed {
			cond.Reason = odoov1alpha2.ReasonUpgradeCancelled
		}
	default:
		cond.Status, cond.Reason = metav1.ConditionUnknown, odoov1alpha2.ReasonUpgrading
	}
	if cond.Message == "" {
		cond.Message = string(st.Phase)
	}
	meta.SetStatusCondition(&status.Conditions, cond)
}

// setRollback records a new rollback, ends one when spec.image moved on, and
// mirrors it into the RolledBack condition.
func setRollback(status *odoov1alpha2.OdooInstanceStatus, in statusInputs, gen int64) {
	if in.rolloutTime != nil {
		status.Deployment.RolloutTime = in.rolloutTime
	}
	switch {
	case in.rollback != nil:
		status.Deployment.Rollback = in.rollback
	case in.clearRollback:
		status.Deployment.Rollback = nil
	}
	rb := status.Deployment.Rollback
	if rb == nil {
		meta.RemoveStatusCondition(&status.Conditions, odoov1alpha2.ConditionRolledBack)
		return
	}
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: odoov1alpha2.ConditionRolledBack, Status: metav1.ConditionTrue,
		Reason: rb.Reason, Message: rb.Message, ObservedGeneration: gen})
}
