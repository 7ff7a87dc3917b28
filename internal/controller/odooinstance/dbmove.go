package odooinstance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbmove"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/operation"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// A change of spec.database.cluster on an initialised instance moves its
// database, decided by package dbmove from status.database.move and what
// exists (the tiers, the dump and load Jobs, the databases); this file
// observes and carries out its steps. The database stays on the cluster
// status.database.cluster records (postgres.FindCluster) until the swap.

// reconcileDatabaseMove runs one step of a move.
func (r *Reconciler) reconcileDatabaseMove(ctx context.Context, s *scope) (ctrl.Result, error) {
	inst := s.instance
	if s.dbProblem || s.legacyConnection || inst.Status.Database == nil || s.cluster.Name == "" {
		return ctrl.Result{}, nil
	}
	db := *inst.Status.Database.DeepCopy()
	f, target, err := r.observeMove(ctx, s, &db)
	if err != nil {
		return ctrl.Result{}, err
	}
	a := dbmove.Decide(db.Move, f)
	if a.Kind == dbmove.Begin {
		// Refusals cost a query on the target: only read when a move would
		// start.
		if f.Refusal, err = r.moveRefusal(ctx, s, target); err != nil {
			return ctrl.Result{}, err
		}
		a = dbmove.Decide(db.Move, f)
	}
	if a.Kind == dbmove.Check {
		if f.CheckFailure, err = r.compareMoved(ctx, s, db.Move); err != nil {
			return ctrl.Result{}, err
		}
		f.Checked = true
		a = dbmove.Decide(db.Move, f)
	}
	if a.Kind != dbmove.None && a.Kind != dbmove.Refuse || dbmove.Moving(&db) {
		// Decide on the status as stored, never on a cache that missed
		// this operator's last write: a stale step would run its Job again
		// or drop the target after the swap.
		live := &odoov1alpha2.OdooInstance{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(inst), live); err != nil {
			return ctrl.Result{}, err
		}
		if !equality.Semantic.DeepEqual(live.Status.Database, inst.Status.Database) {
			s.stop, s.staleStatus = true, true
			return ctrl.Result{RequeueAfter: requeueShort}, nil
		}
	}
	if a.Kind == dbmove.Begin {
		// The lock before the move is recorded: an upgrade, a backup, a
		// restore or a filestore migration holding it makes the move wait.
		if d, err := r.lockStep(ctx, s, odoov1alpha2.OperationDatabaseMove, nil); err != nil || !d.Go() {
			if err == nil {
				s.progressing = &problem{odoov1alpha2.ReasonDatabaseMoving, fmt.Sprintf(
					"spec.database.cluster asks to move the database from cluster %q to %q: %s", s.cluster.Name, target.Name, d.Message)}
			}
			return ctrl.Result{RequeueAfter: requeueShort}, err
		}
	}
	res, err := r.runMoveAction(ctx, s, &db, a, target)
	if err == nil {
		err = r.moveLock(ctx, s)
	}
	return res, err
}

// observeMove reads what dbmove.Decide needs; target is the cluster the move
// goes to (the recorded one while a move runs, else the spec's).
func (r *Reconciler) observeMove(ctx context.Context, s *scope, db *odoov1alpha2.DatabaseStatus) (dbmove.Facts, postgres.Cluster, error) {
	inst := s.instance
	f := dbmove.Facts{
		Serving: s.cluster.Name,
		// Nothing moves a database Odoo's init or an upgrade writes to.
		Ready: db.Initialized && !upgrade.InFlight(inst.Status.Upgrade),
	}
	var target postgres.Cluster
	if m := db.Move; dbmove.Moving(db) {
		spec := inst.DeepCopy()
		spec.Spec.Database.Cluster, spec.Status.Database = m.TargetCluster, nil
		c, _, err := postgres.FindSpecCluster(ctx, r.Client, r.Clusters, spec)
		var p *postgres.ClusterProblem
		switch {
		case errors.As(err, &p):
			// The target left the clusters Secret during the move: the
			// step cannot go on; the tiers stay stopped until it is back
			// or the move is failed below.
			return f, target, fmt.Errorf("database move to cluster %q: %s", m.TargetCluster, p.Message)
		case err != nil:
			return f, target, err
		}
		target = c
		if s.cluster.Name != m.SourceCluster {
			// Never dump from, or compare against, another cluster than
			// the move's source.
			return f, target, fmt.Errorf("database move from cluster %q: the instance resolved cluster %q; waiting for %q to be back in the clusters Secret",
				m.SourceCluster, s.cluster.Name, m.SourceCluster)
		}
		if err := r.observeMoveStep(ctx, s, m, &f); err != nil {
			return f, target, err
		}
		return f, target, nil
	}
	name := inst.Spec.Database.Cluster
	if name == "" || name == r.Clusters.DefaultAlias && !r.clusterDefined(ctx, name) {
		// An empty spec never moves: the instance stays where it is.
		return f, target, nil
	}
	c, _, err := postgres.FindSpecCluster(ctx, r.Client, r.Clusters, inst)
	var p *postgres.ClusterProblem
	switch {
	case errors.As(err, &p):
		f.Wanted = name
		f.Refusal = fmt.Sprintf("%s; the database stays on cluster %q: set spec.database.cluster back to %q, or ask the administrator to add the cluster",
			p.Message, s.cluster.Name, s.cluster.Name)
		return f, target, nil
	case err != nil:
		return f, target, err
	}
	f.Wanted, target = c.Name, c
	return f, target, nil
}

