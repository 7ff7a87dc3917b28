package odooinstance

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// Databases is the PostgreSQL side of the operator: a postgres.Manager with
// one small connection pool per cluster.
type Databases interface {
	Ensure(ctx context.Context, c postgres.Cluster, role postgres.DesiredRole, db postgres.DesiredDatabase) (postgres.EnsureResult, error)
	Drop(ctx context.Context, c postgres.Cluster, roleName, dbName string) ([]postgres.Action, error)
	DatabaseExists(ctx context.Context, c postgres.Cluster, name string) (bool, error)
	// ServerMajorVersion picks the PostgreSQL client image of data Jobs.
	ServerMajorVersion(ctx context.Context, c postgres.Cluster) (int, error)
	// WithTenantDatabase runs fn on a connection to one of the instance's
	// databases logged in as the instance's own role (module versions before
	// and after an upgrade, the restored database's check): never as the
	// admin, whose reads would run the tenant's functions as a superuser.
	WithTenantDatabase(ctx context.Context, c postgres.Cluster, login postgres.TenantLogin, db string, fn func(*pgx.Conn) error) error
	// WithAdmin runs fn on an admin connection to the maintenance database
	// (creating a restore target, swapping database names).
	WithAdmin(ctx context.Context, c postgres.Cluster, fn func(*pgx.Conn) error) error
	// Invalidate forgets what is known of a role and database.
	Invalidate(cluster, role, db string)
}

// ClusterSource says where instances find their PostgreSQL cluster.
type ClusterSource = postgres.ClusterSource

// resolveCluster finds the cluster of an instance. An unknown cluster name or
// an unreadable Secret stalls the instance: only the user can fix them.
func (r *Reconciler) resolveCluster(ctx context.Context, s *scope) error {
	c, legacy, err := postgres.FindCluster(ctx, r.Client, r.Clusters, s.instance)
	var p *postgres.ClusterProblem
	if errors.As(err, &p) {
		s.stalled = &problem{p.Reason, p.Message}
		return nil
	}
	if err != nil {
		return err
	}
	s.cluster, s.legacyConnection = c, legacy
	return nil
}

// databaseName is the database the instance uses. Once recorded in status it
// never changes, so a change in how default names are derived can never move
// an instance to another (empty) database.
func databaseName(inst *odoov1alpha2.OdooInstance) string {
	if inst.Status.Database != nil && inst.Status.Database.Name != "" {
		return inst.Status.Database.Name
	}
	return resources.DatabaseName(inst)
}

// reconcileDatabase makes sure the instance's role and database exist on its
// cluster, with the password of the credentials Secret.
func (r *Reconciler) reconcileDatabase(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	if err := r.resolveCluster(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if s.stalled != nil {
		s.stop = true
		return ctrl.Result{}, nil
	}
	s.dbName = databaseName(inst)
	if spec := inst.Spec.Database.Name; spec != "" && spec != s.dbName {
		s.stalled = &problem{odoov1alpha2.ReasonDatabaseNameChanged, fmt.Sprintf(
			"spec.database.name %q differs from the database in use %q; the operator never switches databases by itself: set spec.database.name back to %[2]q, and restore a backup into a new instance to move the data",
			spec, s.dbName)}
		s.stop = true
		return ctrl.Result{}, nil
	}
	if err := r.Health.Err(s.cluster); err != nil {
		s.degraded = append(s.degraded, databaseProblem(s.cluster, err))
		s.dbProblem = true
		return ctrl.Result{}, nil
	}

	initialized := inst.Status.Database != nil && inst.Status.Database.Initialized
	desiredDB := postgres.DesiredDatabase{Name: s.dbName, Owner: s.dbUser}
	if initialized {
		exists, err := r.Databases.DatabaseExists(ctx, s.cluster, s.dbName)
		if err != nil {
			s.degraded = append(s.degraded, databaseProblem(s.cluster, err))
			s.dbProblem = true
			return ctrl.Result{}, err
		}
		if !exists {
			s.databaseMissing = true
			if inst.Spec.Database.MissingPolicy != odoov1alpha2.DatabaseMissingRecreate {
				// Never create an empty database under a running Odoo: it
				// would look like data loss repaired when it is not.
				s.degraded = append(s.degraded, problem{odoov1alpha2.ReasonDatabaseMissing, fmt.Sprintf(
					"database %q no longer exists on cluster %q; restore it, or set spec.database.missingPolicy: Recreate to initialise an empty one",
					s.dbName, s.cluster.Name)})
				s.dbProblem = true
				// Nothing to ensure: the role is untouched by a dropped
				// database, and Ensure has no database to name.
				return ctrl.Result{}, nil
			}
			s.reinitialize = true
			s.initialized = false
		}
	}
	res, err := r.Databases.Ensure(ctx, s.cluster, postgres.DesiredRole{Name: s.dbUser, Password: s.dbPassword}, desiredDB)
	if errors.Is(err, postgres.ErrConflict) {
		// A database that is not provably this instance's (owned by another
		// role, the admin or a superuser) or a privileged role: only a
		// person can settle it, nothing was changed.
		s.stalled = &problem{odoov1alpha2.ReasonDatabaseConflict, fmt.Sprintf("spec.database.name %q: %v", s.dbName, err)}
		s.stop = true
		return ctrl.Result{RequeueAfter: stalledRetry}, nil
	}
	if err != nil {
		s.degraded = append(s.degraded, databaseProblem(s.cluster, err))
		s.dbProblem = true
		return ctrl.Result{}, err
	}
	if len(res.Actions) > 0 {
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseCreated, "Database",
			"cluster %s: %s", s.cluster.Name, actionsNote(res.Actions))
	}
	return ctrl.Result{}, nil
}

