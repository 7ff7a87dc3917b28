package stagingrefresh

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/observe"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// Reconciler reconciles OdooStagingRefreshJob objects.
type Reconciler struct {
	client.Client
	// APIReader reads the refresh and the instances straight from the API
	// server (the lock is decided on fresh instances).
	APIReader client.Reader
	// Recorder emits the refresh's events; nil emits none.
	Recorder recorder.EventRecorder
}

// +kubebuilder:rbac:groups=bemade.org,resources=odoostagingrefreshjobs,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=bemade.org,resources=odoostagingrefreshjobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=bemade.org,resources=odoostagingrefreshjobs/finalizers,verbs=update
// +kubebuilder:rbac:groups=bemade.org,resources=odoobackupjobs,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=bemade.org,resources=odoorestorejobs,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances/status,verbs=get;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the refresh controller and the staging
// instances' trigger.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := ctrl.NewControllerManagedBy(mgr).
		For(&odoov1alpha2.OdooStagingRefreshJob{}).
		Owns(&odoov1alpha2.OdooBackupJob{}).
		Owns(&odoov1alpha2.OdooRestoreJob{}).
		Watches(&odoov1alpha2.OdooInstance{}, handler.EnqueueRequestsFromMapFunc(r.openRefreshes)).
		Complete(observe.TraceReconciler("OdooStagingRefreshJob", r)); err != nil {
		return err
	}
	t := &Trigger{Client: r.Client, Recorder: r.Recorder}
	return ctrl.NewControllerManagedBy(mgr).
		Named("stagingtrigger").
		For(&odoov1alpha2.OdooInstance{}).
		Complete(observe.TraceReconciler("StagingTrigger", t))
}

// waitRetry is how often a waiting refresh looks again (the lock's release
// and the instances' changes also wake it through the watch).
const waitRetry = 15 * time.Second

// Reconcile drives one OdooStagingRefreshJob: it observes its instances and
// children, decides, and acts.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	sr := &odoov1alpha2.OdooStagingRefreshJob{}
	if err := r.APIReader.Get(ctx, req.NamespacedName, sr); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if sr.Status.Phase.Finished() {
		// Released once the end is stored (again after a restart between).
		return ctrl.Result{}, r.release(ctx, sr)
	}
	f, err := r.observe(ctx, sr)
	if err != nil {
		return ctrl.Result{}, err
	}
	res, err := r.act(ctx, sr, f, Decide(f))
	if operation.IsConflict(err) {
		return ctrl.Result{RequeueAfter: operation.ConflictRetry}, nil
	}
	if err == nil && sr.Status.Phase.Finished() {
		err = r.release(ctx, sr)
	}
	return res, err
}

func (r *Reconciler) observe(ctx context.Context, sr *odoov1alpha2.OdooStagingRefreshJob) (Facts, error) {
	f := Facts{Refresh: sr}
	ns := sr.Namespace
	target := &odoov1alpha2.OdooInstance{}
	if err := r.get(ctx, ns, sr.Spec.OdooInstanceRef.Name, target); err == nil {
		f.Target = target
	} else if !apierrors.IsNotFound(err) {
		return f, err
	}
	source := &odoov1alpha2.OdooInstance{}
	if err := r.get(ctx, ns, sr.Spec.Source.InstanceName, source); err == nil {
		f.Source = source
	} else if !apierrors.IsNotFound(err) {
		return f, err
	}
	b := &odoov1alpha2.OdooBackupJob{}
	if err := r.get(ctx, ns, operation.StagingRefreshBackupName(sr.Name), b); err == nil {
		f.Backup = b
	} else if !apierrors.IsNotFound(err) {
		return f, err
	}
	rj := &odoov1alpha2.OdooRestoreJob{}
	if err := r.get(ctx, ns, operation.StagingRefreshRestoreName(sr.Name), rj); err == nil {
		f.Restore = rj
	} else if !apierrors.IsNotFound(err) {
		return f, err
	}
	return f, nil
}

func (r *Reconciler) get(ctx context.Context, ns, name string, obj client.Object) error {
	return r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj)
}