// clusterDefined says whether the clusters Secret defines name.
func (r *Reconciler) clusterDefined(ctx context.Context, name string) bool {
	probe := &odoov1alpha2.OdooInstance{}
	probe.Spec.Database.Cluster = name
	c, _, err := postgres.FindSpecCluster(ctx, r.Client, r.Clusters, probe)
	return err == nil && c.Name == name
}

// observeMoveStep reads the tiers or the Job of the recorded step.
func (r *Reconciler) observeMoveStep(ctx context.Context, s *scope, m *odoov1alpha2.DatabaseMove, f *dbmove.Facts) error {
	inst := s.instance
	switch m.Step {
	case odoov1alpha2.DatabaseMoveStepStop:
		web, cron, err := r.currentDeployments(ctx, s)
		if err != nil {
			return err
		}
		f.TiersStopped, err = r.stopped(ctx, inst, []*appsv1.Deployment{nilIfAbsent(web), nilIfAbsent(cron)}, resources.ComponentWeb, resources.ComponentCron)
		return err
	case odoov1alpha2.DatabaseMoveStepDump, odoov1alpha2.DatabaseMoveStepLoad:
		name := m.DumpJob
		if m.Step == odoov1alpha2.DatabaseMoveStepLoad {
			name = m.LoadJob
		}
		job := &batchv1.Job{}
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: inst.Namespace, Name: name}, job); client.IgnoreNotFound(err) != nil {
			return err
		}
		if job.UID == "" {
			return nil
		}
		f.Job = datajob.OutcomeOf(job)
		if f.Job == datajob.Failed {
			var pods []corev1.Pod
			list := &corev1.PodList{}
			if err := r.APIReader.List(ctx, list, client.InNamespace(inst.Namespace), client.MatchingLabels{"job-name": name}); err == nil {
				pods = list.Items
			}
			f.JobFailure = resources.InitJobOutcome(job, pods).Message + " (kubectl logs job/" + name + ")"
		}
	}
	return nil
}

// moveRefusal is why a move to target cannot start, "" when it can.
func (r *Reconciler) moveRefusal(ctx context.Context, s *scope, target postgres.Cluster) (string, error) {
	inst := s.instance
	allowed, err := r.tenantPolicy(ctx, inst.Namespace)
	if err != nil {
		return "", err
	}
	if errs := allowed.Check(inst, target.Name); len(errs) > 0 {
		return fmt.Sprintf("%s; the database stays on cluster %q: set spec.database.cluster back to %q, or ask the administrator",
			errs.ToAggregate().Error(), s.cluster.Name, s.cluster.Name), nil
	}
	if target.CACert != s.cluster.CACert {
		// The instance's pods mount one CA (<name>-db-ca): the source's
		// until the swap. A target with another CA is not supported yet.
		return fmt.Sprintf("spec.database.cluster %q: the cluster's caCert differs from the one of cluster %q, which moving does not support yet; set spec.database.cluster back to %q",
			target.Name, s.cluster.Name, s.cluster.Name), nil
	}
	exists, err := r.Databases.DatabaseExists(ctx, target, s.dbName)
	if err != nil {
		return "", wrap("looking for the database on cluster "+target.Name, err)
	}
	if exists {
		// The operator never writes into a database it did not create for
		// the move (it may be the copy an earlier move left there).
		return fmt.Sprintf("spec.database.cluster %q: cluster %q already has a database %q (left by an earlier move?); the operator never loads into an existing database: drop or rename it there, or set spec.database.cluster back to %q",
			target.Name, target.Name, s.dbName, s.cluster.Name), nil
	}
	return "", nil
}

