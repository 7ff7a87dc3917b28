// Package restorejob reconciles OdooRestoreJob objects: the backup is loaded
// by one Job into a new database, verified and neutralized, then swapped in
// for the live one while the instance's web and cron are held at 0, its
// filestore moved into place; the live database is kept aside under another
// name, dropped only when the restore asks for it.
package restorejob

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/backup/odoozip"
	"github.com/odoo-operator/odoo-operator/internal/controller/backupjob"
	"github.com/odoo-operator/odoo-operator/internal/controller/tiers"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/egress"
	"github.com/odoo-operator/odoo-operator/internal/observe"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// Databases runs statements on a cluster as its admin.
type Databases interface {
	WithAdmin(ctx context.Context, c postgres.Cluster, fn func(*pgx.Conn) error) error
	// WithTenantDatabase reads inside a database as the instance's own role,
	// never as the admin.
	WithTenantDatabase(ctx context.Context, c postgres.Cluster, login postgres.TenantLogin, db string, fn func(*pgx.Conn) error) error
	ServerMajorVersion(ctx context.Context, c postgres.Cluster) (int, error)
	Invalidate(cluster, role, db string)
}

// Reconciler reconciles OdooRestoreJob objects.
type Reconciler struct {
	client.Client
	// APIReader reads Jobs, pods, Deployments and Secrets straight from the
	// API server.
	APIReader client.Reader
	Clusters  backupjob.Clusters
	Databases Databases
	Images    backupjob.Images
	// Recorder emits the restore's events; nil emits none.
	Recorder recorder.EventRecorder
	// DataJobDeadline is the data Jobs' activeDeadlineSeconds; 0 means
	// resources.DefaultDataJobDeadline.
	DataJobDeadline time.Duration
	// Egress is what a restore from a live Odoo may connect to; its Job
	// gets it too.
	Egress egress.Policy
}

// +kubebuilder:rbac:groups=bemade.org,resources=odoorestorejobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=bemade.org,resources=odoorestorejobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=bemade.org,resources=odoobackupjobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the controller.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&odoov1alpha2.OdooRestoreJob{}).
		Owns(&batchv1.Job{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2}).
		Complete(observe.TraceReconciler("OdooRestoreJob", r))
}

const (
	// waitRetry is how often a restore waiting for its instance looks again.
	waitRetry = 15 * time.Second
	// stopRetry is how often a restore waiting for web and cron to stop looks again.
	stopRetry = 2 * time.Second
)

// Reconcile drives one OdooRestoreJob through its steps, each recorded in
// status.step before it is acted on.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rj := &odoov1alpha2.OdooRestoreJob{}
	if err := r.APIReader.Get(ctx, req.NamespacedName, rj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if rj.Status.Phase.Finished() {
		return ctrl.Result{}, nil
	}
	before := rj.DeepCopy()
	res, err := r.reconcile(ctx, rj)
	if !equality.Semantic.DeepEqual(before.Status, rj.Status) {
		if perr := r.Status().Patch(ctx, rj, client.MergeFrom(before)); perr != nil && err == nil {
			err = perr
		}
	}
	return res, err
}

