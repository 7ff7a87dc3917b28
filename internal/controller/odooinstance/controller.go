// Package odooinstance reconciles OdooInstance objects into their database
// credentials, odoo.conf, filestore, web and cron Deployments, Service and
// Ingress.
package odooinstance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/egress"
	"github.com/odoo-operator/odoo-operator/internal/logwatch"
	"github.com/odoo-operator/odoo-operator/internal/notify"
	"github.com/odoo-operator/odoo-operator/internal/observe"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/ssa"
)

// Reconciler reconciles OdooInstance objects.
type Reconciler struct {
	client.Client
	// APIReader reads objects the cache does not hold (user Secrets).
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	Applier   *ssa.Applier
	// Databases manages roles and databases on PostgreSQL.
	Databases Databases
	// Clusters locates the clusters Secret and the legacy connection.
	Clusters ClusterSource
	// Health pings the clusters in use; nil disables the check.
	Health *ClusterHealth
	// MaxConcurrentReconciles bounds parallel reconciles.
	MaxConcurrentReconciles int
	// PodLogs reads upgrade Job logs; nil judges upgrades without their log.
	PodLogs PodLogs
	// Images are the images of the operator's own data Jobs.
	Images JobImages
	// written marks instances the cache has not caught up with.
	written writtenVersions
	// Sampler samples pod logs into status.health; nil disables it.
	Sampler *logwatch.Sampler
	// Notifier posts notifications to spec.webhook; nil disables them.
	Notifier *notify.Notifier
	// Egress is the policy the notifier enforces; notify checks
	// spec.webhook.url against it first, to say why nothing is sent.
	Egress egress.Policy
	// DataJobDeadline is the data Jobs' activeDeadlineSeconds; 0 means
	// resources.DefaultDataJobDeadline.
	DataJobDeadline time.Duration
	// BackupMinInterval is the administrator's floor between two times of
	// spec.backup.schedule (0: schedule.DefaultMinInterval).
	BackupMinInterval time.Duration
	// Network are the administrator's NetworkPolicy settings.
	Network NetworkOptions
	// ModulesInterval is how often status.modules is read when nothing else
	// asks for it; 0 means DefaultModulesInterval.
	ModulesInterval time.Duration
	// UpgradePreflight runs a preflight Job on the new image of an upgrade,
	// before anything is touched.
	UpgradePreflight bool
	// PreflightPullTimeout is how long a preflight may fail to pull the new
	// image; 0 means DefaultPreflightPullTimeout.
	PreflightPullTimeout time.Duration

	moduleReads moduleReadBackoff
	// moduleChecks holds the next periodic read of an instance whose last
	// read found what status.modules says (nothing was written).
	moduleChecks moduleReadBackoff
}

// JobImages are the images of the data Jobs (restore points, restores).
type JobImages struct {
	// Operator is the operator's own image; its binary does the data work.
	Operator string
	// PostgresClient is the PostgreSQL client image, with %d standing for the
	// server's major version, e.g. postgres:%d.
	PostgresClient string
}

func (i JobImages) postgresClient(major int) string {
	if strings.Contains(i.PostgresClient, "%d") {
		return fmt.Sprintf(i.PostgresClient, major)
	}
	return i.PostgresClient
}

// PostgresClientImage is the PostgreSQL client image of data Jobs for a
// server of that major version.
func (i JobImages) PostgresClientImage(major int) string { return i.postgresClient(major) }

// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=bemade.org,resources=odoobackupjobs,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=bemade.org,resources=odoorestorejobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances/finalizers,verbs=update
// +kubebuilder:rbac:groups=bemade.org,resources=odooinitjobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=bemade.org,resources=odooinitjobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=bemade.org,resources=odooupgradejobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=bemade.org,resources=odooupgradejobs/status,verbs=get;update;patch
// Children are written with server-side apply (patch; create when absent)
// and never updated whole; only what the controller deletes has delete. The
// one Secret deleted is <name>-db-ca, the public CA copy the operator made,
// when the cluster loses its caCert (see docs/security.md, "RBAC and Secret
// access").
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups="",resources=pods/log,verbs=get
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// SetupWithManager registers the controller: it watches OdooInstances and the
// objects they own.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &odoov1alpha2.OdooInitJob{}, initJobInstanceIndex,
		func(o client.Object) []string {
			return []string{o.(*odoov1alpha2.OdooInitJob).Spec.OdooInstanceRef.Name}
		}); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &odoov1alpha2.OdooUpgradeJob{}, upgradeJobInstanceIndex,
		func(o client.Object) []string {
			return []string{o.(*odoov1alpha2.OdooUpgradeJob).Spec.OdooInstanceRef.Name}
		}); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &odoov1alpha2.OdooBackupJob{}, backupJobInstanceIndex,
		func(o client.Object) []string {
			return []string{o.(*odoov1alpha2.OdooBackupJob).Spec.OdooInstanceRef.Name}
		}); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&odoov1alpha2.OdooInstance{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.Secret{}).
		// Claims carry no owner reference (deletionPolicy decides their
		// fate): they are mapped to their instance by its label.
		Watches(&corev1.PersistentVolumeClaim{}, handler.EnqueueRequestsFromMapFunc(instanceOfClaim)).
		Owns(&networkingv1.Ingress{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&batchv1.Job{}).
		// An upgrade waits for its restore point OdooBackupJob.
		Owns(&odoov1alpha2.OdooBackupJob{}).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.instancesForClustersSecret)).
		Watches(&odoov1alpha2.OdooInitJob{}, handler.EnqueueRequestsFromMapFunc(instanceOfInitJob)).
		Watches(&odoov1alpha2.OdooUpgradeJob{}, handler.EnqueueRequestsFromMapFunc(instanceOfUpgradeJob)).
		Watches(&odoov1alpha2.OdooBackupJob{}, handler.EnqueueRequestsFromMapFunc(instanceOfBackupJob)).
		Watches(&odoov1alpha2.OdooTenantPolicy{}, handler.EnqueueRequestsFromMapFunc(r.instancesForPolicy)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.instancesInNamespace)).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: max(r.MaxConcurrentReconciles, 1),
			// A PostgreSQL outage is retried with backoff; cap it so an
			// instance recovers within a minute of the database's return.
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](50*time.Millisecond, time.Minute),
		})
	if gatewayAPIInstalled(mgr.GetRESTMapper()) {
		b = b.Owns(&gatewayv1.HTTPRoute{})
	}
	if r.Health != nil {
		if err := mgr.Add(r.Health); err != nil {
			return err
		}
		b = b.WatchesRawSource(source.Channel(r.Health.Events, &handler.EnqueueRequestForObject{}))
	}
	if r.Sampler != nil {
		if err := mgr.Add(r.Sampler); err != nil {
			return err
		}
		b = b.WatchesRawSource(source.Channel(r.Sampler.Events, &handler.EnqueueRequestForObject{}))
	}
	return b.Complete(observe.TraceReconciler("OdooInstance", r))
}

const initJobInstanceIndex = "spec.odooInstanceRef.name"

// instancesForClustersSecret requeues every instance when the clusters Secret
// changes: it is read from the cache, so a change is seen at once.
func (r *Reconciler) instancesForClustersSecret(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetNamespace() != r.Clusters.Namespace || o.GetName() != r.Clusters.SecretName {
		return nil
	}
	list := &odoov1alpha2.OdooInstanceList{}
	if err := r.List(ctx, list); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, inst := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&inst)})
	}
	return reqs
}

func instanceOfInitJob(_ context.Context, o client.Object) []reconcile.Request {
	job := o.(*odoov1alpha2.OdooInitJob)
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: job.Namespace, Name: job.Spec.OdooInstanceRef.Name}}}
}

// phase is one small step of a reconcile. A phase records problems in the
// scope; it returns an error only for failures worth a retry with backoff.
type phase struct {
	name string
	run  func(ctx context.Context, s *scope) (ctrl.Result, error)
}