// compareMoved compares every table of schema public of the source and the
// target, each read as the instance's own role (never the admin: the tenant
// owns those tables); "" when they are equal.
func (r *Reconciler) compareMoved(ctx context.Context, s *scope, m *odoov1alpha2.DatabaseMove) (string, error) {
	target, err := r.moveTarget(ctx, s, m)
	if err != nil {
		return "", err
	}
	read := func(c postgres.Cluster) (map[string]string, error) {
		var sums map[string]string
		err := r.Databases.WithTenantDatabase(ctx, c, s.tenantLogin(), s.dbName, func(conn *pgx.Conn) error {
			var err error
			sums, err = dbtools.TableChecksums(ctx, conn)
			return err
		})
		return sums, err
	}
	src, err := read(s.cluster)
	if err != nil {
		return "", wrap("reading the source database", err)
	}
	dst, err := read(target)
	if err != nil {
		return "", wrap("reading the target database", err)
	}
	var differ []string
	for _, t := range slices.Sorted(maps.Keys(src)) {
		if dst[t] != src[t] {
			differ = append(differ, t)
		}
	}
	for t := range dst {
		if _, ok := src[t]; !ok {
			differ = append(differ, t)
		}
	}
	if len(differ) > 0 {
		if len(differ) > 5 {
			differ = append(differ[:5], "…")
		}
		return fmt.Sprintf("the target database differs from the source in %d tables (%s)", len(differ), strings.Join(differ, ", ")), nil
	}
	if len(src) == 0 {
		return "the source database has no table in schema public: nothing to compare, not swapped", nil
	}
	return "", nil
}

// moveTarget is the recorded target cluster of m.
func (r *Reconciler) moveTarget(ctx context.Context, s *scope, m *odoov1alpha2.DatabaseMove) (postgres.Cluster, error) {
	spec := s.instance.DeepCopy()
	spec.Spec.Database.Cluster, spec.Status.Database = m.TargetCluster, nil
	c, _, err := postgres.FindSpecCluster(ctx, r.Client, r.Clusters, spec)
	return c, err
}

