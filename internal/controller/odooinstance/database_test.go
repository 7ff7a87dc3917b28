package odooinstance_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// loginAs connects to db as the instance's role with the password of its Secret.
func loginAs(g Gomega, ns, name, db string) error {
	user := &corev1.Secret{}
	get(g, ns, name+"-odoo-user", user)
	cfg, err := pgx.ParseConfig(pg.ConnStringFor(db))
	g.Expect(err).NotTo(HaveOccurred())
	cfg.User = string(user.Data["username"])
	cfg.Password = string(user.Data["password"])
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		return err
	}
	return conn.Close(context.Background())
}

func initJob(g Gomega, ns, name string) *batchv1.Job {
	jobs := &batchv1.JobList{}
	g.Expect(k8s.List(context.Background(), jobs, client.InNamespace(ns), client.MatchingLabels{"bemade.org/job": "init", "bemade.org/instance": name})).To(Succeed())
	g.Expect(jobs.Items).To(HaveLen(1))
	return &jobs.Items[0]
}

func TestNewInstanceGetsRoleDatabaseAndInit(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := pneumacStaging(ns)
	inst.Spec.Init.Modules = []string{"base", "web"}
	g.Expect(k8s.Create(context.Background(), inst)).To(Succeed())

	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = initJob(g, ns, inst.Name) }, eventually, poll).Should(Succeed())
	dbName := ns + "_pneumac_staging_" // derived, with a hash because '-' was replaced
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Database).NotTo(BeNil())
		g.Expect(inst.Status.Database.Name).To(HavePrefix(strings.ReplaceAll(dbName, "-", "_")))
		g.Expect(inst.Status.Database.Cluster).To(Equal("legacy"))
		g.Expect(inst.Status.Database.Initialized).To(BeFalse())
	}, eventually, poll).Should(Succeed())
	db := inst.Status.Database.Name

	// The role can log in with the Secret's password and owns the database.
	role := adminQuery(g, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", db)
	g.Expect(role).To(Equal("odoo." + ns + ".pneumac-staging"))
	g.Expect(adminQuery(g, "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = $1", db)).To(Equal("UTF8"))
	g.Expect(loginAs(g, ns, inst.Name, db)).To(Succeed())

	// The init Job: odoo -i with spec.init.modules, credentials only via the conf Secret.
	c := job.Spec.Template.Spec.Containers[0]
	g.Expect(strings.Join(c.Args, " ")).To(Equal("-i base,web --stop-after-init --no-http --workers=0 --max-cron-threads=0 -d " + db + " --without-demo=all"))
	g.Expect(job.Spec.Template.Spec.Volumes[0].Secret.SecretName).To(Equal(inst.Name + "-odoo-conf"))

	// The legacy connection is reported, with a Warning event telling how to migrate.
	c2 := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionLegacyDatabaseConnection)
	g.Expect(c2).NotTo(BeNil())
	g.Expect(c2.Message).To(ContainSubstring("create the clusters Secret"))

	// The tiers stay at 0 until the Job succeeds, then scale up.
	web := &appsv1.Deployment{}
	get(g, ns, inst.Name, web)
	g.Expect(*web.Spec.Replicas).To(BeZero())
	setJobCondition(g, job, batchv1.JobComplete)
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, web)
		g.Expect(*web.Spec.Replicas).To(Equal(int32(3)))
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.Database.Initialized).To(BeTrue())
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionDatabaseReady)).To(BeTrue())
	}, eventually, poll).Should(Succeed())
}

func TestFailedInitKeepsDatabaseAndDegrades(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := pneumacStaging(ns)
	inst.Spec.Image = "odoo:18.0-broken"
	g.Expect(k8s.Create(context.Background(), inst)).To(Succeed())
	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = initJob(g, ns, inst.Name) }, eventually, poll).Should(Succeed())
	setJobCondition(g, job, batchv1.JobFailed)

	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDegraded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonInitFailed))
		g.Expect(c.Message).To(ContainSubstring("BackoffLimitExceeded"))
		g.Expect(c.Message).To(ContainSubstring("the database is kept for inspection"))
		g.Expect(inst.Status.Phase).To(Equal(odoov1alpha2.PhaseDegraded))
	}, eventually, poll).Should(Succeed())
	g.Expect(adminQuery(g, "SELECT datname FROM pg_database WHERE datname = $1", inst.Status.Database.Name)).To(Equal(inst.Status.Database.Name))
	web := &appsv1.Deployment{}
	get(g, ns, inst.Name, web)
	g.Expect(*web.Spec.Replicas).To(BeZero(), "a failed init never starts Odoo")
}

