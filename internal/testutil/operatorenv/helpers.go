package operatorenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/manager"
)

// OldImage is the image of UpgradeInstance's instance.
const OldImage = "odoo:18.0-20260101"

// NewNamespace creates a namespace of its own for one test.
func NewNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "odoo-test-"}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// Key names an object.
func Key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}

// Get reads an object, which must exist.
func Get(g gomega.Gomega, ns, name string, obj client.Object) {
	g.Expect(k8s.Get(context.Background(), Key(ns, name), obj)).To(gomega.Succeed())
}

// BackupJob reads an OdooBackupJob.
func BackupJob(g gomega.Gomega, ns, name string) *odoov1alpha2.OdooBackupJob {
	b := &odoov1alpha2.OdooBackupJob{}
	Get(g, ns, name, b)
	return b
}

// RestoreJob reads an OdooRestoreJob.
func RestoreJob(g gomega.Gomega, ns, name string) *odoov1alpha2.OdooRestoreJob {
	r := &odoov1alpha2.OdooRestoreJob{}
	Get(g, ns, name, r)
	return r
}

// MarkAvailable plays the Deployment controller, which envtest does not run:
// it reports every desired replica of the current generation as available.
func MarkAvailable(g gomega.Gomega, ns, name string) {
	d := &appsv1.Deployment{}
	Get(g, ns, name, d)
	n := ptr.Deref(d.Spec.Replicas, 1)
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
	}
	g.Expect(k8s.Status().Update(context.Background(), d)).To(gomega.Succeed())
}

// CompleteInit plays the Job controller for the instance's init Job.
func CompleteInit(g gomega.Gomega, ns, name string) {
	jobs := &batchv1.JobList{}
	g.Expect(k8s.List(context.Background(), jobs, client.InNamespace(ns), client.MatchingLabels{"bemade.org/job": "init", "bemade.org/instance": name})).To(gomega.Succeed())
	g.Expect(jobs.Items).NotTo(gomega.BeEmpty(), "no init Job yet")
	for i := range jobs.Items {
		SetJobCondition(g, &jobs.Items[i], batchv1.JobComplete)
	}
}

// SetJobCondition plays the Job controller: the Job completes or fails (as
// after its backoff limit).
func SetJobCondition(g gomega.Gomega, job *batchv1.Job, t batchv1.JobConditionType) {
	now := metav1.Now()
	job.Status.StartTime = &now
	if t == batchv1.JobComplete {
		job.Status.CompletionTime = &now
		job.Status.Succeeded = 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
	} else {
		job.Status.Failed = 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: now},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
		}
	}
	g.Expect(k8s.Status().Update(context.Background(), job)).To(gomega.Succeed())
}

// Converge creates the instance and plays the Deployment controller until
// it is Ready.
func Converge(t *testing.T, g gomega.Gomega, ns string, inst *odoov1alpha2.OdooInstance) {
	t.Helper()
	g.Expect(k8s.Create(context.Background(), inst)).To(gomega.Succeed())
	g.Eventually(func(g gomega.Gomega) { CompleteInit(g, ns, inst.Name) }, Eventually, Poll).Should(gomega.Succeed())
	g.Eventually(func(g gomega.Gomega) {
		MarkAvailable(g, ns, inst.Name)
		MarkAvailable(g, ns, inst.Name+"-cron")
		Get(g, ns, inst.Name, inst)
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionReady)).To(gomega.BeTrue())
	}, Eventually, Poll).Should(gomega.Succeed())
}

// UpgradeInstance is a small instance "shop" whose database gets an
// ir_module_module fixture: Odoo's side of an upgrade, modelled in the real
// PostgreSQL.
func UpgradeInstance(t *testing.T, g gomega.Gomega, ns string) *odoov1alpha2.OdooInstance {
	t.Helper()
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: odoov1alpha2.OdooInstanceSpec{
			Image: OldImage, AdminPassword: "pw", Replicas: ptr.To[int32](2),
			Cron: odoov1alpha2.CronSpec{Replicas: ptr.To[int32](1)},
		},
	}
	Converge(t, g, ns, inst)
	ModuleSQL(g, inst.Status.Database.Name, `CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL, state varchar, latest_version varchar);
		INSERT INTO ir_module_module (name, state, latest_version) VALUES
		  ('base', 'installed', '18.0.1.3'), ('sale', 'installed', '18.0.1.0'), ('stock', 'installed', '18.0.1.1'), ('crm', 'uninstalled', NULL)`)
	return inst
}