// runMoveAction carries out one step; steps that change what later
// reconciles decide write the status first.
func (r *Reconciler) runMoveAction(ctx context.Context, s *scope, db *odoov1alpha2.DatabaseStatus, a dbmove.Action, target postgres.Cluster) (ctrl.Result, error) {
	inst := s.instance
	m := db.Move
	if dbmove.Moving(db) {
		s.progressing = &problem{odoov1alpha2.ReasonDatabaseMoving, m.Message}
	}
	now := metav1.Now()
	switch a.Kind {
	case dbmove.Refuse:
		s.degraded = append(s.degraded, problem{odoov1alpha2.ReasonDatabaseMoveRefused, a.Why})
		if c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDegraded); c == nil || !strings.Contains(c.Message, a.Why) {
			r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.EventDatabaseMoveRefused, "MoveDatabase", "%s", a.Why)
		}
		return ctrl.Result{}, nil

	case dbmove.Begin:
		dump, file, load := resources.DatabaseMoveNames(inst, s.cluster.Name, target.Name)
		next := dbmove.Apply(*db, a, dbmove.Names{Source: s.cluster.Name, Target: target.Name, DumpJob: dump, DumpFile: file, LoadJob: load}, now)
		s.progressing = &problem{odoov1alpha2.ReasonDatabaseMoving, next.Move.Message}
		if err := r.persistDatabase(ctx, s, &next, metav1.ConditionUnknown, odoov1alpha2.ReasonDatabaseMoving, next.Move.Message); err != nil {
			return ctrl.Result{}, err
		}
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseMoveStarted, "MoveDatabase",
			"moving database %q from cluster %q to %q: web and cron stop, Job %s dumps it, Job %s loads it", s.dbName, s.cluster.Name, target.Name, dump, load)
		return ctrl.Result{RequeueAfter: requeueShort}, nil

	case dbmove.Wait:
		return ctrl.Result{RequeueAfter: requeueShort}, nil

	case dbmove.Advance:
		next := dbmove.Apply(*db, a, dbmove.Names{}, now)
		s.progressing.message = next.Move.Message
		return ctrl.Result{RequeueAfter: requeueShort}, r.persistDatabase(ctx, s, &next, metav1.ConditionUnknown, odoov1alpha2.ReasonDatabaseMoving, next.Move.Message)

	case dbmove.RunDump:
		if err := r.ensureRestorePointClaim(ctx, s); err != nil {
			return ctrl.Result{}, err
		}
		in, err := r.dataJobInputs(ctx, s, s.dbName)
		if err != nil {
			return ctrl.Result{}, err
		}
		// Create-only: the name, recorded at Begin, says what it does.
		return ctrl.Result{}, r.createJob(ctx, "database move dump Job", resources.DatabaseMoveDumpJob(in, m))

	case dbmove.CreateTarget:
		// The tenant's own role and an empty database it owns, planned and
		// applied like the instance's first database. Asked of the server,
		// not of the record of an earlier Ensure: the instance may have
		// served from this cluster before, and its database there may have
		// been dropped since (the copy an earlier move kept).
		r.Databases.Invalidate(target.Name, s.dbUser, s.dbName)
		_, err := r.Databases.Ensure(ctx, target, postgres.DesiredRole{Name: s.dbUser, Password: s.dbPassword},
			postgres.DesiredDatabase{Name: s.dbName, Owner: s.dbUser})
		if errors.Is(err, postgres.ErrConflict) {
			return r.failMove(ctx, s, db, fmt.Sprintf("creating database %q on cluster %q: %v", s.dbName, target.Name, err), false)
		}
		if err != nil {
			return ctrl.Result{}, wrap("creating the database on cluster "+target.Name, err)
		}
		next := dbmove.Apply(*db, a, dbmove.Names{}, now)
		return ctrl.Result{RequeueAfter: requeueShort}, r.persistDatabase(ctx, s, &next, metav1.ConditionUnknown, odoov1alpha2.ReasonDatabaseMoving, next.Move.Message)

	case dbmove.RunLoad:
		in, err := r.moveDataJobInputs(ctx, s, target)
		if err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{}, r.createJob(ctx, "database move load Job", resources.DatabaseMoveLoadJob(in, m))

	case dbmove.Swap:
		msg := dbmove.SwapMessage(s.dbName, m)
		next := dbmove.Apply(*db, a, dbmove.Names{}, now)
		s.progressing = nil
		if err := r.persistDatabase(ctx, s, &next, metav1.ConditionTrue, odoov1alpha2.ReasonDatabaseMoved, msg); err != nil {
			return ctrl.Result{}, err
		}
		r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventDatabaseMoveSucceeded, "MoveDatabase", "%s", msg)
		// The rest of this reconcile works on the target. It ends here: the
		// configuration rendered earlier in it still names the source, and
		// web and cron start only once odoo.conf names the target.
		s.cluster = target
		s.stop = true
		return ctrl.Result{RequeueAfter: requeueShort}, nil

	case dbmove.Fail:
		return r.failMove(ctx, s, db, a.Why, dbmove.TargetCreated(m))

	case dbmove.Forget:
		next := dbmove.Apply(*db, a, dbmove.Names{}, now)
		return ctrl.Result{}, r.persistDatabase(ctx, s, &next, "", "", "")
	}
	return ctrl.Result{}, nil
}

// failMove drops the target database when the move created it (never the
// source: the instance keeps it), then records the failure.
func (r *Reconciler) failMove(ctx context.Context, s *scope, db *odoov1alpha2.DatabaseStatus, why string, dropTarget bool) (ctrl.Result, error) {
	inst := s.instance
	m := db.Move
	if dropTarget {
		target, err := r.moveTarget(ctx, s, m)
		if err != nil {
			return ctrl.Result{}, err
		}
		if target.Name == s.cluster.Name || target.Host == s.cluster.Host && target.Port == s.cluster.Port {
			return ctrl.Result{}, fmt.Errorf("refusing to drop database %q on cluster %q: it is the server the instance uses", s.dbName, target.Name)
		}
		if err := r.Databases.WithAdmin(ctx, target, func(conn *pgx.Conn) error {
			return dbtools.DropDatabase(ctx, conn, s.dbName)
		}); err != nil {
			return ctrl.Result{}, wrap("dropping the half-loaded database on cluster "+target.Name, err)
		}
		r.Databases.Invalidate(target.Name, s.dbUser, s.dbName)
		why += fmt.Sprintf("; the database the move had created on %q was dropped", target.Name)
	}
	next := dbmove.Apply(*db, dbmove.Action{Kind: dbmove.Fail, Why: why}, dbmove.Names{}, metav1.Now())
	s.progressing = nil
	if err := r.persistDatabase(ctx, s, &next, metav1.ConditionFalse, odoov1alpha2.ReasonDatabaseMoveFailed, next.Move.Message); err != nil {
		return ctrl.Result{}, err
	}
	r.Recorder.Eventf(inst, nil, corev1.EventTypeWarning, odoov1alpha2.EventDatabaseMoveFailed, "MoveDatabase", "%s", next.Move.Message)
	return ctrl.Result{RequeueAfter: requeueShort}, nil
}

