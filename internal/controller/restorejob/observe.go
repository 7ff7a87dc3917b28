package restorejob

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/restore"
)

// seen is what observe read and the action needs again: the instance,
// its cluster and login, the step's Job.
type seen struct {
	inst    *odoov1alpha2.OdooInstance
	cluster postgres.Cluster
	login   postgres.TenantLogin
	job     *batchv1.Job
	// catcher is where the neutralized copy's mail goes (RouteMail).
	catcher MailCatcher
}

// observe reads what the recorded step needs, and nothing more. An error
// is retried with backoff; a passing problem becomes Facts.Problem.
func (r *Reconciler) observe(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (restore.Facts, *seen, error) {
	f := restore.Facts{Location: Location(rj).URL, Instance: rj.Spec.OdooInstanceRef.Name, KeepPrevious: KeepPreviousDatabase(rj)}
	sn := &seen{}
	var err error
	switch rj.Status.Step {
	case "":
		err = r.observeStart(ctx, rj, &f, sn)
	case odoov1alpha2.RestoreStepLoad:
		err = r.observeLoad(ctx, rj, &f, sn)
	case odoov1alpha2.RestoreStepNeutralize:
		err = r.observeNeutralize(ctx, rj, &f, sn)
	case odoov1alpha2.RestoreStepStop:
		if sn.inst, err = r.instance(ctx, rj); err == nil {
			f.Stopped, err = r.heldAndStopped(ctx, rj, sn.inst)
		}
	case odoov1alpha2.RestoreStepSwap:
		f.NextJob = resources.RestoreFilestoreJobName(rj)
		if sn.inst, err = r.instance(ctx, rj); err == nil {
			if sn.cluster, err = r.clusterOf(ctx, sn.inst); err != nil {
				err = fmt.Errorf("the instance's PostgreSQL cluster: %w", err)
			}
		}
	case odoov1alpha2.RestoreStepFilestore:
		err = r.observeFilestore(ctx, rj, &f, sn)
	case odoov1alpha2.RestoreStepStart:
		sn.inst, err = r.instance(ctx, rj)
		if apierrors.IsNotFound(err) {
			sn.inst, err = nil, nil
		}
	case odoov1alpha2.RestoreStepDropPrevious:
		err = r.observeDropPrevious(ctx, rj, &f, sn)
	}
	return f, sn, err
}

// observeStart checks the spec, the instance and the Secrets, and derives
// the names Begin records.
func (r *Reconciler) observeStart(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, f *restore.Facts, sn *seen) error {
	if f.Refusal = Invalid(rj); f.Refusal == "" {
		f.Refusal = egressRefusal(rj, r.Egress)
	}
	if f.Refusal != "" {
		return nil
	}
	inst, err := r.instance(ctx, rj)
	if apierrors.IsNotFound(err) {
		f.Waiting = fmt.Sprintf("waiting for OdooInstance %q to exist", rj.Spec.OdooInstanceRef.Name)
		return nil
	}
	if err != nil {
		return err
	}
	sn.inst = inst
	if Neutralize(rj, inst) {
		// Refused before anything is loaded; checked again after neutralize,
		// as the policies may change meanwhile.
		if _, refusal, err := r.catcherFor(ctx, inst); err != nil || refusal != "" {
			f.Refusal = catcherRefusal(refusal)
			return err
		}
	}
	// Whether another operation holds the instance is the lock's to say,
	// when Begin takes it.
	if s3 := rj.Spec.Source.S3; rj.Spec.Source.Type == odoov1alpha2.RestoreSourceS3 && s3.S3CredentialsSecretRef != nil {
		err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: rj.Namespace, Name: s3.S3CredentialsSecretRef.Name}, &corev1.Secret{})
		if apierrors.IsNotFound(err) {
			f.Waiting = fmt.Sprintf("waiting for the S3 credentials Secret %q in namespace %q", s3.S3CredentialsSecretRef.Name, rj.Namespace)
			return nil
		}
		if err != nil {
			return err
		}
	}
	if rj.Spec.Source.Type == odoov1alpha2.RestoreSourceOdoo {
		if f.Waiting, err = r.odooPassword(ctx, rj); err != nil || f.Waiting != "" {
			return err
		}
	}
	live := inst.Status.Database.Name
	f.Names = restore.Names{Database: live, Target: resources.RestoreTargetDatabaseName(live, rj),
		Kept: resources.PreRestoreDatabaseName(live, rj), Job: resources.RestoreBackupJobName(rj)}
	return nil
}