func deleteAndWait(g Gomega, inst *odoov1alpha2.OdooInstance) {
	ctx := context.Background()
	g.Expect(k8s.Delete(ctx, inst)).To(Succeed())
	g.Eventually(func(g Gomega) {
		// Play the Deployment controller: scaled-down Deployments lose their pods.
		for _, n := range []string{inst.Name, inst.Name + "-cron"} {
			d := &appsv1.Deployment{}
			if err := k8s.Get(ctx, key(inst.Namespace, n), d); err == nil && d.Spec.Replicas != nil && *d.Spec.Replicas == 0 && d.Status.Replicas != 0 {
				d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation}
				_ = k8s.Status().Update(ctx, d)
			}
		}
		// Play the PVC protection controller: no pod mounts the claims here,
		// so a deleted claim loses its finalizer.
		claims := &corev1.PersistentVolumeClaimList{}
		g.Expect(k8s.List(ctx, claims, client.InNamespace(inst.Namespace))).To(Succeed())
		for i := range claims.Items {
			if c := &claims.Items[i]; c.DeletionTimestamp != nil && len(c.Finalizers) > 0 {
				c.Finalizers = nil
				_ = k8s.Update(ctx, c)
			}
		}
		g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(inst), &odoov1alpha2.OdooInstance{}))).To(BeTrue())
	}, eventually, poll).Should(Succeed())
}

