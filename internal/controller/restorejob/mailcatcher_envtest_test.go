package restorejob_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// plantMailTrigger is the tenant's own trap in its database, created as its
// role: on any UPDATE of ir_mail_server, it logs who runs it and tries to
// make the tenant's role a superuser (which succeeds only when the caller is
// one). Errors are swallowed so the operator's statement goes on.
const plantMailTrigger = `SET ROLE %[1]q;
	CREATE TABLE mail_attack (who text, outcome text);
	CREATE FUNCTION mail_attack() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
	  BEGIN
	    EXECUTE format('ALTER ROLE %%I SUPERUSER', (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()));
	    INSERT INTO mail_attack VALUES (current_user, 'became superuser');
	  EXCEPTION WHEN OTHERS THEN
	    INSERT INTO mail_attack VALUES (current_user, 'refused: ' || SQLSTATE);
	  END;
	  RETURN NEW;
	END $$;
	CREATE TRIGGER mail_attack BEFORE UPDATE ON ir_mail_server FOR EACH ROW EXECUTE FUNCTION mail_attack();
	RESET ROLE`

// stagingWithCatcherPolicies makes the test namespace's instance Staging and
// selects the namespace with one OdooTenantPolicy per catcher given.
func stagingWithCatcherPolicies(t *testing.T, g Gomega, ns string, catchers ...string) {
	t.Helper()
	ctx := context.Background()
	nsObj := &corev1.Namespace{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: ns}, nsObj)).To(Succeed())
	nsObj.Labels = map[string]string{"mailcatcher-test": ns}
	g.Expect(k8s.Update(ctx, nsObj)).To(Succeed())
	for i, c := range catchers {
		catcherPolicy(t, g, ns, i, c)
	}
	inst := &odoov1alpha2.OdooInstance{}
	get(g, ns, "shop", inst)
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Environment = odoov1alpha2.EnvironmentStaging
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
}

// catcherPolicy creates the policy <ns>-mail-<a, b, ...> selecting ns with
// a catcher, deleted when the test ends.
func catcherPolicy(t *testing.T, g Gomega, ns string, i int, catcher string) {
	t.Helper()
	p := &odoov1alpha2.OdooTenantPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-mail-" + string(rune('a'+i))},
		Spec: odoov1alpha2.OdooTenantPolicySpec{
			NamespaceSelector:  metav1.LabelSelector{MatchLabels: map[string]string{"mailcatcher-test": ns}},
			StagingMailCatcher: catcher,
		},
	}
	g.Expect(k8s.Create(context.Background(), p)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })
}

// restoreUpToNeutralize starts a restore of a fresh backup into the
// instance, plays its load Job and its neutralize Job with neutralizeSQL,
// and returns the restore's target database and the playground root.
func restoreUpToNeutralize(t *testing.T, g Gomega, ns, db, neutralizeSQL string) (target, root string) {
	t.Helper()
	root = startRestore(t, g, ns, db)
	var load, neutralize *batchv1.Job
	g.Eventually(func(g Gomega) { load = oneJob(g, ns, resources.JobKindRestoreBackup) }, eventually, poll).Should(Succeed())
	g.Expect(playDataJob(t, g, load, root)).To(Succeed())
	g.Eventually(func(g Gomega) { neutralize = oneJob(g, ns, resources.JobKindNeutralize) }, eventually, poll).Should(Succeed())
	target = restoreJob(g, ns, "copy").Status.TargetDatabase
	playNeutralize(g, neutralize, neutralizeSQL)
	return target, root
}

// startRestore backs the instance's database up and starts the restore
// "copy" of that backup; it returns the playground root.
func startRestore(t *testing.T, g Gomega, ns, db string) (root string) {
	t.Helper()
	root = t.TempDir()
	restoreFixture(t, g, db, "file://"+filepath.Join(root, "backup-store", "shop.zip"))
	g.Expect(k8s.Create(context.Background(), &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: "copy", Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourcePVC,
				PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop.zip"}},
		},
	})).To(Succeed())
	return root
}

