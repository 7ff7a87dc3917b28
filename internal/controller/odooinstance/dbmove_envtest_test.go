package odooinstance_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

// onServer runs sql in db of server s as its superuser, then as role when
// role is set (SET ROLE: what it creates belongs to role, as if the tenant
// had made it).
func onServer(g Gomega, s *pgharness.Server, db, role, sql string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.ConnStringFor(db))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = conn.Close(ctx) }()
	if role != "" {
		_, err = conn.Exec(ctx, "SET ROLE "+pgx.Identifier{role}.Sanitize())
		g.Expect(err).NotTo(HaveOccurred())
	}
	_, err = conn.Exec(ctx, sql)
	g.Expect(err).NotTo(HaveOccurred())
}

func queryServer(g Gomega, s *pgharness.Server, db, sql string, args ...any) string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.ConnStringFor(db))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = conn.Close(ctx) }()
	var out string
	if err := conn.QueryRow(ctx, sql, args...).Scan(&out); err != nil {
		g.Expect(err).To(MatchError(pgx.ErrNoRows))
	}
	return out
}

func serverChecksums(g Gomega, s *pgharness.Server, db string) map[string]string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.ConnStringFor(db))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = conn.Close(ctx) }()
	sums, err := dbtools.TableChecksums(ctx, conn)
	g.Expect(err).NotTo(HaveOccurred())
	return sums
}

// twoClusters starts a second PostgreSQL server and names both in the
// clusters Secret: "main" (the suite's server, the default) and "second".
// The Secret is deleted after the test.
func twoClusters(t *testing.T, g Gomega) *pgharness.Server {
	ctx := context.Background()
	second := pgharness.Start(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "postgres-clusters", Namespace: operatorNamespace},
		StringData: map[string]string{"clusters.yaml": fmt.Sprintf(
			"main:\n  host: %s\n  port: %d\n  adminUser: %s\n  adminPassword: %q\n  default: true\n"+
				"second:\n  host: %s\n  port: %d\n  adminUser: %s\n  adminPassword: %q\n",
			pg.Host, pg.Port, pg.AdminUser, pg.AdminPassword, second.Host, second.Port, second.AdminUser, second.AdminPassword)},
	}
	g.Expect(k8s.Create(ctx, secret)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(ctx, secret) })
	return second
}

// moveJob waits for the one Job of kind of the instance.
func moveJob(g Gomega, ns, kind string) *batchv1.Job {
	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, kind) }, eventually, poll).Should(Succeed())
	return job
}

// The tenant's attack on the move: a CHECK constraint of its own table calls
// its own function, which PostgreSQL runs for every row the load writes, as
// whoever loads. Run by a superuser it would create a superuser role for the
// tenant; it records who ran it in attack.log (outside schema public, so the
// move's comparison does not see those rows).
const hostileSchema = `
CREATE SCHEMA attack;
CREATE TABLE attack.log (who text, super text);
CREATE FUNCTION attack.probe(id int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO attack.log VALUES (current_user, current_setting('is_superuser'));
  IF current_setting('is_superuser') = 'on' AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pwned_by_tenant') THEN
    EXECUTE 'CREATE ROLE pwned_by_tenant LOGIN SUPERUSER PASSWORD ''x''';
  END IF;
  RETURN true;
END $$;
CREATE TABLE public.res_partner (id int PRIMARY KEY, name text, CHECK (attack.probe(id)));
CREATE TABLE public.res_users (id int PRIMARY KEY, login text);
INSERT INTO public.res_partner SELECT i, 'partner ' || i FROM generate_series(1, 250) i;
INSERT INTO public.res_users SELECT i, 'user' || i FROM generate_series(1, 7) i;
`