func TestDeletionPolicy(t *testing.T) {
	for _, policy := range []odoov1alpha2.DeletionPolicy{odoov1alpha2.DeletionPolicyRetain, odoov1alpha2.DeletionPolicyDelete} {
		t.Run(string(policy), func(t *testing.T) {
			g := NewWithT(t)
			ns := newNamespace(t)
			inst := pneumacStaging(ns)
			inst.Spec.DeletionPolicy = policy
			converge(t, g, ns, inst)
			g.Expect(inst.Finalizers).To(ContainElement(odoov1alpha2.FinalizerDatabase))
			db, role := inst.Status.Database.Name, "odoo."+ns+".pneumac-staging"
			filestore := &corev1.PersistentVolumeClaim{}
			get(g, ns, "pneumac-staging-filestore-pvc", filestore)
			g.Expect(filestore.OwnerReferences).To(BeEmpty(), "the filestore claim is not garbage-collected with the instance")
			// A restore-point claim as an earlier operator version made it:
			// owned by the instance.
			points := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{
				Name: "pneumac-staging-restore-points", Namespace: ns,
				Labels:          resources.Labels(inst, "restore-points"),
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(inst, odoov1alpha2.GroupVersion.WithKind("OdooInstance"))},
			}, Spec: filestore.Spec}
			points.Spec.VolumeName = ""
			g.Expect(k8s.Create(context.Background(), points)).To(Succeed())
			// What a restore kept aside from the database: the instance's.
			kept := db + "_pre_restore_0123abcd"
			adminExec(g, fmt.Sprintf("CREATE DATABASE %s OWNER %s", pgx.Identifier{kept}.Sanitize(), pgx.Identifier{role}.Sanitize()))
			t.Cleanup(func() { adminExec(NewWithT(t), "DROP DATABASE IF EXISTS "+pgx.Identifier{kept}.Sanitize()) })
			initJobs := &batchv1.JobList{}
			g.Expect(k8s.List(context.Background(), initJobs, client.InNamespace(ns))).To(Succeed())
			g.Expect(initJobs.Items).NotTo(BeEmpty())

			deleteAndWait(g, inst)
			dbLeft := adminQuery(g, "SELECT datname FROM pg_database WHERE datname = $1", db)
			roleLeft := adminQuery(g, "SELECT rolname FROM pg_roles WHERE rolname = $1", role)
			jobsLeft := &batchv1.JobList{}
			g.Expect(k8s.List(context.Background(), jobsLeft, client.InNamespace(ns))).To(Succeed())
			g.Expect(jobsLeft.Items).To(BeEmpty(), "the instance's Jobs are removed before it goes: a re-created instance never finds the old init Job")
			if policy == odoov1alpha2.DeletionPolicyRetain {
				g.Expect(databaseExists(g, kept)).To(BeTrue(), "Retain keeps the databases kept aside")
				g.Expect(dbLeft).To(Equal(db), "Retain keeps the database")
				g.Expect(roleLeft).To(Equal(role), "Retain keeps the role")
				for _, name := range []string{filestore.Name, points.Name} {
					c := &corev1.PersistentVolumeClaim{}
					get(g, ns, name, c)
					g.Expect(c.DeletionTimestamp).To(BeNil(), "Retain keeps claim %s", name)
					g.Expect(c.OwnerReferences).To(BeEmpty(), "claim %s no longer names the deleted instance as owner", name)
				}
				get(g, ns, filestore.Name, filestore)
				g.Expect(filestore.Annotations).To(HaveKeyWithValue(odoov1alpha2.AnnotationRetainedFilestore, inst.Name),
					"the filestore claim in use is marked for a re-created instance of the same name")
				g.Eventually(func() []string { return eventNotes(g, ns, odoov1alpha2.EventDatabaseRetained) }, eventually, poll).
					Should(ContainElement(And(ContainSubstring(filestore.Name), ContainSubstring(points.Name))))
			} else {
				g.Expect(databaseExists(g, kept)).To(BeFalse(), "Delete drops the databases the operator kept aside")
				g.Expect(dbLeft).To(BeEmpty(), "Delete drops the database")
				g.Expect(roleLeft).To(BeEmpty(), "Delete drops the role")
				for _, name := range []string{filestore.Name, points.Name} {
					g.Expect(apierrors.IsNotFound(k8s.Get(context.Background(), key(ns, name), &corev1.PersistentVolumeClaim{}))).
						To(BeTrue(), "Delete deletes claim %s", name)
				}
				g.Eventually(func() []string { return eventNotes(g, ns, odoov1alpha2.EventClaimDeleted) }, eventually, poll).
					Should(ContainElement(And(ContainSubstring(filestore.Name), ContainSubstring(points.Name))))
			}
		})
	}
}

func TestClustersSecret(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "postgres-clusters", Namespace: operatorNamespace},
		StringData: map[string]string{"clusters.yaml": fmt.Sprintf(
			"main:\n  host: %s\n  port: %d\n  adminUser: %s\n  adminPassword: %q\n  default: true\n",
			pg.Host, pg.Port, pg.AdminUser, pg.AdminPassword)},
	}
	g.Expect(k8s.Create(ctx, secret)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(ctx, secret) })

	// An unknown cluster stalls the instance and lists the known ones.
	bad := pneumacStaging(ns)
	bad.Name = "elsewhere"
	bad.Spec.Database.Cluster = "nope"
	g.Expect(k8s.Create(ctx, bad)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, bad.Name, bad)
		c := meta.FindStatusCondition(bad.Status.Conditions, odoov1alpha2.ConditionStalled)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonUnknownCluster))
		g.Expect(c.Message).To(ContainSubstring(`spec.database.cluster`))
		g.Expect(c.Message).To(ContainSubstring(`"nope"`))
		g.Expect(c.Message).To(ContainSubstring("main"))
	}, eventually, poll).Should(Succeed())

	// No cluster named: the default entry, and no legacy warning.
	inst := pneumacStaging(ns)
	converge(t, g, ns, inst)
	g.Expect(inst.Status.Database.Cluster).To(Equal("main"))
	g.Expect(meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionLegacyDatabaseConnection)).To(BeNil())
}