// act carries the action out; the step is recorded before its child is
// created.
func (r *Reconciler) act(ctx context.Context, sr *odoov1alpha2.OdooStagingRefreshJob, f Facts, a Action) (ctrl.Result, error) {
	base := sr.DeepCopy()
	now := metav1.Now()
	if sr.Status.StartTime == nil && a.Kind != Nothing {
		sr.Status.StartTime = &now
	}
	switch a.Kind {
	case Nothing:
		return ctrl.Result{}, nil
	case Pending:
		sr.Status.Phase = odoov1alpha2.JobPending
		return ctrl.Result{RequeueAfter: waitRetry}, r.record(ctx, sr, base, a, metav1.ConditionFalse)
	case Wait:
		sr.Status.Phase = odoov1alpha2.JobRunning
		return ctrl.Result{}, r.record(ctx, sr, base, a, metav1.ConditionFalse)
	case Refuse, Fail:
		sr.Status.Phase, sr.Status.CompletionTime = odoov1alpha2.JobFailed, &now
		sr.Status.Step = odoov1alpha2.StagingRefreshStepDone
		if err := r.record(ctx, sr, base, a, metav1.ConditionFalse); err != nil {
			return ctrl.Result{}, err
		}
		r.event(sr, corev1.EventTypeWarning, a.Reason, a.Message)
		return ctrl.Result{}, nil
	case Complete:
		sr.Status.Phase, sr.Status.CompletionTime = odoov1alpha2.JobCompleted, &now
		sr.Status.Step, sr.Status.KeptDatabase = odoov1alpha2.StagingRefreshStepDone, a.KeptDatabase
		if err := r.record(ctx, sr, base, a, metav1.ConditionTrue); err != nil {
			return ctrl.Result{}, err
		}
		r.event(sr, corev1.EventTypeNormal, a.Reason, a.Message)
		return ctrl.Result{}, nil
	case CreateBackup:
		if d, err := operation.SetStep(ctx, r.lockClient(), f.Target, odoov1alpha2.OperationStagingRefresh, sr.Name,
			string(odoov1alpha2.StagingRefreshStepBackup)); err != nil || !d.Go() {
			if err != nil {
				return ctrl.Result{}, err
			}
			return r.act(ctx, sr, f, Action{Kind: Pending, Reason: odoov1alpha2.ReasonStagingRefreshWaiting, Message: "staging: " + d.Message})
		}
		sr.Status.Phase, sr.Status.Step = odoov1alpha2.JobRunning, odoov1alpha2.StagingRefreshStepBackup
		sr.Status.BackupJobName = operation.StagingRefreshBackupName(sr.Name)
		if err := r.record(ctx, sr, base, a, metav1.ConditionFalse); err != nil {
			return ctrl.Result{}, err
		}
		if err := r.Create(ctx, BackupFor(sr, f.Source)); err != nil && !apierrors.IsAlreadyExists(err) {
			return ctrl.Result{}, fmt.Errorf("creating the OdooBackupJob of production: %w", err)
		}
		r.event(sr, corev1.EventTypeNormal, a.Reason, a.Message)
		return ctrl.Result{}, nil
	case RecordBackup:
		sr.Status.Phase, sr.Status.Step = odoov1alpha2.JobRunning, odoov1alpha2.StagingRefreshStepRestore
		sr.Status.BackupObjectKey = a.ObjectKey
		// The next reconcile creates the restore.
		return ctrl.Result{RequeueAfter: operation.ConflictRetry}, r.record(ctx, sr, base, a, metav1.ConditionFalse)
	case CreateRestore:
		if d, err := operation.SetStep(ctx, r.lockClient(), f.Target, odoov1alpha2.OperationStagingRefresh, sr.Name,
			string(odoov1alpha2.StagingRefreshStepRestore)); err != nil || !d.Go() {
			if err != nil {
				return ctrl.Result{}, err
			}
			return r.act(ctx, sr, f, Action{Kind: Pending, Reason: odoov1alpha2.ReasonStagingRefreshWaiting, Message: "staging: " + d.Message})
		}
		sr.Status.Phase = odoov1alpha2.JobRunning
		sr.Status.RestoreJobName = operation.StagingRefreshRestoreName(sr.Name)
		if err := r.record(ctx, sr, base, a, metav1.ConditionFalse); err != nil {
			return ctrl.Result{}, err
		}
		if err := r.Create(ctx, RestoreFor(sr, f.Source)); err != nil && !apierrors.IsAlreadyExists(err) {
			return ctrl.Result{}, fmt.Errorf("creating the OdooRestoreJob into staging: %w", err)
		}
		r.event(sr, corev1.EventTypeNormal, a.Reason, a.Message)
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, fmt.Errorf("unknown staging refresh action %q", a.Kind)
}

// record stores the action's message and the Ready condition with the rest
// of the status changed by act.
func (r *Reconciler) record(ctx context.Context, sr, base *odoov1alpha2.OdooStagingRefreshJob, a Action, ready metav1.ConditionStatus) error {
	sr.Status.Message = a.Message
	meta.SetStatusCondition(&sr.Status.Conditions, metav1.Condition{
		Type: odoov1alpha2.ConditionReady, Status: ready, Reason: a.Reason, Message: a.Message, ObservedGeneration: sr.Generation,
	})
	return operation.PatchStatus(ctx, r.Client, sr, base)
}

func (r *Reconciler) event(sr *odoov1alpha2.OdooStagingRefreshJob, eventType, reason, msg string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(sr, nil, eventType, reason, "StagingRefresh", "%s", msg)
	}
}