// TestDatabaseMoveBetweenClusters moves an instance's database between two
// real PostgreSQL servers, the data Jobs played with their own command and
// environment: the steps in order with one Job each, web and cron at 0 while
// it runs, the lock held, the rows equal on the target, the source database
// kept, the tenant's functions run only with the tenant's privileges; then a
// move back is refused with the reason, and an unknown cluster too.
func TestDatabaseMoveBetweenClusters(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	second := twoClusters(t, g)

	inst := pneumacStaging(ns)
	inst.Name = "shop"
	converge(t, g, ns, inst)
	g.Expect(inst.Status.Database.Cluster).To(Equal("main"))
	db, role := inst.Status.Database.Name, resources.RoleName(inst)
	t.Cleanup(func() {
		g := NewWithT(t)
		adminExec(g, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
		onServer(g, pg, "postgres", "", "DROP ROLE IF EXISTS pwned_by_tenant")
	})
	onServer(g, pg, db, role, hostileSchema)
	before := serverChecksums(g, pg, db)
	g.Expect(before).To(HaveKey("res_partner"))

	// The move is asked.
	get(g, ns, inst.Name, inst)
	inst.Spec.Database.Cluster = "second"
	g.Expect(k8s.Update(ctx, inst)).To(Succeed())

	// It starts: recorded, the lock taken, phase Migrating, web and cron at 0.
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		m := inst.Status.Database.Move
		g.Expect(m).NotTo(BeNil())
		g.Expect(m.Phase).To(Equal(odoov1alpha2.DatabaseMoveMoving))
		g.Expect(m.SourceCluster).To(Equal("main"))
		g.Expect(m.TargetCluster).To(Equal("second"))
		g.Expect(inst.Status.Database.Cluster).To(Equal("main"))
		g.Expect(inst.Status.Operation).NotTo(BeNil())
		g.Expect(inst.Status.Operation.Kind).To(Equal(odoov1alpha2.OperationDatabaseMove))
		g.Expect(inst.Status.Phase).To(Equal(odoov1alpha2.PhaseMigrating))
		web := &appsv1.Deployment{}
		get(g, ns, inst.Name, web)
		g.Expect(*web.Spec.Replicas).To(BeZero())
		cron := &appsv1.Deployment{}
		get(g, ns, inst.Name+"-cron", cron)
		g.Expect(*cron.Spec.Replicas).To(BeZero())
	}, eventually, poll).Should(Succeed())
	markAvailable(g, ns, inst.Name)
	markAvailable(g, ns, inst.Name+"-cron")

	// The dump Job: on the source cluster, as the tenant's role (by
	// secretKeyRef), to the restore-points claim.
	root := t.TempDir()
	playDataJobsOnTestPostgres(t)
	dump := moveJob(g, ns, resources.JobKindDatabaseMoveDump)
	g.Expect(jobEnv(dump, "PGPORT")).To(Equal(fmt.Sprint(pg.Port)))
	c := dump.Spec.Template.Spec.Containers[0]
	for _, e := range c.Env {
		if e.Name == "PGUSER" || e.Name == "PGPASSWORD" {
			g.Expect(e.ValueFrom).NotTo(BeNil(), e.Name+" must come from the Secret")
			g.Expect(e.ValueFrom.SecretKeyRef.Name).To(Equal(inst.Name + "-odoo-user"))
		}
	}
	g.Expect(strings.Join(c.Command, " ")).NotTo(ContainSubstring(pg.AdminPassword))
	g.Expect(dump.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("VolumeSource.PersistentVolumeClaim.ClaimName", inst.Name+"-restore-points")))
	g.Expect(playDataJob(t, g, dump, root)).To(Succeed())

	// The load Job: on the target cluster, into the database the operator
	// created there for the tenant's role.
	load := moveJob(g, ns, resources.JobKindDatabaseMoveLoad)
	g.Expect(jobEnv(load, "PGPORT")).To(Equal(fmt.Sprint(second.Port)))
	g.Expect(queryServer(g, second, "postgres", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", db)).To(Equal(role))
	g.Expect(queryServer(g, second, "postgres", "SELECT rolsuper::text FROM pg_roles WHERE rolname = $1", role)).To(Equal("false"))
	t.Setenv("PGHOST", second.Host)
	t.Setenv("PGPORT", fmt.Sprint(second.Port))
	g.Expect(playDataJob(t, g, load, root)).To(Succeed())

	// Checked and swapped: the instance runs on the target, the lock is
	// released, web and cron come back with odoo.conf naming the target.
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Database.Cluster).To(Equal("second"))
		m := inst.Status.Database.Move
		g.Expect(m.Phase).To(Equal(odoov1alpha2.DatabaseMoveSucceeded))
		g.Expect(m.Message).To(ContainSubstring(`the database on "main" is kept`))
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionDatabaseMoved)).To(BeTrue())
		g.Expect(inst.Status.Operation).To(BeNil())
		conf := &corev1.Secret{}
		get(g, ns, inst.Name+"-odoo-conf", conf)
		g.Expect(string(conf.Data["odoo.conf"])).To(ContainSubstring(fmt.Sprintf("db_port = %d", second.Port)))
		web := &appsv1.Deployment{}
		get(g, ns, inst.Name, web)
		g.Expect(*web.Spec.Replicas).To(Equal(int32(3)))
	}, eventually, poll).Should(Succeed())
	g.Expect(serverChecksums(g, second, db)).To(Equal(before))
	g.Expect(serverChecksums(g, pg, db)).To(Equal(before), "the source database is kept as it was")
	g.Expect(jobsOfKind(g, ns, resources.JobKindDatabaseMoveDump)).To(HaveLen(1))
	g.Expect(jobsOfKind(g, ns, resources.JobKindDatabaseMoveLoad)).To(HaveLen(1))
	reasons := eventReasons(g, ns)
	g.Expect(reasons).To(HaveKey(odoov1alpha2.EventDatabaseMoveStarted))
	g.Expect(reasons).To(HaveKey(odoov1alpha2.EventDatabaseMoveSucceeded))

	// The tenant's function ran during the load, as the tenant only.
	g.Expect(queryServer(g, second, db, "SELECT count(*)::text FROM attack.log WHERE who = $1 AND super = 'off'", role)).NotTo(Equal("0"))
	g.Expect(queryServer(g, second, db, "SELECT count(*)::text FROM attack.log WHERE super <> 'off' OR who <> $1", role)).To(Equal("0"))
	g.Expect(queryServer(g, second, "postgres", "SELECT count(*)::text FROM pg_roles WHERE rolname = 'pwned_by_tenant'")).To(Equal("0"))
	g.Expect(queryServer(g, pg, "postgres", "SELECT count(*)::text FROM pg_roles WHERE rolname = 'pwned_by_tenant'")).To(Equal("0"))

	// The attack is live: the same dump loaded by a superuser creates the
	// role. (What the operator's Job would have done with the admin's login.)
	onServer(g, second, "postgres", "", "CREATE DATABASE control")
	t.Setenv("PGUSER", second.AdminUser)
	t.Setenv("PGPASSWORD", second.AdminPassword)
	g.Expect(dbtools.Restore(ctx, dbtools.RestoreOptions{File: root + "/backup-store/" + inst.Status.Database.Move.DumpFile, Database: "control", PGBinDir: second.BinDir})).To(Succeed())
	g.Expect(queryServer(g, second, "postgres", "SELECT count(*)::text FROM pg_roles WHERE rolname = 'pwned_by_tenant'")).To(Equal("1"))
	onServer(g, second, "postgres", "", "DROP DATABASE control")
	onServer(g, second, "postgres", "", "DROP ROLE pwned_by_tenant")

	// A move back is refused: the database kept on main is never written into.
	get(g, ns, inst.Name, inst)
	inst.Spec.Database.Cluster = "main"
	g.Expect(k8s.Update(ctx, inst)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDegraded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonDatabaseMoveRefused))
		g.Expect(c.Message).To(ContainSubstring(`spec.database.cluster "main": cluster "main" already has a database`))
		g.Expect(c.Message).To(ContainSubstring(`set spec.database.cluster back to "second"`))
		g.Expect(inst.Status.Database.Cluster).To(Equal("second"))
		g.Expect(inst.Status.Operation).To(BeNil())
	}, eventually, poll).Should(Succeed())
	g.Expect(eventReasons(g, ns)).To(HaveKey(odoov1alpha2.EventDatabaseMoveRefused))
	g.Expect(jobsOfKind(g, ns, resources.JobKindDatabaseMoveDump)).To(HaveLen(1), "a refused move runs no Job")

	// The kept copy dropped by hand, as documented: the move back goes, into
	// a database created anew on main (where the instance served before).
	onServer(g, second, db, role, "INSERT INTO public.res_users VALUES (8, 'written on second')")
	onServer(g, second, db, "", "DROP TABLE attack.log") // the load would write it again
	onServer(g, second, db, "", "CREATE TABLE attack.log (who text, super text)")
	onServer(g, second, db, "", "ALTER TABLE attack.log OWNER TO "+pgx.Identifier{role}.Sanitize())
	back := serverChecksums(g, second, db)
	adminExec(g, "DROP DATABASE "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, inst.Name)
		markAvailable(g, ns, inst.Name+"-cron")
		g.Expect(jobsOfKind(g, ns, resources.JobKindDatabaseMoveDump)).To(HaveLen(2))
	}, eventually, poll).Should(Succeed())
	for _, j := range jobsOfKind(g, ns, resources.JobKindDatabaseMoveDump) {
		if j.Status.CompletionTime == nil {
			t.Setenv("PGHOST", second.Host)
			t.Setenv("PGPORT", fmt.Sprint(second.Port))
			g.Expect(playDataJob(t, g, &j, root)).To(Succeed())
		}
	}
	var loadBack *batchv1.Job
	g.Eventually(func(g Gomega) {
		loads := jobsOfKind(g, ns, resources.JobKindDatabaseMoveLoad)
		g.Expect(loads).To(HaveLen(2))
		for i := range loads {
			if loads[i].Status.CompletionTime == nil {
				loadBack = &loads[i]
			}
		}
		g.Expect(loadBack).NotTo(BeNil())
	}, eventually, poll).Should(Succeed())
	g.Expect(databaseExists(g, db)).To(BeTrue(), "the move back creates its target on main")
	t.Setenv("PGHOST", pg.Host)
	t.Setenv("PGPORT", fmt.Sprint(pg.Port))
	g.Expect(playDataJob(t, g, loadBack, root)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Database.Cluster).To(Equal("main"))
		g.Expect(inst.Status.Database.Move.Phase).To(Equal(odoov1alpha2.DatabaseMoveSucceeded))
	}, eventually, poll).Should(Succeed())
	g.Expect(serverChecksums(g, pg, db)).To(Equal(back))
}