// moveDataJobInputs connect a data Job to the target cluster, as the
// tenant's own role (its user Secret, by secretKeyRef).
func (r *Reconciler) moveDataJobInputs(ctx context.Context, s *scope, target postgres.Cluster) (resources.DataJobInputs, error) {
	major, err := r.Databases.ServerMajorVersion(ctx, target)
	if err != nil {
		return resources.DataJobInputs{}, wrap("PostgreSQL server version of cluster "+target.Name, err)
	}
	return resources.DataJobInputs{
		Instance: s.instance, OperatorImage: r.Images.Operator, ClientImage: r.Images.postgresClient(major),
		Host: target.Host, Port: target.Port, SSLMode: target.ClientSSLMode(), DBCA: target.CACert != "", Database: s.dbName,
		Deadline: r.DataJobDeadline,
	}, nil
}

// ensureRestorePointClaim creates <name>-restore-points when it is missing.
func (r *Reconciler) ensureRestorePointClaim(ctx context.Context, s *scope) error {
	inst := s.instance
	claim := &corev1.PersistentVolumeClaim{}
	if err := r.getOptional(ctx, inst, resources.RestorePointClaimName(inst), claim); err != nil || claim.UID != "" {
		return err
	}
	_, err := r.Applier.Apply(ctx, "PersistentVolumeClaim", resources.RestorePointPVC(inst), nil, nil)
	return wrap("restore point claim", err)
}

// moveLock keeps the lock in step with the move: its step recorded while
// it runs, released once it ended.
func (r *Reconciler) moveLock(ctx context.Context, s *scope) error {
	db := s.instance.Status.Database
	if !dbmove.Moving(db) {
		return r.unlock(ctx, s, odoov1alpha2.OperationDatabaseMove)
	}
	step := string(db.Move.Step)
	_, err := r.lockStep(ctx, s, odoov1alpha2.OperationDatabaseMove, &step)
	return err
}

// persistDatabase writes status.database and the DatabaseMoved condition
// (removed when status is "") at once, before the step that depends on
// them.
func (r *Reconciler) persistDatabase(ctx context.Context, s *scope, db *odoov1alpha2.DatabaseStatus, status metav1.ConditionStatus, reason, message string) error {
	inst := s.instance
	if status == "" {
		meta.RemoveStatusCondition(&inst.Status.Conditions, odoov1alpha2.ConditionDatabaseMoved)
	} else {
		meta.SetStatusCondition(&inst.Status.Conditions, metav1.Condition{
			Type: odoov1alpha2.ConditionDatabaseMoved, Status: status, Reason: reason, Message: message, ObservedGeneration: inst.Generation,
		})
	}
	inst.Status.Database = db.DeepCopy()
	base := s.before.DeepCopy()
	after := base.DeepCopy()
	after.Status.Database = db.DeepCopy()
	if c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDatabaseMoved); c != nil {
		meta.SetStatusCondition(&after.Status.Conditions, *c)
	} else {
		meta.RemoveStatusCondition(&after.Status.Conditions, odoov1alpha2.ConditionDatabaseMoved)
	}
	if err := operation.PatchStatus(ctx, r.Client, after, base); err != nil {
		return wrap("recording the database move", err)
	}
	s.before.ResourceVersion, s.instance.ResourceVersion = after.ResourceVersion, after.ResourceVersion
	s.before.Status.Database = after.Status.Database.DeepCopy()
	s.before.Status.Conditions = after.Status.Conditions
	return nil
}