// release gives the staging instance's lock back when this refresh still
// holds it (a refresh that failed before its restore, or whose restore
// never took the lock over).
func (r *Reconciler) release(ctx context.Context, sr *odoov1alpha2.OdooStagingRefreshJob) error {
	inst := &odoov1alpha2.OdooInstance{}
	if err := r.get(ctx, sr.Namespace, sr.Spec.OdooInstanceRef.Name, inst); err != nil {
		return client.IgnoreNotFound(err)
	}
	return operation.Release(ctx, r.lockClient(), inst, odoov1alpha2.OperationStagingRefresh, sr.Name)
}

func (r *Reconciler) lockClient() client.Client { return operation.Uncached(r.Client, r.APIReader) }

// openRefreshes are the unfinished refreshes of an instance (as staging or
// production): a change of it (its lock released, its database
// initialised) takes them up at once.
func (r *Reconciler) openRefreshes(ctx context.Context, inst client.Object) []reconcile.Request {
	list := &odoov1alpha2.OdooStagingRefreshJobList{}
	if err := r.List(ctx, list, client.InNamespace(inst.GetNamespace())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, sr := range list.Items {
		if (sr.Spec.OdooInstanceRef.Name == inst.GetName() || sr.Spec.Source.InstanceName == inst.GetName()) && !sr.Status.Phase.Finished() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&sr)})
		}
	}
	return reqs
}

// BackupFor is the refresh's OdooBackupJob of production: a zip with the
// filestore (unless skipFilestore) to production's spec.backup.destination,
// owned by the refresh.
func BackupFor(sr *odoov1alpha2.OdooStagingRefreshJob, source *odoov1alpha2.OdooInstance) *odoov1alpha2.OdooBackupJob {
	name := operation.StagingRefreshBackupName(sr.Name)
	format := odoov1alpha2.BackupFormatZip
	return &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: sr.Namespace,
			Labels:          map[string]string{odoov1alpha2.LabelStagingRefresh: sr.Name},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(sr, odoov1alpha2.GroupVersion.WithKind("OdooStagingRefreshJob"))},
		},
		Spec: odoov1alpha2.OdooBackupJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: source.Name},
			Format:          format,
			WithFilestore:   ptr.To(!sr.Spec.SkipFilestore),
			Destination:     resources.BackupDestinationFor(source.Spec.Backup.Destination, name, format),
		},
	}
}

// RestoreFor is the refresh's OdooRestoreJob into staging from the recorded
// backup: neutralized (unless the refresh says otherwise; it is checked
// either way), the previous staging database kept.
func RestoreFor(sr *odoov1alpha2.OdooStagingRefreshJob, source *odoov1alpha2.OdooInstance) *odoov1alpha2.OdooRestoreJob {
	src := odoov1alpha2.RestoreSource{}
	dest := source.Spec.Backup.Destination
	if dest.PVC != nil {
		src.Type = odoov1alpha2.RestoreSourcePVC
		src.PVC = &odoov1alpha2.PVCLocation{ClaimName: dest.PVC.ClaimName, Path: sr.Status.BackupObjectKey}
	} else {
		loc := *dest.S3Location.DeepCopy()
		loc.ObjectKey = sr.Status.BackupObjectKey
		src.Type, src.S3 = odoov1alpha2.RestoreSourceS3, &loc
	}
	return &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{
			Name: operation.StagingRefreshRestoreName(sr.Name), Namespace: sr.Namespace,
			Labels:          map[string]string{odoov1alpha2.LabelStagingRefresh: sr.Name},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(sr, odoov1alpha2.GroupVersion.WithKind("OdooStagingRefreshJob"))},
		},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef:      odoov1alpha2.OdooInstanceRef{Name: sr.Spec.OdooInstanceRef.Name},
			Source:               src,
			Neutralize:           ptr.To(sr.Spec.Neutralize == nil || *sr.Spec.Neutralize),
			KeepPreviousDatabase: ptr.To(true),
		},
	}
}