// TestRestoreIntoStagingSendsMailToThePolicysCatcher: a neutralizing
// restore into a Staging instance whose namespace's OdooTenantPolicy sets
// stagingMailCatcher ends with exactly one active mail server, the catcher
// (host, port, no TLS, no credentials), and the production SMTP off. The
// tenant's trigger on ir_mail_server, planted in its database, fires
// during the routing as the tenant's role and cannot make that role a
// superuser.
func TestRestoreIntoStagingSendsMailToThePolicysCatcher(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	inst := upgradeInstance(t, g, ns)
	db := inst.Status.Database.Name
	role := adminQuery(g, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", db)
	t.Cleanup(func() {
		// Should the attack ever work, the next tests still get a sane role.
		if conn, err := pgx.Connect(context.Background(), pg.ConnString()); err == nil {
			_, _ = conn.Exec(context.Background(), fmt.Sprintf("ALTER ROLE %q NOSUPERUSER", role))
			_ = conn.Close(context.Background())
		}
	})
	stagingWithCatcherPolicies(t, g, ns, "catcher.mail.test:2525")

	_, root := restoreUpToNeutralize(t, g, ns, db, odooNeutralizeSQL+";\n"+
		"INSERT INTO ir_mail_server (name, smtp_host, smtp_port, active) VALUES ('tenant, archived', 'smtp.elsewhere.com', 25, false);\n"+
		fmt.Sprintf(plantMailTrigger, role))

	var fsJob *batchv1.Job
	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, "shop")
		fsJob = oneJob(g, ns, resources.JobKindRestoreFilestore)
	}, eventually, poll).Should(Succeed())
	g.Expect(playDataJob(t, g, fsJob, root)).To(Succeed())
	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, "shop")
		got := restoreJob(g, ns, "copy")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobCompleted), got.Status.Message)
		g.Expect(got.Status.Neutralized).To(BeTrue())
	}, eventually, poll).Should(Succeed())

	g.Expect(adminQueryIn(g, db, `SELECT string_agg(format('%s:%s %s user=%s pass=%s', smtp_host, smtp_port, smtp_encryption,
		coalesce(smtp_user, '-'), coalesce(smtp_pass, '-')), ', ') FROM ir_mail_server WHERE active`)).
		To(Equal("catcher.mail.test:2525 none user=- pass=-"), "exactly the catcher is active")
	g.Expect(adminQueryIn(g, db, "SELECT string_agg(name, ', ' ORDER BY id) FROM ir_mail_server WHERE NOT active")).
		To(Equal("Production SMTP, tenant, archived"), "the other servers stay off")

	g.Expect(adminQueryIn(g, db, "SELECT count(*)::text FROM mail_attack")).NotTo(Equal("0"), "the tenant's trigger fired during the routing")
	g.Expect(adminQueryIn(g, db, "SELECT string_agg(DISTINCT who || ' ' || outcome, ', ') FROM mail_attack")).
		To(Equal(role+" refused: 42501"), "the routing ran as the tenant's role, which may not grant itself anything")
	g.Expect(adminQuery(g, "SELECT rolsuper::text FROM pg_roles WHERE rolname = $1", role)).To(Equal("false"))
}