// Reconcile brings one OdooInstance towards its spec. The status is computed
// once from what the phases observed and patched in the deferred block.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, reterr error) {
	inst := &odoov1alpha2.OdooInstance{}
	if err := r.Get(ctx, req.NamespacedName, inst); err != nil {
		if apierrors.IsNotFound(err) && r.Sampler != nil {
			r.Sampler.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if r.written.behind(inst.UID, inst.ResourceVersion) {
		// The cache still holds the copy this operator wrote over: the
		// write's own event reconciles the instance as soon as it arrives
		// (the requeue is only a fallback).
		return ctrl.Result{RequeueAfter: cacheLagRetry}, nil
	}
	readRV := inst.ResourceVersion
	defer func() {
		// Our writes (finalizer, lock, status) update inst in place. An
		// instance whose finalizer was just removed is gone: nothing to mark.
		if inst.ResourceVersion != readRV && controllerutil.ContainsFinalizer(inst, odoov1alpha2.FinalizerDatabase) {
			r.written.wrote(inst.UID, readRV)
		}
	}()
	if inst.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(inst, odoov1alpha2.FinalizerDatabase) {
		// The finalizer is added before anything exists on PostgreSQL, so the
		// deletionPolicy is always carried out.
		patch := client.MergeFrom(inst.DeepCopy())
		controllerutil.AddFinalizer(inst, odoov1alpha2.FinalizerDatabase)
		if err := r.Patch(ctx, inst, patch); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}

	// initialized starts as recorded: a reconcile that stops before the Init
	// phase (a Stalled instance) must not write it back as false.
	s := &scope{instance: inst, before: inst.DeepCopy(), initialized: initialized(inst)}
	if !inst.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, s)
	}
	if suspended(inst) {
		err := r.reconcileSuspended(ctx, inst)
		if operation.IsConflict(err) {
			// The instance changed since it was read: decide again on it.
			return ctrl.Result{RequeueAfter: operation.ConflictRetry}, nil
		}
		return ctrl.Result{}, err
	}
	// Resumed (or never suspended): the condition goes with the status
	// computed below.
	meta.RemoveStatusCondition(&inst.Status.Conditions, odoov1alpha2.ConditionSuspended)
	defer func() {
		err := r.patchStatus(ctx, s, reterr)
		if operation.IsConflict(err) {
			// The instance changed since it was read: nothing was written,
			// the next reconcile decides again on the stored object.
			result, err = lowestNonZero(result, ctrl.Result{RequeueAfter: operation.ConflictRetry}), nil
		}
		if err != nil {
			reterr = kerrors.NewAggregate([]error{reterr, err})
		}
	}()

	phases := []phase{
		{"Backups", r.observeBackups},
		{"AdminPassword", r.resolveAdminPassword},
		{"DatabaseCredentials", r.reconcileUserSecret},
		{"Database", r.reconcileDatabase},
		{"ReadOnlySQL", r.reconcileReadOnly},
		{"Config", r.reconcileConfSecret},
		{"Filestore", r.reconcileFilestore},
		{"DatabaseMove", r.reconcileDatabaseMove},
		// Before the first pod (the init Job) starts, after the Database
		// phase found where PostgreSQL is.
		{"Policy", r.reconcilePolicy},
		{"InitRequest", r.findInitRequest},
		{"Init", r.reconcileInit},
		{"UpgradeRequest", r.findUpgradeRequest},
		{"Upgrade", r.reconcileUpgrade},
		{"Modules", r.reconcileModules},
		{"Health", r.reconcileHealth},
		{"Rollback", r.reconcileRollback},
		{"Workloads", r.reconcileWorkloads},
		{"Service", r.reconcileService},
		{"Ingress", r.reconcileIngress},
		{"HTTPRoute", r.reconcileHTTPRoute},
		{"BackupSchedule", r.reconcileBackupSchedule},
		{"RestorePoints", r.reconcileRestorePoints},
		{"JobHistory", r.reconcileJobHistory},
	}
	var errs []error
	for _, p := range phases {
		res, err := p.run(ctx, s)
		if operation.IsConflict(err) {
			// A step's status write met a newer instance: nothing of it was
			// stored. No later phase acts on this stale read (the workloads
			// would be applied as if no step were in flight), and its status
			// is not written either; the next reconcile decides again at
			// once on the stored object. Not a failure to report.
			s.stop, s.staleStatus = true, true
			result = lowestNonZero(result, ctrl.Result{RequeueAfter: operation.ConflictRetry})
			break
		}
		if err != nil {
			log.FromContext(ctx).V(1).Info("phase failed", "phase", p.name, "error", err.Error())
			errs = append(errs, err)
		}
		result = lowestNonZero(result, res)
		if s.stop {
			break
		}
	}
	if err := kerrors.NewAggregate(errs); err != nil && namespaceTerminating(err) {
		// The namespace's deletion removes the instance too; retrying writes
		// into it would only be refused again.
		return ctrl.Result{}, nil
	}
	return result, kerrors.NewAggregate(errs)
}

func namespaceTerminating(err error) bool {
	var agg kerrors.Aggregate
	if errors.As(err, &agg) {
		for _, e := range agg.Errors() {
			if namespaceTerminating(e) {
				return true
			}
		}
		return false
	}
	return apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause)
}

