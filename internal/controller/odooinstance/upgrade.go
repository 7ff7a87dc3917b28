package odooinstance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/tiers"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// upgradeWait is how often a waiting upgrade step looks again, besides the
// watch events of its Jobs and Deployments.
const upgradeWait = 5 * time.Second

// snapshotKey is the key of the module snapshot ConfigMap.
const snapshotKey = "modules.json"

// reconcileUpgrade runs the guarded module upgrade one step per reconcile
// (see package upgrade) and decides which images web and cron run.
func (r *Reconciler) reconcileUpgrade(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	o, err := r.observeUpgrade(ctx, s)
	if err != nil {
		s.serving = upgrade.Serve(inst.Status.Upgrade, o)
		return ctrl.Result{}, err
	}
	st := inst.Status.Upgrade
	action := upgrade.Decide(st, o)
	if s.dbProblem && action.Kind != upgrade.None {
		// Nothing is decided on a database that cannot be reached.
		action = upgrade.Action{Kind: upgrade.Wait}
	}
	log.FromContext(ctx).V(1).Info("upgrade", "step", stepOf(st), "action", action.Kind)

	if changesStatus(action.Kind) {
		if stale, err := r.upgradeStatusStale(ctx, inst); err != nil || stale {
			s.stop, s.staleStatus = stale, stale
			s.serving = upgrade.Serve(st, o)
			return ctrl.Result{RequeueAfter: requeueShort}, err
		}
		if action.Kind == upgrade.FinishFailed && st != nil && st.Step == odoov1alpha2.UpgradeStepRestore &&
			o.RestoreJob == upgrade.JobFailed && !o.Swapped {
			// Dropped before the failure is stored: a drop that fails is
			// retried with the whole decision.
			note, err := r.dropUpgradeRestoreTarget(ctx, s, st)
			if err != nil {
				return ctrl.Result{}, err
			}
			action.Message += note
		}
		if action.Kind == upgrade.Start {
			// The lock before the upgrade is recorded: another operation
			// that took it since the check above makes the upgrade wait.
			kind := (&odoov1alpha2.UpgradeStatus{Trigger: action.Trigger}).OperationKind()
			if d, err := r.lockStep(ctx, s, kind, nil); err != nil || !d.Go() {
				s.serving = upgrade.Serve(st, o)
				return ctrl.Result{RequeueAfter: upgradeWait}, err
			}
		}
		next := upgrade.Apply(st, action, o, metav1.Now())
		if action.Kind == upgrade.Start {
			next.JobName = resources.UpgradeJobName(inst, next)
			if inst.BackupBeforeUpgrade() {
				next.RestorePointBackup = resources.RestorePointBackupName(inst, next)
			}
		}
		if err := r.persistUpgrade(ctx, s, next); err != nil {
			// Nothing was stored: serve as the stored status says.
			s.serving = upgrade.Serve(st, o)
			return ctrl.Result{}, err
		}
		r.emitUpgradeEvent(inst, st, next, action)
		st = next
	}
	s.serving = upgrade.Serve(st, o)
	// status.operation follows the upgrade's step; released once it ended.
	if err := r.upgradeLock(ctx, s, st); err != nil {
		return ctrl.Result{}, err
	}
	res, err := r.runUpgradeAction(ctx, s, st, action)
	if upgrade.InFlight(st) && res.RequeueAfter == 0 {
		res.RequeueAfter = upgradeWait
	}
	return res, err
}

func stepOf(st *odoov1alpha2.UpgradeStatus) odoov1alpha2.UpgradeStep {
	if st == nil {
		return ""
	}
	return st.Step
}

// changesStatus says whether the action's status is stored before it is
// carried out.
func changesStatus(k upgrade.Kind) bool {
	switch k {
	case upgrade.Start, upgrade.Advance, upgrade.Succeed, upgrade.Fail, upgrade.Cancel, upgrade.FinishFailed:
		return true
	}
	return false
}