// Invalid reports a spec this operator refuses, "" when it is acceptable.
func Invalid(rj *odoov1alpha2.OdooRestoreJob) string {
	src := rj.Spec.Source
	switch {
	case rj.Spec.OdooInstanceRef.Namespace != "" && rj.Spec.OdooInstanceRef.Namespace != rj.Namespace:
		return fmt.Sprintf("spec.odooInstanceRef.namespace %q is not the OdooRestoreJob's own namespace %q: only instances of its own namespace can be restored; create the OdooRestoreJob there",
			rj.Spec.OdooInstanceRef.Namespace, rj.Namespace)
	case src.Type == odoov1alpha2.RestoreSourceOdoo:
		return invalidOdooSource(src.Odoo)
	case src.Type == odoov1alpha2.RestoreSourceS3 && src.S3 == nil:
		return "source.s3 is required when source.type is s3"
	case src.Type == odoov1alpha2.RestoreSourcePVC && (src.PVC == nil || src.PVC.ClaimName == "" || src.PVC.Path == ""):
		return "source.pvc{claimName, path} is required when source.type is pvc"
	case src.Type != odoov1alpha2.RestoreSourceS3 && src.Type != odoov1alpha2.RestoreSourcePVC && src.Type != odoov1alpha2.RestoreSourceOdoo:
		return fmt.Sprintf("source.type %q is not supported: use s3, pvc or odoo", src.Type)
	case rj.Spec.Format == odoov1alpha2.BackupFormatSQL:
		return "spec.format sql is not supported: restore a zip (Odoo's database manager format) or a dump (pg_restore's custom format); nothing was run"
	case src.Type == odoov1alpha2.RestoreSourceS3 && src.S3.S3CredentialsSecretRef != nil &&
		src.S3.S3CredentialsSecretRef.Namespace != "" && src.S3.S3CredentialsSecretRef.Namespace != rj.Namespace:
		return fmt.Sprintf("source.s3.s3CredentialsSecretRef.namespace %q: credentials must be in the same namespace as the OdooRestoreJob (%q); copy the Secret there and clear the field",
			src.S3.S3CredentialsSecretRef.Namespace, rj.Namespace)
	}
	return ""
}

// Location is where the backup is read.
func Location(rj *odoov1alpha2.OdooRestoreJob) resources.BackupLocation {
	src := rj.Spec.Source
	switch src.Type {
	case odoov1alpha2.RestoreSourcePVC:
		return resources.PVCBackupLocation(src.PVC, src.PVC.Path, true)
	case odoov1alpha2.RestoreSourceOdoo:
		name, key := odooPasswordSecret(rj)
		return resources.OdooSourceLocation(src.Odoo, name, key)
	}
	return resources.S3BackupLocation(src.S3)
}

func (r *Reconciler) reconcile(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (ctrl.Result, error) {
	switch rj.Status.Step {
	case "":
		return r.validate(ctx, rj)
	case odoov1alpha2.RestoreStepLoad:
		return r.load(ctx, rj)
	case odoov1alpha2.RestoreStepNeutralize:
		return r.neutralize(ctx, rj)
	case odoov1alpha2.RestoreStepStop:
		return r.stop(ctx, rj)
	case odoov1alpha2.RestoreStepSwap:
		return r.swap(ctx, rj)
	case odoov1alpha2.RestoreStepFilestore:
		return r.filestore(ctx, rj)
	case odoov1alpha2.RestoreStepStart:
		return r.start(ctx, rj)
	case odoov1alpha2.RestoreStepDropPrevious:
		return r.dropPrevious(ctx, rj)
	}
	return ctrl.Result{}, nil
}

func (r *Reconciler) fail(rj *odoov1alpha2.OdooRestoreJob, msg string) {
	now := metav1.Now()
	rj.Status.Phase, rj.Status.Message, rj.Status.CompletionTime = odoov1alpha2.JobFailed, msg, &now
	if rj.Status.Step != "" {
		rj.Status.Step = odoov1alpha2.RestoreStepDone
	}
	r.event(rj, corev1.EventTypeWarning, odoov1alpha2.EventRestoreFailed, "Restore", msg)
}

// event records an event on the restore.
func (r *Reconciler) event(rj *odoov1alpha2.OdooRestoreJob, eventType, reason, action, msg string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(rj, nil, eventType, reason, action, "%s", msg)
	}
}

// advance records the next step at once, before it is acted on; the next
// reconcile acts on it.
func (r *Reconciler) advance(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, step odoov1alpha2.RestoreStep, msg string) (ctrl.Result, error) {
	rj.Status.Step, rj.Status.Message = step, msg
	// The whole status is sent: the fields set with the step go with it.
	if err := r.Status().Patch(ctx, rj, client.MergeFrom(&odoov1alpha2.OdooRestoreJob{ObjectMeta: rj.ObjectMeta})); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: time.Millisecond}, nil
}

// instance reads the restored instance straight from the API server.
func (r *Reconciler) instance(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (*odoov1alpha2.OdooInstance, error) {
	inst := &odoov1alpha2.OdooInstance{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: rj.Namespace, Name: rj.Spec.OdooInstanceRef.Name}, inst)
	return inst, err
}