// TestDatabaseMoveWaitsForTheLock: a move asked while another operation
// holds the instance's lock waits, naming it, and starts nothing.
func TestDatabaseMoveWaitsForTheLock(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	second := twoClusters(t, g)
	inst := pneumacStaging(ns)
	inst.Name = "busy"
	converge(t, g, ns, inst)
	db := inst.Status.Database.Name
	t.Cleanup(func() {
		adminExec(NewWithT(t), "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	})

	// A backup holds the lock (as the OdooBackupJob controller records it).
	get(g, ns, inst.Name, inst)
	now := metav1.Now()
	inst.Status.Operation = &odoov1alpha2.OperationStatus{Kind: odoov1alpha2.OperationBackup, Name: "nightly", Started: now}
	g.Expect(k8s.Status().Update(ctx, inst)).To(Succeed())
	get(g, ns, inst.Name, inst)
	inst.Spec.Database.Cluster = "second"
	g.Expect(k8s.Update(ctx, inst)).To(Succeed())
	g.Consistently(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Database.Move).To(BeNil())
		g.Expect(inst.Status.Database.Cluster).To(Equal("main"))
		g.Expect(inst.Status.Operation.Kind).To(Equal(odoov1alpha2.OperationBackup))
		list := &batchv1.JobList{}
		g.Expect(k8s.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{resources.JobKindLabel: resources.JobKindDatabaseMoveDump})).To(Succeed())
		g.Expect(list.Items).To(BeEmpty())
	}, "3s", poll).Should(Succeed())
	g.Expect(queryServer(g, second, "postgres", "SELECT count(*)::text FROM pg_database WHERE datname = $1", db)).To(Equal("0"))
	c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionProgressing)
	g.Expect(c).NotTo(BeNil())
	g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonDatabaseMoving))
	g.Expect(c.Message).To(ContainSubstring("nightly"))
}

