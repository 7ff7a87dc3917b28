// Package backupjob reconciles OdooBackupJob objects: one Job running the
// operator's own `data backup` per object, its outcome mirrored into status.
package backupjob

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/observe"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// ServerVersions reads the major version of a cluster's server.
type ServerVersions interface {
	ServerMajorVersion(ctx context.Context, c postgres.Cluster) (int, error)
}

// Reconciler reconciles OdooBackupJob objects.
type Reconciler struct {
	client.Client
	// APIReader reads Jobs and pods straight from the API server.
	APIReader client.Reader
	// Clusters says where an instance finds its PostgreSQL cluster.
	Clusters postgres.ClusterSource
	Versions ServerVersions
	Images   datajob.Images
	// Recorder emits the events of pruned backups and of backups that did
	// not start.
	Recorder recorder.EventRecorder
	// DataJobDeadline is the data Jobs' activeDeadlineSeconds; 0 means
	// resources.DefaultDataJobDeadline.
	DataJobDeadline time.Duration
	// StartDeadline is how long a backup may take to start before it fails
	// and its Job is deleted (0: DefaultStartDeadline).
	StartDeadline time.Duration
}

// +kubebuilder:rbac:groups=bemade.org,resources=odoobackupjobs,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=bemade.org,resources=odoobackupjobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances,verbs=get;list;watch
// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances/status,verbs=get;patch
// +kubebuilder:rbac:groups=bemade.org,resources=odoorestorejobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups="",resources=secrets;persistentvolumeclaims,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&odoov1alpha2.OdooBackupJob{}).
		Owns(&batchv1.Job{}).
		Watches(&odoov1alpha2.OdooInstance{}, handler.EnqueueRequestsFromMapFunc(r.waitingBackups)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2}).
		Complete(observe.TraceReconciler("OdooBackupJob", r))
}

// waitRetry is how often a backup waiting for its instance looks again,
// besides the instance's own changes.
const waitRetry = 15 * time.Second

// waitingBackups are the OdooBackupJobs of the instance that have no Job
// yet: a change of the instance (an upgrade that ended, a restore released)
// takes them up at once rather than at their next retry.
func (r *Reconciler) waitingBackups(ctx context.Context, inst client.Object) []reconcile.Request {
	list := &odoov1alpha2.OdooBackupJobList{}
	if err := r.List(ctx, list, client.InNamespace(inst.GetNamespace())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, b := range list.Items {
		if b.Spec.OdooInstanceRef.Name == inst.GetName() && b.Status.JobName == "" &&
			!b.Status.Phase.Finished() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&b)})
		}
	}
	return reqs
}

// Reconcile drives one OdooBackupJob: checks, then one create-only Job,
// whose state is mirrored into status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	b := &odoov1alpha2.OdooBackupJob{}
	if err := r.Get(ctx, req.NamespacedName, b); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if markedForPruning(b) {
		return r.prune(ctx, b)
	}
	if b.Status.Phase.Finished() {
		// Released once the end is stored (again after a restart between).
		return ctrl.Result{}, r.releaseLock(ctx, b)
	}
	before := b.DeepCopy()
	res, err := r.reconcile(ctx, b)
	if !equality.Semantic.DeepEqual(before.Status, b.Status) {
		if perr := operation.PatchStatus(ctx, r.Client, b, before); perr != nil && err == nil {
			err = perr
		}
		if err == nil && b.Status.Phase.Finished() {
			err = r.releaseLock(ctx, b)
		}
	}
	if operation.IsConflict(err) {
		// The backup changed since it was read: decide again on the stored one.
		return ctrl.Result{RequeueAfter: operation.ConflictRetry}, nil
	}
	if err == nil && b.Status.Phase == odoov1alpha2.JobCompleted {
		err = r.recordLastBackup(ctx, b)
	}
	return res, err
}