// ModuleSQL runs statements in the instance's database, as Odoo would.
func ModuleSQL(g gomega.Gomega, db, sql string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.ConnStringFor(db))
	g.Expect(err).NotTo(gomega.HaveOccurred())
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, sql)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	// Odoo connects as the instance's role, so its tables are the role's:
	// the operator reads them as that role, the data Jobs dump them as it.
	_, err = conn.Exec(ctx, `DO $$
DECLARE
  r record;
  owner text := (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database());
BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user LOOP
    EXECUTE format('ALTER TABLE public.%I OWNER TO %I', r.tablename, owner);
  END LOOP;
END $$`)
	g.Expect(err).NotTo(gomega.HaveOccurred())
}

// JobsOfKind lists the Jobs labelled bemade.org/job=kind.
func JobsOfKind(g gomega.Gomega, ns, kind string) []batchv1.Job {
	jobs := &batchv1.JobList{}
	g.Expect(k8s.List(context.Background(), jobs, client.InNamespace(ns), client.MatchingLabels{"bemade.org/job": kind})).To(gomega.Succeed())
	return jobs.Items
}

// OneJob is the one Job of kind, which must be alone.
func OneJob(g gomega.Gomega, ns, kind string) *batchv1.Job {
	jobs := JobsOfKind(g, ns, kind)
	g.Expect(jobs).To(gomega.HaveLen(1), "%s Jobs", kind)
	return &jobs[0]
}

// DeploymentImageReplicas reads a Deployment's first container's image and
// its desired replicas.
func DeploymentImageReplicas(g gomega.Gomega, ns, name string) (string, int32) {
	d := &appsv1.Deployment{}
	Get(g, ns, name, d)
	return d.Spec.Template.Spec.Containers[0].Image, ptr.Deref(d.Spec.Replicas, 1)
}

// SettleHeld plays the Deployment controller for held tiers only: a template
// change (another test's clusters Secret changes odoo.conf) must be observed
// before the tiers count as stopped.
func SettleHeld(g gomega.Gomega, ns, name string) {
	for _, n := range []string{name, name + "-cron"} {
		d := &appsv1.Deployment{}
		Get(g, ns, n, d)
		if ptr.Deref(d.Spec.Replicas, 1) == 0 && d.Status.ObservedGeneration != d.Generation {
			MarkAvailable(g, ns, n)
		}
	}
}

// EventReasons maps each event reason of the namespace to "type: note".
func EventReasons(g gomega.Gomega, ns string) map[string]string {
	list := &eventsv1.EventList{}
	g.Expect(k8s.List(context.Background(), list, client.InNamespace(ns))).To(gomega.Succeed())
	out := map[string]string{}
	for _, e := range list.Items {
		out[e.Reason] = e.Type + ": " + e.Note
	}
	return out
}

// CreateBackupsClaim creates the claim "backups" the tests' backups go to: a
// backup whose destination claim is missing waits for it (and fails at the
// start deadline) without a Job.
func CreateBackupsClaim(g gomega.Gomega, ns string) {
	g.Expect(k8s.Create(context.Background(), &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "backups", Namespace: ns},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	})).To(gomega.Succeed())
}

// AdminQuery runs a query as PostgreSQL's superuser and returns the first
// column of the first row ("" when there is none).
func AdminQuery(g gomega.Gomega, sql string, args ...any) string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.ConnString())
	g.Expect(err).NotTo(gomega.HaveOccurred())
	defer func() { _ = conn.Close(ctx) }()
	var out string
	err = conn.QueryRow(ctx, sql, args...).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
		return ""
	}
	g.Expect(err).NotTo(gomega.HaveOccurred())
	return out
}

// AdminExec runs a statement as PostgreSQL's superuser.
func AdminExec(g gomega.Gomega, sql string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.ConnString())
	g.Expect(err).NotTo(gomega.HaveOccurred())
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, sql)
	g.Expect(err).NotTo(gomega.HaveOccurred())
}

// DatabaseExists reports whether PostgreSQL has the database db.
func DatabaseExists(g gomega.Gomega, db string) bool {
	return AdminQuery(g, "SELECT datname FROM pg_database WHERE datname = $1", db) == db
}

// Checksums is the checksum of every table of db.
func Checksums(g gomega.Gomega, db string) map[string]string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.ConnStringFor(db))
	g.Expect(err).NotTo(gomega.HaveOccurred())
	defer func() { _ = conn.Close(ctx) }()
	sums, err := dbtools.TableChecksums(ctx, conn)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	return sums
}