// observeUpgrade reads what the current step needs, and nothing more: a
// steady instance costs no extra read.
func (r *Reconciler) observeUpgrade(ctx context.Context, s *scope) (upgrade.Observed, error) {
	inst := s.instance
	web, cron, err := r.currentDeployments(ctx, s)
	if err != nil {
		return upgrade.Observed{}, err
	}
	o := upgrade.Observed{
		Initialized: s.initialized || initialized(inst),
		// Another operation holding the instance's lock (a restore, a
		// backup, a filestore migration) keeps a new upgrade from starting.
		Busy:             !operation.Check(inst, odoov1alpha2.OperationUpgrade, inst.Name).Go(),
		SpecImage:        inst.Spec.Image,
		SpecCronImage:    inst.CronImage(),
		RunningImage:     runningImage(web, inst.Status.Deployment.CurrentImage, inst.Spec.Image),
		RunningCronImage: runningImage(cron, inst.Status.Deployment.CronImage, inst.CronImage()),
		AutoUpgrade:      inst.AutoUpgradeEnabled(),
		MaintenanceMode:  inst.MaintenanceMode(),
		BeforeUpgrade:    inst.BackupBeforeUpgrade(),
		OnFailure:        inst.UpgradeOnFailure(),
		UpgradeNow:       inst.Annotations[odoov1alpha2.AnnotationUpgradeNow],
		Request:          s.upgradeRequest,
		RolledBack:       rolledBack(inst),
		ModulesFresh:     modulesFresh(inst),
	}
	if m := inst.Status.Modules; m != nil {
		o.InstallMissing = m.Missing
	}
	st := inst.Status.Upgrade
	if !upgrade.InFlight(st) {
		return o, nil
	}
	switch st.Step {
	case odoov1alpha2.UpgradeStepSnapshot:
		o.SnapshotTaken, err = r.exists(ctx, inst, resources.ModuleSnapshotName(inst, st), &corev1.ConfigMap{})
		if err == nil && o.SnapshotTaken && r.preflightNeeded(st) {
			o.PreflightNeeded = true
			o.Preflight, o.Failure, err = r.preflightState(ctx, s, st)
		}
	case odoov1alpha2.UpgradeStepStopCron:
		o.CronStopped, err = r.stopped(ctx, inst, []*appsv1.Deployment{nilIfAbsent(cron)}, resources.ComponentCron)
	case odoov1alpha2.UpgradeStepRestorePoint:
		o.RestorePoint, o.Failure, err = r.restorePointState(ctx, inst, st)
	case odoov1alpha2.UpgradeStepUpgrade:
		o.UpgradeJob, err = r.jobState(ctx, inst, st.JobName)
	case odoov1alpha2.UpgradeStepVerify:
		o.Verdict, err = r.judgeUpgrade(ctx, s, st)
	case odoov1alpha2.UpgradeStepRollout:
		o.WebRolledOut = rolledOut(web, st.ImageAttempted, inst.WebReplicas())
		if !o.WebRolledOut {
			o.Failure, err = r.rolloutFailure(ctx, inst, web, st)
		}
	case odoov1alpha2.UpgradeStepRestore:
		err = r.observeRestore(ctx, s, st, &o, web, cron)
	}
	return o, err
}

// runningImage is the image a Deployment's template carries: what the
// operator last chose to run.
func runningImage(d *appsv1.Deployment, recorded, spec string) string {
	if d.UID != "" {
		if image := containerImage(d); image != "" {
			return image
		}
	}
	if recorded != "" {
		return recorded
	}
	return spec
}

// rolledOut is true when the web Deployment runs image with every replica
// updated and available.
func rolledOut(d *appsv1.Deployment, image string, replicas int32) bool {
	if d.UID == "" || containerImage(d) != image || d.Status.ObservedGeneration != d.Generation {
		return false
	}
	return d.Status.UpdatedReplicas >= replicas && d.Status.AvailableReplicas >= replicas && d.Status.Replicas == d.Status.UpdatedReplicas
}

func (r *Reconciler) exists(ctx context.Context, inst *odoov1alpha2.OdooInstance, name string, obj client.Object) (bool, error) {
	if err := r.getOptional(ctx, inst, name, obj); err != nil {
		return false, err
	}
	return obj.GetUID() != "", nil
}

// jobState reads a Job from the API server: a Job created a moment ago may
// not be in the cache yet, and a second create must never be attempted on
// the strength of a stale cache.
func (r *Reconciler) jobState(ctx context.Context, inst *odoov1alpha2.OdooInstance, name string) (upgrade.JobState, error) {
	job := &batchv1.Job{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: inst.Namespace, Name: name}, job)
	switch {
	case apierrors.IsNotFound(err):
		return upgrade.JobAbsent, nil
	case err != nil:
		return upgrade.JobAbsent, err
	}
	return datajob.OutcomeOf(job), nil
}

// stopped is tiers.Stopped with the operator's uncached reader.
func (r *Reconciler) stopped(ctx context.Context, inst *odoov1alpha2.OdooInstance, deployments []*appsv1.Deployment, components ...string) (bool, error) {
	return tiers.Stopped(ctx, r.APIReader, inst, deployments, components...)
}

// upgradeStatusStale is true when the cache's status.upgrade is older than the
// stored one: deciding on it could repeat a step.
func (r *Reconciler) upgradeStatusStale(ctx context.Context, inst *odoov1alpha2.OdooInstance) (bool, error) {
	live := &odoov1alpha2.OdooInstance{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(inst), live); err != nil {
		return false, err
	}
	return !equality.Semantic.DeepEqual(live.Status.Upgrade, inst.Status.Upgrade), nil
}