// Invalid reports a spec this operator refuses, "" when it is acceptable.
func Invalid(b *odoov1alpha2.OdooBackupJob) string {
	d := b.Spec.Destination
	switch {
	case b.Spec.Format == odoov1alpha2.BackupFormatSQL:
		return "spec.format sql is not supported: use zip (Odoo's database manager format, whose dump.sql is plain SQL) or dump (pg_restore's custom format); nothing was run"
	case b.Spec.OdooInstanceRef.Namespace != "" && b.Spec.OdooInstanceRef.Namespace != b.Namespace:
		return fmt.Sprintf("spec.odooInstanceRef.namespace %q is not the OdooBackupJob's own namespace %q: only instances of its own namespace can be backed up; create the OdooBackupJob there",
			b.Spec.OdooInstanceRef.Namespace, b.Namespace)
	case d.S3CredentialsSecretRef != nil && d.S3CredentialsSecretRef.Namespace != "" && d.S3CredentialsSecretRef.Namespace != b.Namespace:
		return fmt.Sprintf("spec.destination.s3CredentialsSecretRef.namespace %q: credentials must be in the same namespace as the OdooBackupJob (%q); copy the Secret there and clear the field",
			d.S3CredentialsSecretRef.Namespace, b.Namespace)
	}
	return ""
}

func (r *Reconciler) reconcile(ctx context.Context, b *odoov1alpha2.OdooBackupJob) (ctrl.Result, error) {
	now := metav1.Now()
	fail := func(msg string) {
		b.Status.Phase, b.Status.Message, b.Status.CompletionTime = odoov1alpha2.JobFailed, msg, &now
	}
	pending := func(msg string) (ctrl.Result, error) {
		b.Status.Phase, b.Status.Message = odoov1alpha2.JobPending, msg
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	if msg := Invalid(b); msg != "" {
		fail(msg)
		return ctrl.Result{}, nil
	}
	jobName := resources.BackupJobName(b)
	job := &batchv1.Job{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: jobName}, job)
	switch {
	case apierrors.IsNotFound(err):
		if strings.HasPrefix(b.Status.Message, notStartedPrefix) {
			// Deleted at the start deadline, before a restart.
			r.failNotStarted(b, b.Status.Message)
			return ctrl.Result{}, nil
		}
		if b.Status.JobName != "" {
			// The name is recorded only once the Job was created: this Job
			// existed and is gone.
			fail(fmt.Sprintf("the backup Job %s disappeared before it finished; create a new OdooBackupJob", jobName))
			return ctrl.Result{}, nil
		}
	case err != nil:
		return ctrl.Result{}, err
	default:
		if res, took, err := r.checkStart(ctx, b, job, now.Time); took || err != nil {
			return res, err
		}
		r.mirror(ctx, b, job)
		return ctrl.Result{}, nil
	}

	inst := &odoov1alpha2.OdooInstance{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: b.Spec.OdooInstanceRef.Name}, inst); err != nil {
		if apierrors.IsNotFound(err) {
			return pending(fmt.Sprintf("waiting for OdooInstance %q to exist", b.Spec.OdooInstanceRef.Name))
		}
		return ctrl.Result{}, err
	}
	if db := inst.Status.Database; db == nil || !db.Initialized || db.Name == "" {
		// Nothing to back up yet; the lock is taken just before the Job.
		return pending("waiting for the instance's database to be initialised")
	}
	cluster, err := r.clusterOf(ctx, inst)
	if err != nil {
		return pending("the instance's PostgreSQL cluster: " + err.Error())
	}
	major, err := r.Versions.ServerMajorVersion(ctx, cluster)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("PostgreSQL server version: %w", err)
	}
	loc := resources.NewBackupLocation(b, inst)
	in := resources.BackupJobInputs{
		Backup: b, Location: loc,
		Data: resources.DataJobInputs{
			Instance: inst, OperatorImage: r.Images.Operator, ClientImage: r.Images.PostgresClient(major),
			Host: cluster.Host, Port: cluster.Port, SSLMode: cluster.ClientSSLMode(), DBCA: cluster.CACert != "", Database: inst.Status.Database.Name,
			Deadline: r.DataJobDeadline,
		},
	}
	if b.Spec.WithFilestore == nil || *b.Spec.WithFilestore {
		in.FilestoreClaim = resources.FilestoreClaimName(inst)
	}
	if missing, err := r.missingInputs(ctx, b, in.FilestoreClaim); err != nil || missing != "" {
		if err != nil {
			return ctrl.Result{}, err
		}
		return r.waitInputs(b, missing, now.Time), nil
	}
	// The instance's lock, taken once nothing else is missing, right before
	// the Job: an upgrade, a restore, a migration or another backup holding
	// it makes this backup wait (the upgrade's own restore point runs
	// inside the upgrade's lock).
	if d, err := operation.Acquire(ctx, r.lockClient(), inst, odoov1alpha2.OperationBackup, b.Name); err != nil || !d.Go() {
		if err != nil {
			return ctrl.Result{}, err
		}
		return pending(d.Message)
	}
	// The start and the object key are recorded before the Job is created,
	// its name once it exists (Reconcile's status write). A failed create,
	// or an operator killed between the two writes, leaves no name: the next
	// reconcile creates the Job instead of failing the backup as if a Job
	// that never existed had vanished.
	b.Status.Phase, b.Status.StartTime, b.Status.ObjectKey = odoov1alpha2.JobRunning, &now, loc.Key
	b.Status.Message = "backing up database " + inst.Status.Database.Name + " to " + loc.URL
	if err := operation.PatchStatus(ctx, r.Client, b, &odoov1alpha2.OdooBackupJob{ObjectMeta: b.ObjectMeta}); err != nil {
		return ctrl.Result{}, err
	}
	desired := resources.BackupJob(in)
	if err := r.Apply(ctx, desired, client.FieldOwner(resources.FieldManager)); err != nil && !apierrors.IsAlreadyExists(err) {
		return ctrl.Result{}, fmt.Errorf("backup Job: %w", err)
	}
	b.Status.JobName = jobName
	return ctrl.Result{}, nil
}

