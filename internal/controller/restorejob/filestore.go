package restorejob

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// filestore runs the Job that moves the restored filestore into the live
// database's directory, while web and cron are still held: no Odoo process
// writes attachments into either directory meanwhile.
func (r *Reconciler) filestore(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (ctrl.Result, error) {
	job := &batchv1.Job{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: rj.Namespace, Name: resources.RestoreFilestoreJobName(rj)}, job)
	switch {
	case apierrors.IsNotFound(err):
		return ctrl.Result{}, r.createFilestoreJob(ctx, rj)
	case err != nil:
		return ctrl.Result{}, err
	}
	st := rj.Status
	if c := resources.FinishedCondition(job); c != nil {
		switch c.Type {
		case batchv1.JobComplete:
			res, _, _ := datajob.Read(ctx, r.APIReader, job)
			msg := fmt.Sprintf("the restored filestore is in filestore/%s, the previous one kept in filestore/%s; releasing web and cron", st.Database, st.KeptDatabase)
			switch {
			case res != nil && res.Filestore == datajob.FilestoreMoved:
				rj.Status.FilestoreMoved = ptr.To(true)
			case res != nil && res.Filestore == datajob.FilestoreAbsent:
				rj.Status.FilestoreMoved = ptr.To(false)
				msg = fmt.Sprintf("the backup held no filestore: the live filestore stays in filestore/%s; releasing web and cron", st.Database)
			default:
				msg = fmt.Sprintf("the filestore Job %s succeeded without a result; releasing web and cron", job.Name)
			}
			return r.advance(ctx, rj, odoov1alpha2.RestoreStepStart, msg)
		case batchv1.JobFailed:
			res, exit, found := datajob.Read(ctx, r.APIReader, job)
			// The lock is released with the failure: the annotation keeps web
			// and cron stopped, and every other operation waiting, until the
			// user has put the filestore in place and removes it.
			inst, err := r.instance(ctx, rj)
			if err == nil {
				err = r.setHold(ctx, inst, rj.Name)
			}
			if err != nil {
				return ctrl.Result{}, client.IgnoreNotFound(err)
			}
			r.fail(rj, datajob.FailureMessage("filestore", job, *c, res, exit, found)+fmt.Sprintf(
				"; the restored database is already live as %q (the previous one kept as %q) and web and cron stay stopped: "+
					"put filestore/%s in place of filestore/%s by hand (keep the old one as filestore/%s), then remove the annotation %s from OdooInstance %q",
				st.Database, st.KeptDatabase, st.TargetDatabase, st.Database, st.KeptDatabase, odoov1alpha2.AnnotationRestoreHold, rj.Spec.OdooInstanceRef.Name))
			return ctrl.Result{}, nil
		}
	}
	return ctrl.Result{}, nil
}

// createFilestoreJob creates the create-only filestore Job.
func (r *Reconciler) createFilestoreJob(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) error {
	inst, err := r.instance(ctx, rj)
	if err != nil {
		return err
	}
	cluster, err := r.clusterOf(ctx, inst)
	if err != nil {
		return fmt.Errorf("the instance's PostgreSQL cluster: %w", err)
	}
	major, err := r.Databases.ServerMajorVersion(ctx, cluster)
	if err != nil {
		return fmt.Errorf("PostgreSQL server version: %w", err)
	}
	st := rj.Status
	desired := resources.RestoreFilestoreJob(resources.RestoreFilestoreJobInputs{
		Restore: rj, Target: st.TargetDatabase, Kept: st.KeptDatabase, FilestoreClaim: resources.FilestoreClaimName(inst),
		Data: resources.DataJobInputs{
			Instance: inst, OperatorImage: r.Images.Operator, ClientImage: r.Images.PostgresClient(major),
			Host: cluster.Host, Port: cluster.Port, SSLMode: cluster.ClientSSLMode(), DBCA: cluster.CACert != "", Database: st.Database,
			Deadline: r.DataJobDeadline,
		},
	})
	if err := r.Apply(ctx, desired, client.FieldOwner(resources.FieldManager)); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("filestore Job: %w", err)
	}
	return nil
}