// JobEnv is the literal value of the Job container's variable name.
func JobEnv(job *batchv1.Job, name string) string {
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// PlayDataJobsOnTestPostgres points the data code at the test PostgreSQL, as
// the Job's environment would; PlayDataJob then logs in with the instance's
// credentials from its Secret, as the Job does.
func PlayDataJobsOnTestPostgres(t *testing.T) {
	t.Setenv("PGHOST", pg.Host)
	t.Setenv("PGPORT", fmt.Sprint(pg.Port))
	t.Setenv("PGUSER", pg.AdminUser)
	t.Setenv("PGPASSWORD", pg.AdminPassword)
	t.Setenv("PGSSLMODE", "disable")
}

// PlayDataJob runs the data Job's own command in-process, as its pod would:
// the literal environment of the container, the values of its secretKeyRefs
// read from the Secrets (PGUSER and PGPASSWORD: the instance's role, as in
// the cluster), the server's address from PlayDataJobsOnTestPostgres, the
// Job's paths under root. It records the pod the
// Job controller would leave, with the container's termination message and
// exit code, and returns the command's error.
func PlayDataJob(t *testing.T, g gomega.Gomega, job *batchv1.Job, root string) error {
	t.Helper()
	ctx := context.Background()
	c := job.Spec.Template.Spec.Containers[0]
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			s := &corev1.Secret{}
			Get(g, job.Namespace, e.ValueFrom.SecretKeyRef.Name, s)
			t.Setenv(e.Name, string(s.Data[e.ValueFrom.SecretKeyRef.Key]))
		case strings.HasPrefix(e.Name, "PG"): // the address is the test server's
		default:
			t.Setenv(e.Name, e.Value)
		}
	}
	t.Setenv("PGDATABASE", JobEnv(job, "PGDATABASE"))
	t.Setenv("PG_BIN_DIR", pg.BinDir)
	args := make([]string, 0, len(c.Command)+2)
	for _, a := range c.Command[1:] {
		for _, m := range c.VolumeMounts {
			if strings.HasPrefix(a, m.MountPath+"/") || strings.HasPrefix(a, "file://"+m.MountPath+"/") {
				a = strings.Replace(a, m.MountPath, filepath.Join(root, m.Name), 1)
			}
		}
		args = append(args, a)
	}
	termLog := filepath.Join(t.TempDir(), "termination-log")
	g.Expect(os.WriteFile(termLog, nil, 0o600)).To(gomega.Succeed())
	root0 := manager.NewRootCommand()
	root0.SetArgs(append(args, "--termination-log", termLog))
	root0.SetOut(os.Stderr)
	root0.SetErr(os.Stderr)
	runErr := root0.ExecuteContext(ctx)
	msg, err := os.ReadFile(termLog) //nolint:gosec // the termination log this function made in the test's temporary directory
	g.Expect(err).NotTo(gomega.HaveOccurred())
	exit := int32(0)
	if runErr != nil {
		exit = 1
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-pod", Namespace: job.Namespace,
			Labels: map[string]string{"batch.kubernetes.io/job-name": job.Name}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "data", Image: c.Image}}},
	}
	g.Expect(k8s.Create(ctx, pod)).To(gomega.Succeed())
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "data", State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, Message: string(msg)}}}}
	g.Expect(k8s.Status().Update(ctx, pod)).To(gomega.Succeed())
	if runErr != nil {
		SetJobCondition(g, job, batchv1.JobFailed)
	} else {
		SetJobCondition(g, job, batchv1.JobComplete)
	}
	return runErr
}

// CreateFinishedBackup creates an OdooBackupJob and gives it the status of
// a backup whose Job ran and ended in phase, stored where an operator of the
// old layout stored it (status.objectKey: the key as requested; the backup
// controller may take the new object up first; once finished it leaves it
// alone).
func CreateFinishedBackup(g gomega.Gomega, b *odoov1alpha2.OdooBackupJob, phase odoov1alpha2.JobPhase, msg string) {
	ctx := context.Background()
	g.Expect(k8s.Create(ctx, b)).To(gomega.Succeed())
	g.Eventually(func(g gomega.Gomega) {
		got := BackupJob(g, b.Namespace, b.Name)
		if got.Status.Phase != phase {
			now := metav1.Now()
			got.Status.Phase, got.Status.CompletionTime, got.Status.Message = phase, &now, msg
			got.Status.JobName = b.Name + "-backup"
			got.Status.ObjectKey = b.Spec.Destination.ObjectKey
			if d := b.Spec.Destination.PVC; d != nil {
				got.Status.ObjectKey = d.Path
			}
			g.Expect(k8s.Status().Update(ctx, got)).To(gomega.Succeed())
		}
		g.Consistently(func(g gomega.Gomega) {
			g.Expect(BackupJob(g, b.Namespace, b.Name).Status.Phase).To(gomega.Equal(phase))
		}, "300ms", "50ms").Should(gomega.Succeed())
	}, Eventually, Poll).Should(gomega.Succeed())
}

// BackupGone fails unless the OdooBackupJob is gone.
func BackupGone(g gomega.Gomega, ns, name string) {
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &odoov1alpha2.OdooBackupJob{})
	g.Expect(apierrors.IsNotFound(err)).To(gomega.BeTrue(), "OdooBackupJob %s still there (%v)", name, err)
}