// validate checks the spec, the instance and the Secret, then records the
// database names and the Load step.
func (r *Reconciler) validate(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (ctrl.Result, error) {
	pending := func(msg string) (ctrl.Result, error) {
		rj.Status.Phase, rj.Status.Message = odoov1alpha2.JobPending, msg
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	msg := Invalid(rj)
	if msg == "" {
		msg = egressRefusal(rj, r.Egress)
	}
	if msg != "" {
		r.fail(rj, msg)
		return ctrl.Result{}, nil
	}
	inst, err := r.instance(ctx, rj)
	if apierrors.IsNotFound(err) {
		return pending(fmt.Sprintf("waiting for OdooInstance %q to exist", rj.Spec.OdooInstanceRef.Name))
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	if msg := backupjob.Busy(inst); msg != "" {
		return pending(msg)
	}
	if msg, err := r.backupRunning(ctx, inst); err != nil || msg != "" {
		if err != nil {
			return ctrl.Result{}, err
		}
		return pending(msg)
	}
	if s3 := rj.Spec.Source.S3; rj.Spec.Source.Type == odoov1alpha2.RestoreSourceS3 && s3.S3CredentialsSecretRef != nil {
		err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: rj.Namespace, Name: s3.S3CredentialsSecretRef.Name}, &corev1.Secret{})
		if apierrors.IsNotFound(err) {
			return pending(fmt.Sprintf("waiting for the S3 credentials Secret %q in namespace %q", s3.S3CredentialsSecretRef.Name, rj.Namespace))
		}
		if err != nil {
			return ctrl.Result{}, err
		}
	}
	if rj.Spec.Source.Type == odoov1alpha2.RestoreSourceOdoo {
		if msg, err := r.odooPassword(ctx, rj); err != nil || msg != "" {
			if err != nil {
				return ctrl.Result{}, err
			}
			return pending(msg)
		}
	}
	live := inst.Status.Database.Name
	now := metav1.Now()
	rj.Status.Phase, rj.Status.StartTime = odoov1alpha2.JobRunning, &now
	rj.Status.Database = live
	rj.Status.TargetDatabase = resources.RestoreTargetDatabaseName(live, rj)
	rj.Status.KeptDatabase = resources.PreRestoreDatabaseName(live, rj)
	rj.Status.JobName = resources.RestoreBackupJobName(rj)
	return r.advance(ctx, rj, odoov1alpha2.RestoreStepLoad,
		fmt.Sprintf("loading %s into the new database %q", Location(rj).URL, rj.Status.TargetDatabase))
}

// backupRunning says which backup of the instance runs, "" when none.
func (r *Reconciler) backupRunning(ctx context.Context, inst *odoov1alpha2.OdooInstance) (string, error) {
	backups := &odoov1alpha2.OdooBackupJobList{}
	if err := r.List(ctx, backups, client.InNamespace(inst.Namespace)); err != nil {
		return "", err
	}
	for _, b := range backups.Items {
		if b.Spec.OdooInstanceRef.Name == inst.Name && b.Status.Phase == odoov1alpha2.JobRunning {
			return "waiting for the backup " + b.Name + " of the instance to end", nil
		}
	}
	return "", nil
}

// load creates the empty target database owned by the live database's
// owner and the one Job loading the backup into it; once the Job
// succeeded, the target is verified.
func (r *Reconciler) load(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (ctrl.Result, error) {
	job := &batchv1.Job{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: rj.Namespace, Name: rj.Status.JobName}, job)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return ctrl.Result{}, err
	default:
		return r.mirror(ctx, rj, job)
	}
	inst, err := r.instance(ctx, rj)
	if err != nil {
		if apierrors.IsNotFound(err) {
			r.failBeforeSwap(ctx, rj, fmt.Sprintf("OdooInstance %q disappeared before the backup was loaded; nothing was restored", rj.Spec.OdooInstanceRef.Name))
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	cluster, err := r.Clusters.ClusterOf(ctx, inst)
	if err != nil {
		rj.Status.Message = "the instance's PostgreSQL cluster: " + err.Error()
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	target := rj.Status.TargetDatabase
	login, err := r.tenantLogin(ctx, inst)
	if err != nil {
		rj.Status.Message = err.Error()
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	err = r.Databases.WithAdmin(ctx, cluster, func(conn *pgx.Conn) error {
		exists, err := dbtools.DatabaseExists(ctx, conn, target)
		if err != nil || exists {
			return err
		}
		owner, err := dbtools.DatabaseOwner(ctx, conn, rj.Status.Database)
		if err != nil {
			return err
		}
		if owner == "" {
			return fmt.Errorf("the live database %q does not exist", rj.Status.Database)
		}
		if owner != login.Role {
			return fmt.Errorf("the live database %q is owned by %q, not by the instance's role %q: nothing is restored into it", rj.Status.Database, owner, login.Role)
		}
		return dbtools.CreateEmptyDatabase(ctx, conn, target, login.Role)
	})
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("restore target database: %w", err)
	}
	major, err := r.Databases.ServerMajorVersion(ctx, cluster)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("PostgreSQL server version: %w", err)
	}
	desired := resources.RestoreBackupJob(resources.RestoreBackupJobInputs{
		Restore: rj, Location: withEgress(Location(rj), rj, r.Egress), FilestoreClaim: resources.FilestoreClaimName(inst),
		Data: resources.DataJobInputs{
			Instance: inst, OperatorImage: r.Images.Operator, ClientImage: r.Images.PostgresClient(major),
			Host: cluster.Host, Port: cluster.Port, SSLMode: cluster.ClientSSLMode(), DBCA: cluster.CACert != "", Database: target,
			Deadline: r.DataJobDeadline,
		},
	})
	if err := r.Apply(ctx, desired, client.FieldOwner(resources.FieldManager)); err != nil && !apierrors.IsAlreadyExists(err) {
		return ctrl.Result{}, fmt.Errorf("restore Job: %w", err)
	}
	return ctrl.Result{}, nil
}

// untouched ends the failure messages of the steps before the swap.
func (r *Reconciler) untouched(rj *odoov1alpha2.OdooRestoreJob) string {
	return fmt.Sprintf("; the live database %q is untouched", rj.Status.Database)
}

// mirror follows the load Job; a succeeded one leads to the verification.
func (r *Reconciler) mirror(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, job *batchv1.Job) (ctrl.Result, error) {
	if c := resources.FinishedCondition(job); c != nil {
		switch c.Type {
		case batchv1.JobComplete:
			if res, _, _ := backupjob.JobResult(ctx, r.APIReader, job); res != nil {
				rj.Status.SHA256 = res.SHA256
			}
			return r.verify(ctx, rj)
		case batchv1.JobFailed:
			res, exit, found := backupjob.JobResult(ctx, r.APIReader, job)
			r.failBeforeSwap(ctx, rj, backupjob.FailureMessage("restore", job, *c, res, exit, found))
			return ctrl.Result{}, nil
		}
	}
	return ctrl.Result{}, nil
}

// verify checks the loaded database is an Odoo database of the instance's
// series, then records the Stop step.
func (r *Reconciler) verify(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (ctrl.Result, error) {
	inst, err := r.instance(ctx, rj)
	if err != nil {
		return ctrl.Result{}, err
	}
	cluster, err := r.Clusters.ClusterOf(ctx, inst)
	if err != nil {
		rj.Status.Message = "the instance's PostgreSQL cluster: " + err.Error()
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	login, err := r.tenantLogin(ctx, inst)
	if err != nil {
		rj.Status.Message = err.Error()
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	var mods []dbtools.Module
	err = r.Databases.WithTenantDatabase(ctx, cluster, login, rj.Status.TargetDatabase, func(conn *pgx.Conn) error {
		mods, err = dbtools.ReadModules(ctx, conn)
		return err
	})
	if errors.Is(err, dbtools.ErrNoModuleTable) {
		r.failBeforeSwap(ctx, rj, "the restored database is not an Odoo database: "+err.Error())
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("verifying the restored database: %w", err)
	}
	if msg := CheckModules(mods, inst.Spec.Image); msg != "" {
		r.failBeforeSwap(ctx, rj, msg)
		return ctrl.Result{}, nil
	}
	if Neutralize(rj, inst) {
		return r.advance(ctx, rj, odoov1alpha2.RestoreStepNeutralize,
			fmt.Sprintf("the backup is loaded and verified in %q; neutralizing it (Job %s)", rj.Status.TargetDatabase, resources.NeutralizeJobName(rj)))
	}
	return r.advance(ctx, rj, odoov1alpha2.RestoreStepStop,
		fmt.Sprintf("the backup is loaded and verified in %q; stopping web and cron to swap it in", rj.Status.TargetDatabase))
}

// CheckModules refuses a restored module list without base installed, or
// whose base is of another Odoo series than the image's (when the image tag
// names one); "" when it is acceptable.
func CheckModules(mods []dbtools.Module, image string) string {
	var base *dbtools.Module
	for i := range mods {
		if mods[i].Name == "base" {
			base = &mods[i]
		}
	}
	if base == nil || base.State != "installed" {
		return "the restored database has no installed base module: it is not an initialised Odoo database"
	}
	backup, running := odoozip.SeriesOf(base.LatestVersion), ImageSeries(image)
	if backup != "" && running != "" && backup != running {
		return fmt.Sprintf("backup is from Odoo series %s, the instance runs %s", backup, running)
	}
	return ""
}

var seriesTag = regexp.MustCompile(`^((?:saas~)?[0-9]+\.[0-9]+)(?:[^0-9.]|$)`)

// ImageSeries is the Odoo series an image's tag names ("odoo:18.0-20260101"
// → "18.0"), "" when it names none.
func ImageSeries(image string) string {
	image, _, _ = strings.Cut(image, "@")
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	m := seriesTag.FindStringSubmatch(image[i+1:])
	if m == nil {
		return ""
	}
	return m[1]
}

// stop holds the instance's web and cron at 0 and waits until they are gone.
func (r *Reconciler) stop(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (ctrl.Result, error) {
	inst, err := r.instance(ctx, rj)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.setHold(ctx, inst, rj.Name); err != nil {
		return ctrl.Result{}, err
	}
	stopped, err := r.stopped(ctx, inst)
	if err != nil || !stopped {
		return ctrl.Result{RequeueAfter: stopRetry}, err
	}
	return r.advance(ctx, rj, odoov1alpha2.RestoreStepSwap, "web and cron are stopped; swapping the databases")
}

// setHold sets (name != "") or removes the restore-hold annotation.
func (r *Reconciler) setHold(ctx context.Context, inst *odoov1alpha2.OdooInstance, name string) error {
	if inst.Annotations[odoov1alpha2.AnnotationRestoreHold] == name {
		return nil
	}
	patch := client.MergeFrom(inst.DeepCopy())
	if name == "" {
		delete(inst.Annotations, odoov1alpha2.AnnotationRestoreHold)
	} else {
		if inst.Annotations == nil {
			inst.Annotations = map[string]string{}
		}
		inst.Annotations[odoov1alpha2.AnnotationRestoreHold] = name
	}
	return r.Patch(ctx, inst, patch)
}

// stopped is true once the web and cron Deployments (read live) run no
// replica and no pod of theirs is left.
func (r *Reconciler) stopped(ctx context.Context, inst *odoov1alpha2.OdooInstance) (bool, error) {
	web, cron, err := r.deployments(ctx, inst)
	if err != nil {
		return false, err
	}
	return tiers.Stopped(ctx, r.APIReader, inst, []*appsv1.Deployment{web, cron}, resources.ComponentWeb, resources.ComponentCron)
}

// swap renames the live database aside and the target to the live name, in
// one transaction (safe to repeat).
func (r *Reconciler) swap(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (ctrl.Result, error) {
	inst, err := r.instance(ctx, rj)
	if err != nil {
		return ctrl.Result{}, err
	}
	cluster, err := r.Clusters.ClusterOf(ctx, inst)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("the instance's PostgreSQL cluster: %w", err)
	}
	st := rj.Status
	var owner string
	err = r.Databases.WithAdmin(ctx, cluster, func(conn *pgx.Conn) error {
		if err := dbtools.SwapDatabases(ctx, conn, st.Database, st.TargetDatabase, st.KeptDatabase); err != nil {
			return err
		}
		owner, err = dbtools.DatabaseOwner(ctx, conn, st.Database)
		return err
	})
	if err != nil {
		rj.Status.Message = "swapping the restored database in: " + err.Error()
		return ctrl.Result{}, err
	}
	r.Databases.Invalidate(cluster.Name, owner, st.Database)
	return r.advance(ctx, rj, odoov1alpha2.RestoreStepFilestore, fmt.Sprintf("the restored database is now %q, the previous one is kept as %q; moving the restored filestore into place (Job %s)",
		st.Database, st.KeptDatabase, resources.RestoreFilestoreJobName(rj)))
}

// start releases the hold, then ends the restore, or waits to drop the
// previous database when the restore asks for it.
func (r *Reconciler) start(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (ctrl.Result, error) {
	inst, err := r.instance(ctx, rj)
	if err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	if err == nil && inst.Annotations[odoov1alpha2.AnnotationRestoreHold] == rj.Name {
		if err := r.setHold(ctx, inst, ""); err != nil {
			return ctrl.Result{}, err
		}
	}
	if !KeepPreviousDatabase(rj) {
		return r.advance(ctx, rj, odoov1alpha2.RestoreStepDropPrevious, fmt.Sprintf(
			"web and cron are released; the previous database %q is dropped once the instance is Ready on the restored one (keepPreviousDatabase false)",
			rj.Status.KeptDatabase))
	}
	r.complete(rj, "")
	return ctrl.Result{}, nil
}

// complete ends the restore with the summary of what it did, extra appended.
func (r *Reconciler) complete(rj *odoov1alpha2.OdooRestoreJob, extra string) {
	now := metav1.Now()
	rj.Status.Phase, rj.Status.Step, rj.Status.CompletionTime = odoov1alpha2.JobCompleted, odoov1alpha2.RestoreStepDone, &now
	rj.Status.Message = CompletedMessage(rj, Location(rj).URL) + extra
	r.event(rj, corev1.EventTypeNormal, odoov1alpha2.EventRestoreCompleted, "Restore", rj.Status.Message)
}

// CompletedMessage says what a completed restore did: the database, the
// neutralization, the filestore and the previous database.
func CompletedMessage(rj *odoov1alpha2.OdooRestoreJob, from string) string {
	st := rj.Status
	msg := fmt.Sprintf("restored %s into database %q", from, st.Database)
	switch {
	case st.Neutralized:
		msg += "; it is neutralized (odoo neutralize ran, no mail server is active)"
	case rj.Spec.Neutralize == nil:
		msg += "; it is not neutralized (the instance is Production): its mail servers and crons are active"
	case !*rj.Spec.Neutralize:
		msg += "; it is not neutralized (spec.neutralize is false): its mail servers and crons are active"
	default:
		// A restore already past verification when this operator version,
		// the first to neutralize, took over.
		msg += "; it was NOT neutralized (the restore started under an operator version without neutralize): check its mail servers and crons"
	}
	switch {
	case st.FilestoreMoved == nil:
	case *st.FilestoreMoved:
		msg += fmt.Sprintf("; the backup's filestore is in filestore/%s, the previous one kept in filestore/%s", st.Database, st.KeptDatabase)
	default:
		msg += fmt.Sprintf("; the backup held no filestore: the live filestore stays in filestore/%s", st.Database)
	}
	if st.PreviousDatabaseDropped {
		msg += fmt.Sprintf("; the previous database %q was dropped once the instance was Ready (keepPreviousDatabase false); its filestore directory filestore/%s stays",
			st.KeptDatabase, st.KeptDatabase)
	} else {
		msg += fmt.Sprintf("; the previous database is kept as %q (drop it when done)", st.KeptDatabase)
	}
	return msg + "; web and cron are released"
}
