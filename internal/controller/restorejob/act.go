package restorejob

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/restore"
)

// act carries out the action. An action that records a new step stores
// it before the next reconcile acts on that step; an action that ends a
// step by acting (the swap, the release, a drop) acts first, safe to
// repeat, then stores.
func (r *Reconciler) act(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, f restore.Facts, sn *seen, a restore.Action) (ctrl.Result, error) {
	switch a.Kind {
	case restore.Wait:
		res := ctrl.Result{}
		switch {
		case f.Problem != "":
			res.RequeueAfter = waitRetry
		case f.NotReady != "":
			res.RequeueAfter = stopRetry
		}
		return res, r.save(ctx, rj, a, f)
	case restore.Pending:
		return ctrl.Result{RequeueAfter: waitRetry}, r.save(ctx, rj, a, f)
	case restore.Begin:
		// The instance's lock, taken before anything is created: an
		// upgrade, a backup or another restore holding it makes this one
		// wait, and a change of the instance takes it up (waitingRestores).
		d, err := operation.Acquire(ctx, r.lockClient(), sn.inst, odoov1alpha2.OperationRestore, rj.Name)
		if err != nil {
			return ctrl.Result{}, err
		}
		if !d.Go() {
			return ctrl.Result{RequeueAfter: waitRetry}, r.save(ctx, rj, restore.Action{Kind: restore.Pending, Message: d.Message}, f)
		}
		return r.advance(ctx, rj, a, f)
	case restore.Advance:
		return r.advance(ctx, rj, a, f)
	case restore.CreateLoad:
		return ctrl.Result{}, r.createLoad(ctx, rj, sn)
	case restore.CreateNeutralizeJob:
		desired := resources.NeutralizeJob(resources.NeutralizeInputs{Instance: sn.inst, Restore: rj, Database: rj.Status.TargetDatabase,
			DBCA: sn.cluster.CACert != ""})
		if err := r.Apply(ctx, desired, client.FieldOwner(resources.FieldManager)); err != nil && !apierrors.IsAlreadyExists(err) {
			return ctrl.Result{}, fmt.Errorf("neutralize Job: %w", err)
		}
		return ctrl.Result{}, nil
	case restore.RouteMail:
		if err := r.routeMail(ctx, rj, sn); err != nil {
			return ctrl.Result{}, fmt.Errorf("routing the staging copy's mail to the catcher: %w", err)
		}
		return ctrl.Result{RequeueAfter: time.Millisecond}, nil
	case restore.Hold:
		// The lock at step Stop holds web and cron at 0 (operation.TiersHeld).
		d, err := operation.SetStep(ctx, r.lockClient(), sn.inst, odoov1alpha2.OperationRestore, rj.Name, string(odoov1alpha2.RestoreStepStop))
		if err == nil && !d.Go() {
			err = r.save(ctx, rj, restore.Action{Kind: restore.Wait, Message: d.Message}, f)
		}
		return ctrl.Result{RequeueAfter: stopRetry}, err
	case restore.Swap:
		if err := r.swap(ctx, rj, sn); err != nil {
			return ctrl.Result{}, errors.Join(err, r.save(ctx, rj, restore.Action{Kind: restore.Wait, Message: "swapping the restored database in: " + err.Error()}, f))
		}
		return r.advance(ctx, rj, a, f)
	case restore.CreateFilestoreJob:
		return ctrl.Result{}, r.createFilestoreJob(ctx, rj)
	case restore.Release:
		if sn.inst != nil {
			if sn.inst.Annotations[odoov1alpha2.AnnotationRestoreHold] == rj.Name {
				if err := r.setHold(ctx, sn.inst, ""); err != nil {
					return ctrl.Result{}, err
				}
			}
			if err := operation.Release(ctx, r.lockClient(), sn.inst, odoov1alpha2.OperationRestore, rj.Name); err != nil {
				return ctrl.Result{}, err
			}
		}
		if a.Step != odoov1alpha2.RestoreStepDone {
			return r.advance(ctx, rj, a, f)
		}
		return ctrl.Result{}, r.complete(ctx, rj, a, f)
	case restore.DropPrevious:
		st := rj.Status
		if err := r.Databases.WithAdmin(ctx, sn.cluster, func(conn *pgx.Conn) error {
			return dbtools.DropDatabase(ctx, conn, st.KeptDatabase)
		}); err != nil {
			return ctrl.Result{}, errors.Join(err, r.save(ctx, rj, restore.Action{Kind: restore.Wait, Message: "dropping the previous database: " + err.Error()}, f))
		}
		r.event(rj, corev1.EventTypeNormal, odoov1alpha2.EventPreviousDatabaseDropped, "DropPrevious",
			fmt.Sprintf("dropped the previous database %q (keepPreviousDatabase false)", st.KeptDatabase))
		return ctrl.Result{}, r.complete(ctx, rj, a, f)
	case restore.Complete:
		return ctrl.Result{}, r.complete(ctx, rj, a, f)
	case restore.FailBeforeSwap:
		// The target is dropped before the failure is stored: a drop that
		// fails is decided again with the whole step.
		note, dropped := r.dropTarget(ctx, rj)
		a.Message += r.untouched(rj) + note
		a.TargetDropped = dropped
		if err := r.save(ctx, rj, a, f); err != nil {
			return ctrl.Result{}, err
		}
		if dropped {
			r.event(rj, corev1.EventTypeNormal, odoov1alpha2.EventRestoreTargetDropped, "Cleanup", note[2:])
		}
		r.event(rj, corev1.EventTypeWarning, odoov1alpha2.EventRestoreFailed, "Restore", rj.Status.Message)
		return ctrl.Result{}, nil
	case restore.Fail:
		if rj.Status.Step == odoov1alpha2.RestoreStepFilestore {
			// The lock is released with the failure: the annotation keeps
			// web and cron stopped, and every other operation waiting,
			// until the user has put the filestore in place and removes it.
			inst, err := r.instance(ctx, rj)
			if err == nil {
				err = r.setHold(ctx, inst, rj.Name)
			}
			if err != nil {
				return ctrl.Result{}, client.IgnoreNotFound(err)
			}
		}
		return ctrl.Result{}, r.fail(ctx, rj, a, f)
	case restore.Refuse:
		return ctrl.Result{}, r.fail(ctx, rj, a, f)
	}
	return ctrl.Result{}, nil
}