// persistUpgrade writes status.upgrade at once, before the step that depends
// on it.
func (r *Reconciler) persistUpgrade(ctx context.Context, s *scope, next *odoov1alpha2.UpgradeStatus) error {
	base := s.before.DeepCopy()
	after := base.DeepCopy()
	after.Status.Upgrade = next.DeepCopy()
	if err := operation.PatchStatus(ctx, r.Client, after, base); err != nil {
		return wrap("recording the upgrade status", err)
	}
	// The reconcile's later writes build on this one.
	s.before.ResourceVersion, s.instance.ResourceVersion = after.ResourceVersion, after.ResourceVersion
	s.before.Status.Upgrade = next.DeepCopy()
	s.instance.Status.Upgrade = next.DeepCopy()
	return nil
}

func (r *Reconciler) emitUpgradeEvent(inst *odoov1alpha2.OdooInstance, before, after *odoov1alpha2.UpgradeStatus, a upgrade.Action) {
	switch {
	case a.Kind == upgrade.Start:
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventUpgradeStarted, "Upgrade",
			"upgrading modules (%s) with %s; %s keeps serving; Job %s", resources.UpgradeModules(after.Modules), after.ImageAttempted, after.FromImage, after.JobName)
	case a.Kind == upgrade.Succeed:
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventUpgradeSucceeded, "Upgrade",
			"upgrade to %s succeeded in %s: %s", after.ImageAttempted, after.Duration, after.Message)
	case a.Kind == upgrade.Cancel:
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventUpgradeCancelled, "Upgrade", "%s", after.Message)
	case after.Phase == odoov1alpha2.UpgradeFailed && (before == nil || before.Phase != odoov1alpha2.UpgradeFailed):
		r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.EventUpgradeFailed, "Upgrade",
			"%s", failureText(after, 900))
	case a.Kind == upgrade.Fail && after.Step == odoov1alpha2.UpgradeStepRestore:
		r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.EventUpgradeFailed, "Upgrade",
			"restoring the restore point backup %s: %s", after.RestorePointBackup, failureText(after, 800))
	}
}

// failureText is the failure message, which the verdict already starts with
// "upgrade to <image> failed:"; other failures (a cancel, a restore point that
// failed) get that prefix here.
func failureText(st *odoov1alpha2.UpgradeStatus, n int) string {
	msg := st.Message
	if prefix := "upgrade to " + st.ImageAttempted + " failed"; !strings.HasPrefix(msg, prefix) {
		msg = prefix + ": " + msg
	}
	return truncate(msg, n)
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// runUpgradeAction carries out the side effect of the action, once its status
// is stored. Every effect is idempotent: objects have deterministic names and
// are created only when absent.
func (r *Reconciler) runUpgradeAction(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus, a upgrade.Action) (ctrl.Result, error) {
	switch a.Kind {
	case upgrade.TakeSnapshot:
		return r.takeModuleSnapshot(ctx, s, st)
	case upgrade.CreatePreflightJob:
		return r.createPreflightJob(ctx, s, st)
	case upgrade.CreateRestorePointBackup:
		return ctrl.Result{}, r.createRestorePointBackup(ctx, s, st)
	case upgrade.CreateUpgradeJob:
		return ctrl.Result{}, r.createUpgradeJob(ctx, s, st)
	case upgrade.Cancel:
		return ctrl.Result{}, r.deleteUnfinishedRestorePoint(ctx, s.instance, st)
	case upgrade.CreateRestoreJob:
		return ctrl.Result{}, r.createRestoreJob(ctx, s, st)
	case upgrade.Swap:
		return ctrl.Result{}, r.swapRestored(ctx, s, st)
	case upgrade.Wait:
		return ctrl.Result{RequeueAfter: upgradeWait}, nil
	}
	return ctrl.Result{}, nil
}

// takeModuleSnapshot records the module versions before the upgrade in a
// ConfigMap (names and versions only). A database without Odoo's module table
// fails the upgrade before anything was touched.
func (r *Reconciler) takeModuleSnapshot(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus) (ctrl.Result, error) {
	inst := s.instance
	var modules []dbtools.Module
	err := r.Databases.WithTenantDatabase(ctx, s.cluster, s.tenantLogin(), s.dbName, func(conn *pgx.Conn) error {
		var err error
		modules, err = dbtools.ReadModules(ctx, conn)
		return err
	})
	if errors.Is(err, dbtools.ErrNoModuleTable) {
		return ctrl.Result{}, r.failUpgrade(ctx, s, st, fmt.Sprintf("cannot record the module versions of database %q: %v; the database was not touched", s.dbName, err))
	}
	if err != nil {
		return ctrl.Result{}, wrap("recording the module versions", err)
	}
	data, err := json.Marshal(modules)
	if err != nil {
		return ctrl.Result{}, err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: resources.ModuleSnapshotName(inst, st), Namespace: inst.Namespace,
			Labels:          resources.Labels(inst, "upgrade"),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(inst, odoov1alpha2.GroupVersion.WithKind("OdooInstance"))},
		},
		Data: map[string]string{snapshotKey: string(data)},
	}
	if err := r.Create(ctx, cm); err != nil && !apierrors.IsAlreadyExists(err) {
		return ctrl.Result{}, wrap("module snapshot ConfigMap", err)
	}
	return ctrl.Result{RequeueAfter: time.Millisecond}, nil
}