// jobResult is the seam to the data Job's result.
func (r *Reconciler) jobResult(ctx context.Context, job *batchv1.Job) (*datajob.Result, int32, bool) {
	return datajob.Read(ctx, r.APIReader, job)
}

// failureMessage explains a failed data Job.
func (r *Reconciler) failureMessage(ctx context.Context, what string, job *batchv1.Job) string {
	c := resources.FinishedCondition(job)
	if c == nil {
		return ""
	}
	res, exit, found := r.jobResult(ctx, job)
	return datajob.FailureMessage(what, job, *c, res, exit, found)
}

// job reads the step's Job straight from the API server: a Job created a
// moment ago may not be in the cache yet, and a second create must never be
// attempted on the strength of a stale cache.
func (r *Reconciler) job(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, name string) (*batchv1.Job, datajob.Outcome, error) {
	job := &batchv1.Job{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: rj.Namespace, Name: name}, job)
	if apierrors.IsNotFound(err) {
		return nil, datajob.Absent, nil
	}
	if err != nil {
		return nil, datajob.Absent, err
	}
	return job, datajob.OutcomeOf(job), nil
}

// connect finds the instance's cluster and login; what is missing is a
// passing problem.
func (r *Reconciler) connect(ctx context.Context, f *restore.Facts, sn *seen) {
	var err error
	if sn.cluster, err = r.clusterOf(ctx, sn.inst); err != nil {
		f.Problem = "the instance's PostgreSQL cluster: " + err.Error()
		return
	}
	if sn.login, err = r.tenantLogin(ctx, sn.inst); err != nil {
		f.Problem = err.Error()
	}
}

// observeLoad follows the load Job; once it succeeded, the loaded database
// is checked: an Odoo database of the instance's series.
func (r *Reconciler) observeLoad(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, f *restore.Facts, sn *seen) error {
	var err error
	if sn.job, f.Job, err = r.job(ctx, rj, rj.Status.JobName); err != nil {
		return err
	}
	switch f.Job {
	case datajob.Absent:
		sn.inst, err = r.instance(ctx, rj)
		if apierrors.IsNotFound(err) {
			f.InstanceGone = true
			return nil
		}
		if err != nil {
			return err
		}
		r.connect(ctx, f, sn)
		return nil
	case datajob.Running:
		return nil
	case datajob.Failed:
		f.JobFailure = r.failureMessage(ctx, "restore", sn.job)
		return nil
	}
	if res, _, _ := r.jobResult(ctx, sn.job); res != nil {
		f.SHA256 = res.SHA256
	}
	if sn.inst, err = r.instance(ctx, rj); err != nil {
		return err
	}
	f.Neutralize, f.NextJob = Neutralize(rj, sn.inst), resources.NeutralizeJobName(rj)
	if r.connect(ctx, f, sn); f.Problem != "" {
		return nil
	}
	var mods []dbtools.Module
	err = r.Databases.WithTenantDatabase(ctx, sn.cluster, sn.login, rj.Status.TargetDatabase, func(conn *pgx.Conn) error {
		mods, err = dbtools.ReadModules(ctx, conn)
		return err
	})
	switch {
	case errors.Is(err, dbtools.ErrNoModuleTable):
		f.Checked, f.CheckFailure = true, "the restored database is not an Odoo database: "+err.Error()
	case err != nil:
		return fmt.Errorf("verifying the restored database: %w", err)
	default:
		f.Checked, f.CheckFailure = true, CheckModules(mods, sn.inst.Spec.Image)
	}
	return nil
}