func TestPostgresOutageDegradesThenRecovers(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := pneumacStaging(ns)
	converge(t, g, ns, inst)

	g.Expect(pg.Stop()).To(Succeed())
	restarted := false
	defer func() {
		if !restarted {
			_ = pg.Start()
		}
	}()
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDegraded)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonDatabaseUnreachable), c.Message)
		g.Expect(c.Message).NotTo(ContainSubstring(pg.AdminPassword))
	}, 30*time.Second, poll).Should(Succeed())
	// Odoo keeps serving through a database outage: the operator never scales it down.
	web := &appsv1.Deployment{}
	get(g, ns, inst.Name, web)
	g.Expect(*web.Spec.Replicas).To(Equal(int32(3)))

	g.Expect(pg.Start()).To(Succeed())
	restarted = true
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionReady)).To(BeTrue())
	}, 90*time.Second, poll).Should(Succeed())
}

func TestLegacyOdooInitJobDrivesInit(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := newNamespace(t)
	// Written the way users of the reference operator wrote it.
	req := &odoov1alpha1.OdooInitJob{
		ObjectMeta: metav1.ObjectMeta{Name: "init-by-hand", Namespace: ns},
		Spec:       odoov1alpha1.OdooInitJobSpec{OdooInstanceRef: odoov1alpha1.OdooInstanceRef{Name: "pneumac-staging"}, Modules: []string{"base", "sale"}},
	}
	g.Expect(k8s.Create(ctx, req)).To(Succeed())
	inst := pneumacStaging(ns)
	g.Expect(k8s.Create(ctx, inst)).To(Succeed())

	var job *batchv1.Job
	g.Eventually(func(g Gomega) {
		job = initJob(g, ns, inst.Name)
		g.Expect(strings.Join(job.Spec.Template.Spec.Containers[0].Args, " ")).To(HavePrefix("-i base,sale "))
		got := &odoov1alpha2.OdooInitJob{}
		get(g, ns, req.Name, got)
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobRunning))
		g.Expect(got.Status.JobName).To(Equal(job.Name))
	}, eventually, poll).Should(Succeed())
	setJobCondition(g, job, batchv1.JobComplete)
	g.Eventually(func(g Gomega) {
		got := &odoov1alpha1.OdooInitJob{}
		get(g, ns, req.Name, got)
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha1.JobCompleted))
		g.Expect(got.Status.CompletionTime).NotTo(BeNil())
	}, eventually, poll).Should(Succeed())

	// A second request on an initialised instance is refused, not run.
	again := req.DeepCopy()
	again.ObjectMeta = metav1.ObjectMeta{Name: "again", Namespace: ns}
	again.Status = odoov1alpha1.OdooJobStatus{}
	g.Expect(k8s.Create(ctx, again)).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := &odoov1alpha2.OdooInitJob{}
		get(g, ns, "again", got)
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(got.Status.Message).To(ContainSubstring("already initialised"))
	}, eventually, poll).Should(Succeed())
}

// eventNotes are the notes of the namespace's events of reason.
func eventNotes(g Gomega, ns, reason string) []string {
	list := &eventsv1.EventList{}
	g.Expect(k8s.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
	var notes []string
	for _, e := range list.Items {
		if e.Reason == reason {
			notes = append(notes, e.Note)
		}
	}
	return notes
}

// TestDroppedDatabaseIsNotRecreated: a database dropped under an initialised
// instance (missingPolicy Fail, the default) is reported, not recreated
// empty, and nothing else is attempted on the cluster for it.
func TestDroppedDatabaseIsNotRecreated(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := pneumacStaging(ns)
	converge(t, g, ns, inst)
	db := inst.Status.Database.Name
	adminExec(g, "DROP DATABASE "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	poke(g, ns, inst.Name)

	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDegraded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonDatabaseMissing), c.Message)
	}, eventually, poll).Should(Succeed())
	poke(g, ns, inst.Name)
	g.Consistently(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDegraded)
		g.Expect(c.Reason).To(Equal(odoov1alpha2.ReasonDatabaseMissing))
		g.Expect(c.Message).NotTo(ContainSubstring("invalid postgres request"))
		g.Expect(adminQueryIn(g, "postgres", "SELECT count(*)::text FROM pg_database WHERE datname = '"+db+"'")).To(Equal("0"), "the dropped database was recreated")
	}, 3*time.Second, poll).Should(Succeed())
}