// TestRestoreIntoStagingRefusesConflictingCatchers: two policies selecting
// the namespace with different catchers refuse the restore, naming both,
// before anything is held or swapped: the operator does not pick where a
// tenant's mail goes. Refused before loading when they disagree from the
// start; after neutralize when the second policy comes during the restore.
func TestRestoreIntoStagingRefusesConflictingCatchers(t *testing.T) {
	want := func(ns string) string {
		return "different spec.stagingMailCatcher values: one.mail.test:25 (OdooTenantPolicy " + ns + "-mail-a), two.mail.test:1025 (OdooTenantPolicy " + ns + "-mail-b)"
	}
	t.Run("from the start", func(t *testing.T) {
		g := NewWithT(t)
		ns := newNamespace(t)
		playDataJobsOnTestPostgres(t)
		inst := upgradeInstance(t, g, ns)
		db := inst.Status.Database.Name
		stagingWithCatcherPolicies(t, g, ns, "one.mail.test:25", "two.mail.test:1025")
		startRestore(t, g, ns, db)
		live := checksums(g, db)
		g.Eventually(func(g Gomega) {
			got := restoreJob(g, ns, "copy")
			g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
			g.Expect(got.Status.Message).To(ContainSubstring(want(ns)))
			g.Expect(eventReasons(g, ns)).To(HaveKeyWithValue(odoov1alpha2.EventRestoreFailed, ContainSubstring(want(ns))))
		}, eventually, poll).Should(Succeed())
		g.Expect(jobsOfKind(g, ns, resources.JobKindRestoreBackup)).To(BeEmpty(), "nothing is loaded")
		g.Expect(checksums(g, db)).To(Equal(live))
		g.Expect(holdOf(g, ns)).To(BeEmpty())
	})
	t.Run("during the restore", func(t *testing.T) {
		g := NewWithT(t)
		ns := newNamespace(t)
		playDataJobsOnTestPostgres(t)
		inst := upgradeInstance(t, g, ns)
		db := inst.Status.Database.Name
		stagingWithCatcherPolicies(t, g, ns, "one.mail.test:25")
		root := startRestore(t, g, ns, db)
		var load, neutralize *batchv1.Job
		g.Eventually(func(g Gomega) { load = oneJob(g, ns, resources.JobKindRestoreBackup) }, eventually, poll).Should(Succeed())
		// Past the start's check; the operator's cache has the load's time
		// to see the new policy.
		catcherPolicy(t, g, ns, 1, "two.mail.test:1025")
		g.Expect(playDataJob(t, g, load, root)).To(Succeed())
		g.Eventually(func(g Gomega) { neutralize = oneJob(g, ns, resources.JobKindNeutralize) }, eventually, poll).Should(Succeed())
		target := restoreJob(g, ns, "copy").Status.TargetDatabase
		live := checksums(g, db)
		playNeutralize(g, neutralize, odooNeutralizeSQL)
		g.Eventually(func(g Gomega) {
			got := restoreJob(g, ns, "copy")
			g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
			g.Expect(got.Status.Message).To(ContainSubstring(want(ns)))
			g.Expect(got.Status.Message).To(ContainSubstring("the live database \"" + db + "\" is untouched"))
		}, eventually, poll).Should(Succeed())
		g.Expect(checksums(g, db)).To(Equal(live))
		g.Expect(databaseExists(g, target)).To(BeFalse())
		g.Expect(holdOf(g, ns)).To(BeEmpty())
	})
}

// TestTenantPolicyRefusesABadMailCatcher: the API server refuses a
// stagingMailCatcher that is not host:port, with the expected form.
func TestTenantPolicyRefusesABadMailCatcher(t *testing.T) {
	g := NewWithT(t)
	for _, bad := range []string{"mailpit", "mailpit:0", "mailpit:65536", "mail pit:25", "smtp://mailpit:25"} {
		err := k8s.Create(context.Background(), &odoov1alpha2.OdooTenantPolicy{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "bad-catcher-"},
			Spec:       odoov1alpha2.OdooTenantPolicySpec{StagingMailCatcher: bad},
		})
		g.Expect(err).To(MatchError(ContainSubstring("spec.stagingMailCatcher: Invalid value")), bad)
		g.Expect(err).To(MatchError(ContainSubstring("must be host:port of an SMTP server, e.g. mailpit.mail.svc:1025")), bad)
	}
	for _, good := range []string{"mailpit.mail.svc:1025", "10.0.0.5:25", "[fd00::5]:2525", "Mailpit:65535"} {
		p := &odoov1alpha2.OdooTenantPolicy{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "good-catcher-"},
			Spec: odoov1alpha2.OdooTenantPolicySpec{StagingMailCatcher: good,
				NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"selects": "nothing"}}},
		}
		g.Expect(k8s.Create(context.Background(), p)).To(Succeed(), good)
		g.Expect(k8s.Delete(context.Background(), p)).To(Succeed())
	}
}