// observeNeutralize follows the neutralize Job, then checks the result
// in-process, logged in as the instance's own role.
func (r *Reconciler) observeNeutralize(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, f *restore.Facts, sn *seen) error {
	var err error
	sn.inst, err = r.instance(ctx, rj)
	if apierrors.IsNotFound(err) {
		f.InstanceGone = true
		return nil
	}
	if err != nil {
		return err
	}
	if sn.job, f.Job, err = r.job(ctx, rj, resources.NeutralizeJobName(rj)); err != nil {
		return err
	}
	switch f.Job {
	case datajob.Absent:
		// The Job reaches the database like the instance's pods, with the
		// cluster's CA when it has one.
		if sn.cluster, err = r.clusterOf(ctx, sn.inst); err != nil {
			f.Problem = "the instance's PostgreSQL cluster: " + err.Error()
		}
		return nil
	case datajob.Running:
		return nil
	case datajob.Failed:
		pods := &corev1.PodList{}
		if err := r.APIReader.List(ctx, pods, client.InNamespace(sn.job.Namespace), client.MatchingLabels{"batch.kubernetes.io/job-name": sn.job.Name}); err != nil {
			return err
		}
		f.JobFailure = resources.InitJobOutcome(sn.job, pods.Items).Message
		return nil
	}
	if r.connect(ctx, f, sn); f.Problem != "" {
		return nil
	}
	var facts NeutralizeFacts
	err = r.Databases.WithTenantDatabase(ctx, sn.cluster, sn.login, rj.Status.TargetDatabase, func(conn *pgx.Conn) error {
		facts, err = readNeutralizeFacts(ctx, conn)
		return err
	})
	if err != nil {
		return fmt.Errorf("checking the neutralized database: %w", err)
	}
	f.Checked = true
	catcher, refusal, err := r.catcherFor(ctx, sn.inst)
	if err != nil {
		return err
	}
	sn.catcher = catcher
	f.MailCatcher, f.MailRouted = catcher.Host, catcher.Host != "" && mailRouted(facts, catcher)
	if msg := CheckNeutralized(facts, catcher.Host); msg != "" {
		f.CheckFailure = fmt.Sprintf("the restored database %q is not neutralized after the Job %s: %s; the restore is refused (deactivate it in the restore's source, or set spec.neutralize: false for a disaster-recovery restore)",
			rj.Status.TargetDatabase, sn.job.Name, msg)
	} else if refusal != "" {
		f.CheckFailure = catcherRefusal(refusal)
	}
	return nil
}

// heldAndStopped is true once the restore holds the instance and its web
// and cron (read live) run no replica and no pod of theirs is left.
func (r *Reconciler) heldAndStopped(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, inst *odoov1alpha2.OdooInstance) (bool, error) {
	if operation.TiersHeld(inst) != rj.Name {
		return false, nil
	}
	return r.stopped(ctx, inst)
}

// observeFilestore follows the Job moving the restored filestore in.
func (r *Reconciler) observeFilestore(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, f *restore.Facts, sn *seen) error {
	var err error
	f.NextJob = resources.RestoreFilestoreJobName(rj)
	if sn.job, f.Job, err = r.job(ctx, rj, f.NextJob); err != nil {
		return err
	}
	switch f.Job {
	case datajob.Succeeded:
		if res, _, _ := r.jobResult(ctx, sn.job); res != nil {
			f.FilestoreResult = res.Filestore
		}
	case datajob.Failed:
		f.JobFailure = r.failureMessage(ctx, "filestore", sn.job)
	}
	return nil
}

// observeDropPrevious reads whether the instance serves the restored
// database, and whether the kept name is this restore's.
func (r *Reconciler) observeDropPrevious(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, f *restore.Facts, sn *seen) error {
	st := rj.Status
	var err error
	sn.inst, err = r.instance(ctx, rj)
	if apierrors.IsNotFound(err) {
		f.InstanceGone = true
		return nil
	}
	if err != nil {
		return err
	}
	web, cron, err := r.deployments(ctx, sn.inst)
	if err != nil {
		return err
	}
	if ok, why := ReadyOnRestored(sn.inst, web, cron); !ok {
		f.NotReady = why
		return nil
	}
	if st.KeptDatabase == "" || st.KeptDatabase != resources.PreRestoreDatabaseName(st.Database, rj) {
		f.KeptNameWrong = fmt.Sprintf("status.keptDatabase %q is not the name this restore keeps the previous database under (%q): nothing was dropped",
			st.KeptDatabase, resources.PreRestoreDatabaseName(st.Database, rj))
		return nil
	}
	if sn.cluster, err = r.clusterOf(ctx, sn.inst); err != nil {
		f.Problem = "the instance's PostgreSQL cluster: " + err.Error()
	}
	return nil
}