// mirror copies the Job's state into status.
func (r *Reconciler) mirror(ctx context.Context, b *odoov1alpha2.OdooBackupJob, job *batchv1.Job) {
	b.Status.JobName = job.Name
	if b.Status.StartTime == nil {
		b.Status.StartTime = job.Status.StartTime
	}
	if c := resources.FinishedCondition(job); c != nil {
		switch c.Type {
		case batchv1.JobComplete:
			res, _, _ := datajob.Read(ctx, r.APIReader, job)
			b.Status.CompletionTime = completion(job, *c)
			if why := datajob.WrittenBy(res, string(b.UID)); why != "" {
				// Never Completed for an object this backup did not write.
				b.Status.Phase = odoov1alpha2.JobFailed
				b.Status.Message = fmt.Sprintf("the backup Job %s ended, but %s: %s is not counted as this backup; create a new OdooBackupJob",
					job.Name, why, b.Status.ObjectKey)
				return
			}
			b.Status.Phase = odoov1alpha2.JobCompleted
			b.Status.BackupSize, b.Status.SHA256 = strconv.FormatInt(res.Bytes, 10), res.SHA256
			b.Status.Message = "backup stored at " + b.Status.ObjectKey
			return
		case batchv1.JobFailed:
			res, exit, found := datajob.Read(ctx, r.APIReader, job)
			b.Status.Phase, b.Status.Message, b.Status.CompletionTime = odoov1alpha2.JobFailed,
				datajob.FailureMessage("backup", job, *c, res, exit, found), completion(job, *c)
			return
		}
	}
	b.Status.Phase = odoov1alpha2.JobRunning
}

func completion(job *batchv1.Job, c batchv1.JobCondition) *metav1.Time {
	if job.Status.CompletionTime != nil {
		return job.Status.CompletionTime
	}
	t := c.LastTransitionTime
	return &t
}

// recordLastBackup raises the instance's status.lastBackup to this backup's
// completion time. Only that field is patched (a JSON merge patch of one
// field, under the resourceVersion it was read at, read again on a
// conflict), so nothing else the instance reconciler writes is touched; the
// value only moves forward.
func (r *Reconciler) recordLastBackup(ctx context.Context, b *odoov1alpha2.OdooBackupJob) error {
	done := b.Status.CompletionTime
	if done == nil {
		return nil
	}
	inst := &odoov1alpha2.OdooInstance{}
	key := client.ObjectKey{Namespace: b.Namespace, Name: b.Spec.OdooInstanceRef.Name}
	return client.IgnoreNotFound(operation.UpdateStatus(ctx, r.Client, r.APIReader, key, inst, func() bool {
		if inst.Status.LastBackup != nil && !inst.Status.LastBackup.Before(done) {
			return false
		}
		inst.Status.LastBackup = done.DeepCopy()
		return true
	}))
}