// databaseProblem turns a PostgreSQL error into a Degraded reason; messages
// from internal/postgres never contain a password.
func databaseProblem(c postgres.Cluster, err error) problem {
	switch {
	case errors.Is(err, postgres.ErrUnreachable):
		return problem{odoov1alpha2.ReasonDatabaseUnreachable, fmt.Sprintf("PostgreSQL cluster %q at %s:%d is unreachable: %v; retrying", c.Name, c.Host, c.Port, err)}
	case errors.Is(err, postgres.ErrAuthentication):
		return problem{odoov1alpha2.ReasonDatabaseAuthenticationFailed, fmt.Sprintf("PostgreSQL cluster %q refused the admin login of %q: check adminUser/adminPassword in the clusters Secret", c.Name, c.AdminUser)}
	default:
		return problem{odoov1alpha2.ReasonDatabaseError, fmt.Sprintf("PostgreSQL cluster %q: %v", c.Name, err)}
	}
}

// reconcileInit runs the init Job until the database is initialised.
func (r *Reconciler) reconcileInit(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	s.initialized = inst.Status.Database != nil && inst.Status.Database.Initialized && !s.reinitialize
	if s.dbProblem || s.initialized {
		// An init that ended before a restart releases its lock here.
		if s.initialized {
			return ctrl.Result{}, r.unlock(ctx, s, odoov1alpha2.OperationInit)
		}
		return ctrl.Result{}, nil
	}
	modules, demo := inst.Spec.Init.Modules, inst.Spec.Init.Demo
	if req := s.initRequest; req != nil {
		modules, demo = req.Spec.Modules, req.Spec.Demo
	}
	in := resources.InitInputs{Instance: inst, Image: inst.Spec.Image, Database: s.dbName, Modules: modules, Demo: demo, ConfHash: s.confHash,
		FilestoreClaim: resources.FilestoreClaimName(inst), DBCA: s.cluster.CACert != ""}
	name := resources.InitJobName(in)
	s.initJobName = name
	job := &batchv1.Job{}
	err := r.Get(ctx, types.NamespacedName{Namespace: inst.Namespace, Name: name}, job)
	if apierrors.IsNotFound(err) || err == nil && s.reinitialize && resources.InitJobOutcome(job, nil).Done {
		// The lock before a new init Job: initialising a database another
		// operation holds would overwrite it.
		if d, lerr := r.lockStep(ctx, s, odoov1alpha2.OperationInit, nil); lerr != nil || !d.Go() {
			if lerr != nil {
				return ctrl.Result{}, lerr
			}
			s.degraded = append(s.degraded, problem{odoov1alpha2.ReasonInitRefused, d.Message})
			return ctrl.Result{RequeueAfter: requeueShort}, nil
		}
	}
	if err == nil && s.reinitialize && resources.InitJobOutcome(job, nil).Done {
		// The database was recreated empty: the old run's result says nothing
		// about it. Remove the finished Job so the same name runs again.
		err = client.IgnoreNotFound(r.Delete(ctx, job, client.PropagationPolicy("Background")))
		if err != nil {
			return ctrl.Result{}, wrap("removing the previous init Job", err)
		}
		s.initState = initRunning
		return ctrl.Result{RequeueAfter: requeueShort}, nil
	}
	if apierrors.IsNotFound(err) {
		desired := resources.InitJob(in)
		// Applied only when absent, so effectively create-only: a Job's
		// template is immutable, and its name already says what it does.
		if err := r.Applier.Client.Apply(ctx, desired, client.FieldOwner(resources.FieldManager)); err != nil {
			return ctrl.Result{}, wrap("init Job", err)
		}
		s.initState = initRunning
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	var pods []corev1.Pod
	if failedCondition(job) {
		list := &corev1.PodList{}
		if err := r.APIReader.List(ctx, list, client.InNamespace(inst.Namespace), client.MatchingLabels{"job-name": name}); err == nil {
			pods = list.Items
		}
	}
	outcome := resources.InitJobOutcome(job, pods)
	switch {
	case outcome.Failed:
		if err := r.unlock(ctx, s, odoov1alpha2.OperationInit); err != nil {
			return ctrl.Result{}, err
		}
		s.initState = initFailed
		s.degraded = append(s.degraded, problem{odoov1alpha2.ReasonInitFailed, fmt.Sprintf(
			"initialising database %q failed: %s; the database is kept for inspection (kubectl logs job/%s); fix the cause and change spec.image or spec.init to retry",
			s.dbName, outcome.Message, name)})
	case outcome.Done:
		if err := r.unlock(ctx, s, odoov1alpha2.OperationInit); err != nil {
			return ctrl.Result{}, err
		}
		s.initState = initSucceeded
		s.initialized = true
	default:
		s.initState = initRunning
	}
	return ctrl.Result{}, nil
}

func failedCondition(job *batchv1.Job) bool {
	c := resources.FinishedCondition(job)
	return c != nil && c.Type == batchv1.JobFailed
}
