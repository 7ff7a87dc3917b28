// Package restorejob reconciles OdooRestoreJob objects: the backup is loaded
// by one Job into a new database, verified and neutralized, then swapped in
// for the live one while the instance's web and cron are held at 0, its
// filestore moved into place; the live database is kept aside under another
// name, dropped only when the restore asks for it.
package restorejob

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/backup/odoozip"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/egress"
	"github.com/odoo-operator/odoo-operator/internal/observe"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/restore"
	"github.com/odoo-operator/odoo-operator/internal/tiers"
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
	// Clusters says where an instance finds its PostgreSQL cluster.
	Clusters  postgres.ClusterSource
	Databases Databases
	Images    datajob.Images
	// Recorder emits the restore's events; nil emits none.
	Recorder recorder.EventRecorder
	// DataJobDeadline is the data Jobs' activeDeadlineSeconds; 0 means
	// resources.DefaultDataJobDeadline.
	DataJobDeadline time.Duration
	// Egress is what a restore from a live Odoo may connect to; its Job
	// gets it too.
	Egress egress.Policy
	// MailCatcher receives the mail of Staging copies (--staging-mail-catcher);
	// empty leaves them with neutralize's dummy server, which sends nothing.
	MailCatcher MailCatcher
}

// +kubebuilder:rbac:groups=bemade.org,resources=odoorestorejobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=bemade.org,resources=odoorestorejobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=bemade.org,resources=odooinstances/status,verbs=get;patch
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
		Watches(&odoov1alpha2.OdooInstance{}, handler.EnqueueRequestsFromMapFunc(r.waitingRestores)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2}).
		Complete(observe.TraceReconciler("OdooRestoreJob", r))
}

const (
	// waitRetry is how often a restore waiting for its instance looks again.
	waitRetry = 15 * time.Second
	// stopRetry is how often a restore waiting for web and cron to stop looks again.
	stopRetry = 2 * time.Second
)

// Reconcile drives one OdooRestoreJob through its steps (package restore):
// it observes what the recorded step needs, decides, and carries the action
// out; a new step is stored before it is acted on.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rj := &odoov1alpha2.OdooRestoreJob{}
	if err := r.APIReader.Get(ctx, req.NamespacedName, rj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if rj.Status.Phase.Finished() {
		// Released once the end is stored (again after a restart between).
		return ctrl.Result{}, r.releaseLock(ctx, rj)
	}
	f, sn, err := r.observe(ctx, rj)
	if err != nil {
		return ctrl.Result{}, err
	}
	res, err := r.act(ctx, rj, f, sn, restore.Decide(rj.Status, f))
	if operation.IsConflict(err) {
		// The restore changed since it was read: decide again on the stored one.
		return ctrl.Result{RequeueAfter: operation.ConflictRetry}, nil
	}
	if err == nil && rj.Status.Phase.Finished() {
		err = r.releaseLock(ctx, rj)
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

// event records an event on the restore.
func (r *Reconciler) event(rj *odoov1alpha2.OdooRestoreJob, eventType, reason, action, msg string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(rj, nil, eventType, reason, action, "%s", msg)
	}
}

// instance reads the restored instance straight from the API server.
func (r *Reconciler) instance(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (*odoov1alpha2.OdooInstance, error) {
	inst := &odoov1alpha2.OdooInstance{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: rj.Namespace, Name: rj.Spec.OdooInstanceRef.Name}, inst)
	return inst, err
}

// untouched ends the failure messages of the steps before the swap.
func (r *Reconciler) untouched(rj *odoov1alpha2.OdooRestoreJob) string {
	return fmt.Sprintf("; the live database %q is untouched", rj.Status.Database)
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

// setHold sets (name != "") or removes the restore-hold annotation: the
// hold left for the user after a restore failed past its swap, and the one
// an operator version older than the lock set around the swap.
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