// patchStatus computes the status and patches it when it changed, then emits
// the events of the transitions it saw.
func (r *Reconciler) patchStatus(ctx context.Context, s *scope, reconcileErr error) error {
	inst := s.instance
	if s.staleStatus {
		return nil
	}
	if s.progressing == nil && migrating(inst) {
		s.progressing = &problem{odoov1alpha2.ReasonFilestoreMigrating, inst.Status.Filestore.Migration.Message}
	}
	s.addUpgradeProblems()
	inst.Status = computeStatus(statusInputs{
		instance: inst, web: s.web, cron: s.cron,
		stalled: s.stalled, degraded: s.degraded, reconcileErr: reconcileErr,
		hold: s.hold(), database: s.databaseState(), progressing: s.progressing,
		stopWeb: s.serving.StopWeb, stopCron: s.serving.StopCron,
		health: s.health, healthEnabled: inst.LogMonitoringEnabled() && r.Sampler != nil,
		rollback: s.rollback, clearRollback: s.clearRollback, rolloutTime: s.rolloutTime,
		backups: s.backups, backupsObserved: s.backupsObserved,
	})
	// The legacy OdooInitJobs mirror the init outcome (a no-op when unchanged).
	r.updateInitRequest(ctx, s)
	// The legacy OdooUpgradeJobs mirror status.upgrade (a no-op when unchanged).
	r.updateUpgradeRequests(ctx, s)
	if equality.Semantic.DeepEqual(s.before.Status, inst.Status) {
		return nil
	}
	if err := operation.PatchStatus(ctx, r.Client, inst, s.before); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	r.emitTransitionEvents(s.before, inst)
	r.notify(ctx, s.before, inst)
	return nil
}

func (r *Reconciler) emitTransitionEvents(before, after *odoov1alpha2.OdooInstance) {
	wasReady := meta.IsStatusConditionTrue(before.Status.Conditions, odoov1alpha2.ConditionReady)
	isReady := meta.IsStatusConditionTrue(after.Status.Conditions, odoov1alpha2.ConditionReady)
	if !wasReady && isReady {
		r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, odoov1alpha2.EventInstanceReady, "Reconcile",
			"instance is Ready: %s", meta.FindStatusCondition(after.Status.Conditions, odoov1alpha2.ConditionReady).Message)
	}
	if img := after.Status.Deployment.CurrentImage; img != before.Status.Deployment.CurrentImage && before.Status.Deployment.CurrentImage != "" {
		r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, odoov1alpha2.EventDeploymentUpdated, "Rollout",
			"rolled out new image: %s", img)
	}
	if rb := after.Status.Deployment.Rollback; rb != nil && before.Status.Deployment.Rollback == nil {
		r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, odoov1alpha2.EventRolledBack, "Rollback", "%s", rb.Message)
	}
	if !initialized(before) && initialized(after) {
		r.Recorder.Eventf(after, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseInitialized, "Init",
			"database %q initialised", after.Status.Database.Name)
	}
	if !meta.IsStatusConditionTrue(before.Status.Conditions, odoov1alpha2.ConditionLegacyDatabaseConnection) &&
		meta.IsStatusConditionTrue(after.Status.Conditions, odoov1alpha2.ConditionLegacyDatabaseConnection) {
		r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, odoov1alpha2.EventLegacyDatabaseConnection, "Database",
			"%s", meta.FindStatusCondition(after.Status.Conditions, odoov1alpha2.ConditionLegacyDatabaseConnection).Message)
	}
	if !meta.IsStatusConditionTrue(before.Status.Conditions, odoov1alpha2.ConditionDatabaseReady) &&
		after.Status.Database != nil && after.Status.Database.Initialized {
		if c := meta.FindStatusCondition(after.Status.Conditions, odoov1alpha2.ConditionDegraded); c != nil && c.Reason == odoov1alpha2.ReasonDatabaseMissing {
			r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, odoov1alpha2.EventDatabaseMissing, "Database", "%s", c.Message)
		}
	}
	r.emitBackupEvents(before, after)
	for _, t := range []string{odoov1alpha2.ConditionDegraded, odoov1alpha2.ConditionStalled} {
		c := meta.FindStatusCondition(after.Status.Conditions, t)
		if c == nil || c.Status != "True" {
			continue
		}
		old := meta.FindStatusCondition(before.Status.Conditions, t)
		if old == nil || old.Status != c.Status || old.Reason != c.Reason {
			r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, odoov1alpha2.EventReconcileFailed, "Reconcile",
				"%s: %s", t, c.Message)
		}
	}
}

func initialized(inst *odoov1alpha2.OdooInstance) bool {
	return inst.Status.Database != nil && inst.Status.Database.Initialized
}

// lowestNonZero merges the results of two phases: the soonest requeue wins.
func lowestNonZero(a, b ctrl.Result) ctrl.Result {
	switch {
	case a.RequeueAfter == 0:
		return b
	case b.RequeueAfter == 0:
		return a
	case a.RequeueAfter < b.RequeueAfter:
		return a
	default:
		return b
	}
}

// stalledRetry is how often a stalled instance is looked at again, for inputs
// the operator does not watch (a Secret the user has yet to create).
const stalledRetry = time.Minute

// requeueShort is the wait for a short step another controller finishes
// (pods terminating, a Job being removed).
const requeueShort = 2 * time.Second

// cacheLagRetry reconciles an instance whose cache copy predates the
// operator's own write again, should the write's event not come first.
const cacheLagRetry = time.Second