// failUpgrade stores a failure found while carrying out a step.
func (r *Reconciler) failUpgrade(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus, message string) error {
	a := upgrade.Action{Kind: upgrade.Fail, Message: message}
	next := upgrade.Apply(st, a, upgrade.Observed{OnFailure: s.instance.UpgradeOnFailure()}, metav1.Now())
	if err := r.persistUpgrade(ctx, s, next); err != nil {
		return err
	}
	r.emitUpgradeEvent(s.instance, st, next, a)
	return nil
}

func (r *Reconciler) readSnapshot(ctx context.Context, inst *odoov1alpha2.OdooInstance, st *odoov1alpha2.UpgradeStatus) ([]dbtools.Module, error) {
	cm := &corev1.ConfigMap{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: inst.Namespace, Name: resources.ModuleSnapshotName(inst, st)}, cm); err != nil {
		return nil, wrap("module snapshot", err)
	}
	var modules []dbtools.Module
	if err := json.Unmarshal([]byte(cm.Data[snapshotKey]), &modules); err != nil {
		return nil, fmt.Errorf("module snapshot %s: %w", cm.Name, err)
	}
	return modules, nil
}

// createJob applies a Job that does not exist yet: effectively create-only,
// since a Job's template is immutable and its name says what it does.
func (r *Reconciler) createJob(ctx context.Context, what string, desired runtime.ApplyConfiguration) error {
	return wrap(what, r.Applier.Client.Apply(ctx, desired, client.FieldOwner(resources.FieldManager)))
}

func (r *Reconciler) createUpgradeJob(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus) error {
	inst := s.instance
	desired := resources.UpgradeJob(resources.UpgradeInputs{
		Instance: inst, Upgrade: st, Database: s.dbName, ConfHash: s.confHash,
		FilestoreClaim: resources.FilestoreClaimName(inst), Timeout: inst.UpgradeTimeout(), DBCA: s.cluster.CACert != "",
	})
	return r.createJob(ctx, "upgrade Job", desired)
}

// dataJobInputs are the connection and images of a Job of `odoo-operator
// data` on database of the instance's cluster.
func (r *Reconciler) dataJobInputs(ctx context.Context, s *scope, database string) (resources.DataJobInputs, error) {
	major, err := r.Databases.ServerMajorVersion(ctx, s.cluster)
	if err != nil {
		return resources.DataJobInputs{}, wrap("PostgreSQL server version", err)
	}
	return resources.DataJobInputs{
		Instance: s.instance, OperatorImage: r.Images.Operator, ClientImage: r.Images.postgresClient(major),
		Host: s.cluster.Host, Port: s.cluster.Port, SSLMode: s.cluster.ClientSSLMode(), DBCA: s.cluster.CACert != "", Database: database,
		Deadline: r.DataJobDeadline,
	}, nil
}

// rolledBack is true while an automatic rollback holds spec.image away.
func rolledBack(inst *odoov1alpha2.OdooInstance) bool {
	rb := inst.Status.Deployment.Rollback
	return rb != nil && rb.FromImage == inst.Spec.Image
}

// rolloutFailure explains why the upgraded image cannot roll out (the web
// Deployment's progress deadline passed, or its pods crash-loop), "" while it
// still may. The upgrade then fails like any other and its policy applies:
// the database was already upgraded by the Job.
func (r *Reconciler) rolloutFailure(ctx context.Context, inst *odoov1alpha2.OdooInstance, web *appsv1.Deployment, st *odoov1alpha2.UpgradeStatus) (string, error) {
	if web.UID == "" || containerImage(web) != st.ImageAttempted {
		return "", nil
	}
	if progressDeadlineExceeded(web) != nil {
		return fmt.Sprintf("the modules were upgraded but %s did not roll out: the web Deployment exceeded its progress deadline", st.ImageAttempted), nil
	}
	crashLooping, _, err := r.misbehavingPods(ctx, inst, st.ImageAttempted, time.Now(), time.Now())
	if err != nil || crashLooping == "" {
		return "", err
	}
	return fmt.Sprintf("the modules were upgraded but %s did not roll out: pod %s crash-loops", st.ImageAttempted, crashLooping), nil
}