// save stores the status a leads to, when it changes anything: the
// restore's one status writer, what changed since the restore was read (or
// last stored), under its resourceVersion.
func (r *Reconciler) save(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, a restore.Action, f restore.Facts) error {
	base := rj.DeepCopy()
	rj.Status = restore.Apply(rj.Status, a, f, metav1.Now())
	if equality.Semantic.DeepEqual(base.Status, rj.Status) {
		return nil
	}
	return operation.PatchStatus(ctx, r.Client, rj, base)
}

// advance records the next step at once, before it is acted on; the next
// reconcile acts on it.
func (r *Reconciler) advance(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, a restore.Action, f restore.Facts) (ctrl.Result, error) {
	if err := r.save(ctx, rj, a, f); err != nil {
		return ctrl.Result{}, err
	}
	if lockedStep(rj.Status.Step) {
		// The step is stored; if this write is lost, Hold and the next
		// advance record the step again.
		if _, err := r.setLockStep(ctx, rj, rj.Status.Step); err != nil {
			return ctrl.Result{}, err
		}
	}
	if a.Neutralized {
		r.event(rj, corev1.EventTypeNormal, odoov1alpha2.EventRestoreNeutralized, "Neutralize",
			fmt.Sprintf("the restored database %q is neutralized: database.is_neutralized is true, no mail server is active", rj.Status.TargetDatabase))
	}
	return ctrl.Result{RequeueAfter: time.Millisecond}, nil
}

// fail stores the failure, then tells.
func (r *Reconciler) fail(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, a restore.Action, f restore.Facts) error {
	if err := r.save(ctx, rj, a, f); err != nil {
		return err
	}
	r.event(rj, corev1.EventTypeWarning, odoov1alpha2.EventRestoreFailed, "Restore", rj.Status.Message)
	return nil
}

// complete ends the restore with the summary of what it did, what the
// action says appended.
func (r *Reconciler) complete(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, a restore.Action, f restore.Facts) error {
	probe := rj.DeepCopy()
	if a.Kind == restore.DropPrevious {
		probe.Status.PreviousDatabaseDropped = true
	}
	extra := ""
	if a.Kind == restore.Complete {
		extra = a.Message
	}
	a.Message = CompletedMessage(probe, Location(rj).URL) + extra
	if err := r.save(ctx, rj, a, f); err != nil {
		return err
	}
	r.event(rj, corev1.EventTypeNormal, odoov1alpha2.EventRestoreCompleted, "Restore", rj.Status.Message)
	return nil
}

// createLoad creates the empty target database owned by the live
// database's owner and the one Job loading the backup into it.
func (r *Reconciler) createLoad(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, sn *seen) error {
	err := r.Databases.WithAdmin(ctx, sn.cluster, func(conn *pgx.Conn) error {
		return restore.CreateTarget(ctx, conn, rj.Status.TargetDatabase, sn.login.Role, rj.Status.Database)
	})
	if err != nil {
		return fmt.Errorf("restore target database: %w", err)
	}
	major, err := r.Databases.ServerMajorVersion(ctx, sn.cluster)
	if err != nil {
		return fmt.Errorf("PostgreSQL server version: %w", err)
	}
	inst, cluster := sn.inst, sn.cluster
	desired := resources.RestoreBackupJob(resources.RestoreBackupJobInputs{
		Restore: rj, Location: withEgress(Location(rj), rj, r.Egress), FilestoreClaim: resources.FilestoreClaimName(inst),
		Data: resources.DataJobInputs{
			Instance: inst, OperatorImage: r.Images.Operator, ClientImage: r.Images.PostgresClient(major),
			Host: cluster.Host, Port: cluster.Port, SSLMode: cluster.ClientSSLMode(), DBCA: cluster.CACert != "", Database: rj.Status.TargetDatabase,
			Deadline: r.DataJobDeadline,
		},
	})
	if err := r.Apply(ctx, desired, client.FieldOwner(resources.FieldManager)); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("restore Job: %w", err)
	}
	return nil
}

// swap renames the live database aside and the target to the live name, in
// one transaction (safe to repeat).
func (r *Reconciler) swap(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, sn *seen) error {
	st := rj.Status
	var owner string
	err := r.Databases.WithAdmin(ctx, sn.cluster, func(conn *pgx.Conn) error {
		var err error
		owner, err = restore.SwapIn(ctx, conn, st.Database, st.TargetDatabase, st.KeptDatabase)
		return err
	})
	if err != nil {
		return err
	}
	r.Databases.Invalidate(sn.cluster.Name, owner, st.Database)
	return nil
}