// TestFailedDatabaseMoveKeepsTheSource: a load that fails ends the move
// Failed, drops the database the move created on the target, and brings web
// and cron back on the source, untouched; it is not retried, and setting
// spec.database.cluster back clears it.
func TestFailedDatabaseMoveKeepsTheSource(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	second := twoClusters(t, g)
	inst := pneumacStaging(ns)
	inst.Name = "fails"
	converge(t, g, ns, inst)
	db, role := inst.Status.Database.Name, resources.RoleName(inst)
	t.Cleanup(func() {
		adminExec(NewWithT(t), "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	})
	onServer(g, pg, db, role, "CREATE TABLE res_partner (id int PRIMARY KEY); INSERT INTO res_partner SELECT generate_series(1, 10)")
	before := serverChecksums(g, pg, db)

	get(g, ns, inst.Name, inst)
	inst.Spec.Database.Cluster = "second"
	g.Expect(k8s.Update(ctx, inst)).To(Succeed())
	root := t.TempDir()
	playDataJobsOnTestPostgres(t)
	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, inst.Name)
		markAvailable(g, ns, inst.Name+"-cron")
		oneJob(g, ns, resources.JobKindDatabaseMoveDump)
	}, eventually, poll).Should(Succeed())
	g.Expect(playDataJob(t, g, moveJob(g, ns, resources.JobKindDatabaseMoveDump), root)).To(Succeed())
	load := moveJob(g, ns, resources.JobKindDatabaseMoveLoad)
	g.Expect(queryServer(g, second, "postgres", "SELECT count(*)::text FROM pg_database WHERE datname = $1", db)).To(Equal("1"))
	setJobCondition(g, load, batchv1.JobFailed)

	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		m := inst.Status.Database.Move
		g.Expect(m).NotTo(BeNil())
		g.Expect(m.Phase).To(Equal(odoov1alpha2.DatabaseMoveFailed))
		g.Expect(m.Message).To(ContainSubstring("loading the dump into the target database failed"))
		g.Expect(m.Message).To(ContainSubstring(`the database the move had created on "second" was dropped`))
		g.Expect(m.Message).To(ContainSubstring(`set spec.database.cluster back to "main"`))
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDatabaseMoved)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonDatabaseMoveFailed))
		g.Expect(inst.Status.Database.Cluster).To(Equal("main"))
		g.Expect(inst.Status.Operation).To(BeNil())
		web := &appsv1.Deployment{}
		get(g, ns, inst.Name, web)
		g.Expect(*web.Spec.Replicas).To(Equal(int32(3)))
	}, eventually, poll).Should(Succeed())
	g.Expect(queryServer(g, second, "postgres", "SELECT count(*)::text FROM pg_database WHERE datname = $1", db)).To(Equal("0"))
	g.Expect(serverChecksums(g, pg, db)).To(Equal(before))
	g.Expect(eventReasons(g, ns)).To(HaveKey(odoov1alpha2.EventDatabaseMoveFailed))
	// Not retried while the spec asks for the same move.
	g.Consistently(func(g Gomega) {
		g.Expect(jobsOfKind(g, ns, resources.JobKindDatabaseMoveDump)).To(HaveLen(1))
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Database.Move.Phase).To(Equal(odoov1alpha2.DatabaseMoveFailed))
	}, "2s", poll).Should(Succeed())

	// Back to the source: the failure is cleared.
	inst.Spec.Database.Cluster = "main"
	g.Expect(k8s.Update(ctx, inst)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Database.Move).To(BeNil())
		g.Expect(meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDatabaseMoved)).To(BeNil())
	}, eventually, poll).Should(Succeed())
}
