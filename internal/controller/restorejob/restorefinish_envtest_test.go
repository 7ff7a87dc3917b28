package restorejob_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/manager"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// odooNeutralizeSQL is what `odoo neutralize` does to these tables
// (odoo/addons/base/data/neutralize.sql and fetchmail's): every mail server
// off, a dummy active one on the reserved host "invalid", the flag set.
const odooNeutralizeSQL = `UPDATE ir_mail_server SET active = false;
	UPDATE fetchmail_server SET active = false;
	INSERT INTO ir_mail_server (name, smtp_port, smtp_host, active) VALUES ('neutralization - disable emails', 1025, 'invalid', true);
	INSERT INTO ir_config_parameter (key, value) VALUES ('database.is_neutralized', true)
	    ON CONFLICT (key) DO UPDATE SET value = true`

// playNeutralize stands in for the Odoo container of a neutralize Job: it
// runs sql on the database the Job names with -d, then completes the Job.
func playNeutralize(g Gomega, job *batchv1.Job, sql string) {
	c := job.Spec.Template.Spec.Containers[0]
	g.Expect(c.Command).To(Equal([]string{"odoo", "neutralize", "-c", "/etc/odoo/odoo.conf"}))
	g.Expect(c.Args).To(HaveLen(2))
	g.Expect(c.Args[0]).To(Equal("-d"))
	moduleSQL(g, c.Args[1], sql)
	setJobCondition(g, job, batchv1.JobComplete)
}

// withoutMailTables drops the tables neutralize changes from checksums.
func withoutMailTables(sums map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range sums {
		if k != "ir_config_parameter" && k != "ir_mail_server" && k != "fetchmail_server" {
			out[k] = v
		}
	}
	return out
}

// adminQueryIn runs a one-value query in db as PostgreSQL's superuser.
func adminQueryIn(g Gomega, db, sql string) string {
	out, err := pg.QueryOne(context.Background(), db, sql)
	g.Expect(err).NotTo(HaveOccurred())
	return out
}

func writeFile(g Gomega, path, content string) {
	g.Expect(os.MkdirAll(filepath.Dir(path), 0o750)).To(Succeed())
	g.Expect(os.WriteFile(path, []byte(content), 0o600)).To(Succeed())
}

func readFile(g Gomega, path string) string {
	b, err := os.ReadFile(path)
	g.Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// TestRestoreJobRefusesWhenAMailServerStaysActive: a neutralize Job that
// leaves the production SMTP server active (here: one that only sets the
// flag), or the production IMAP server, fails the restore, naming the
// server; nothing is held or swapped, the live database is untouched and
// the target kept for inspection.
func TestRestoreJobRefusesWhenAMailServerStaysActive(t *testing.T) {
	for _, tc := range []struct{ name, neutralizeSQL, want string }{
		{"smtp", `INSERT INTO ir_config_parameter (key, value) VALUES ('database.is_neutralized', 'true')`,
			`ir_mail_server "Production SMTP" is still active with smtp_host "smtp.shop.com"`},
		{"fetchmail", `UPDATE ir_mail_server SET active = false;
			INSERT INTO ir_config_parameter (key, value) VALUES ('database.is_neutralized', 'true')`,
			`fetchmail_server "Inbox" is still active`},
	} {
		t.Run(tc.name, func(t *testing.T) { refusedNeutralize(t, tc.neutralizeSQL, tc.want) })
	}
}

func refusedNeutralize(t *testing.T, neutralizeSQL, want string) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	inst := upgradeInstance(t, g, ns)
	db := inst.Status.Database.Name
	root := t.TempDir()
	archive := filepath.Join(root, "backup-store", "shop.zip")
	_, liveSums := restoreFixture(t, g, db, "file://"+archive)

	g.Expect(k8s.Create(context.Background(), &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: "copy", Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourcePVC,
				PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop.zip"}},
		},
	})).To(Succeed())
	var load *batchv1.Job
	g.Eventually(func(g Gomega) { load = oneJob(g, ns, resources.JobKindRestoreBackup) }, eventually, poll).Should(Succeed())
	g.Expect(playDataJob(t, g, load, root)).To(Succeed())

	var job *batchv1.Job
	g.Eventually(func(g Gomega) { job = oneJob(g, ns, resources.JobKindNeutralize) }, eventually, poll).Should(Succeed())
	target := restoreJob(g, ns, "copy").Status.TargetDatabase
	g.Expect(restoreJob(g, ns, "copy").Status.Step).To(Equal(odoov1alpha2.RestoreStepNeutralize))
	g.Expect(holdOf(g, ns)).To(BeEmpty(), "nothing is held while the copy is neutralized")
	playNeutralize(g, job, neutralizeSQL)

	g.Eventually(func(g Gomega) {
		got := restoreJob(g, ns, "copy")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(got.Status.Neutralized).To(BeFalse())
		g.Expect(got.Status.Message).To(ContainSubstring(want))
		g.Expect(got.Status.Message).To(ContainSubstring("the live database \"" + db + "\" is untouched"))
		g.Expect(got.Status.Message).To(ContainSubstring(fmt.Sprintf("the temporary database %q this restore had created was dropped", target)))
		g.Expect(got.Status.TargetDatabaseDropped).To(BeTrue())
		g.Expect(eventReasons(g, ns)).To(HaveKeyWithValue(odoov1alpha2.EventRestoreFailed, ContainSubstring(want)))
	}, eventually, poll).Should(Succeed())
	g.Expect(checksums(g, db)).To(Equal(liveSums))
	g.Expect(databaseExists(g, target)).To(BeFalse(), "a refused restore drops the temporary database it created")
	g.Expect(holdOf(g, ns)).To(BeEmpty())
	g.Expect(jobsOfKind(g, ns, resources.JobKindRestoreFilestore)).To(BeEmpty())
}

// TestRestoreJobIntoProductionDropsThePreviousDatabaseWhenAsked: a restore
// into a Production instance is not neutralized by default; a backup
// without a filestore leaves the live filestore in place; with
// keepPreviousDatabase false the previous database is dropped, but only
// once the instance is Ready on the restored one.
func TestRestoreJobIntoProductionDropsThePreviousDatabaseWhenAsked(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	inst := upgradeInstance(t, g, ns)
	db := inst.Status.Database.Name
	ctx := context.Background()
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Environment = odoov1alpha2.EnvironmentProduction
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())

	moduleSQL(g, db, mailFixtureSQL)
	root := t.TempDir()
	archive := filepath.Join(root, "backup-store", "shop.dump")
	t.Setenv("PGDATABASE", db)
	t.Setenv("PG_BIN_DIR", pg.BinDir)
	cmd := manager.NewRootCommand()
	cmd.SetArgs([]string{"data", "backup", "--format", "dump", "--to", "file://" + archive, "--termination-log", ""})
	cmd.SetOut(os.Stderr)
	cmd.SetErr(os.Stderr)
	g.Expect(cmd.ExecuteContext(ctx)).To(Succeed())
	backupSums := checksums(g, db)
	moduleSQL(g, db, `INSERT INTO ir_mail_server (name, smtp_host, active) VALUES ('written after the backup', 'smtp.other.com', true)`)
	liveFile := filepath.Join(root, "filestore", "filestore", db, "ab", "live")
	writeFile(g, liveFile, "the live attachment")

	g.Expect(k8s.Create(ctx, &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: "dr", Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef:      odoov1alpha2.OdooInstanceRef{Name: "shop"},
			KeepPreviousDatabase: ptr.To(false),
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourcePVC,
				PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop.dump"}},
		},
	})).To(Succeed())
	var load *batchv1.Job
	g.Eventually(func(g Gomega) { load = oneJob(g, ns, resources.JobKindRestoreBackup) }, eventually, poll).Should(Succeed())
	g.Expect(playDataJob(t, g, load, root)).To(Succeed())
	kept := restoreJob(g, ns, "dr").Status.KeptDatabase

	var fsJob *batchv1.Job
	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, "shop")
		fsJob = oneJob(g, ns, resources.JobKindRestoreFilestore)
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, resources.JobKindNeutralize)).To(BeEmpty(), "a Production instance is not neutralized by default")
	g.Expect(restoreJob(g, ns, "dr").Status.Step).To(Equal(odoov1alpha2.RestoreStepFilestore))
	g.Expect(holdOf(g, ns)).To(Equal("dr"), "web and cron stay held while the filestore moves")
	g.Expect(playDataJob(t, g, fsJob, root)).To(Succeed())

	g.Eventually(func(g Gomega) {
		got := restoreJob(g, ns, "dr")
		g.Expect(got.Status.Step).To(Equal(odoov1alpha2.RestoreStepDropPrevious))
		g.Expect(got.Status.FilestoreMoved).To(Equal(ptr.To(false)))
		g.Expect(got.Status.Message).To(ContainSubstring("waiting for the instance to be Ready on the restored database"))
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(databaseExists(g, kept)).To(BeTrue(), "nothing is dropped before the instance is Ready on the restored database")
	}, "1s", poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, "shop")
		markAvailable(g, ns, "shop-cron")
		got := restoreJob(g, ns, "dr")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobCompleted))
		g.Expect(got.Status.PreviousDatabaseDropped).To(BeTrue())
		g.Expect(got.Status.Message).To(ContainSubstring("not neutralized (the instance is Production)"))
		g.Expect(got.Status.Message).To(ContainSubstring("the backup held no filestore: the live filestore stays in filestore/" + db))
		g.Expect(got.Status.Message).To(ContainSubstring(`the previous database "` + kept + `" was dropped`))
		g.Expect(eventReasons(g, ns)).To(HaveKey(odoov1alpha2.EventPreviousDatabaseDropped))
	}, eventually, poll).Should(Succeed())
	g.Expect(databaseExists(g, kept)).To(BeFalse())
	g.Expect(checksums(g, db)).To(Equal(backupSums), "the production mail servers come back as they were")
	g.Expect(readFile(g, liveFile)).To(Equal("the live attachment"))
	g.Expect(filepath.Join(root, "filestore", "filestore", kept)).NotTo(BeADirectory())
}

// TestRestoreJobFilestoreFailureKeepsTheHold: a filestore Job that finds
// a state it cannot explain (a directory already under the kept name)
// moves nothing and fails; the restore fails after the swap, so web and
// cron stay held and the message says how to finish by hand.
func TestRestoreJobFilestoreFailureKeepsTheHold(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	playDataJobsOnTestPostgres(t)
	inst := upgradeInstance(t, g, ns)
	db := inst.Status.Database.Name
	root := t.TempDir()
	archive := filepath.Join(root, "backup-store", "shop.zip")
	restoreFixture(t, g, db, "file://"+archive)

	g.Expect(k8s.Create(context.Background(), &odoov1alpha2.OdooRestoreJob{
		ObjectMeta: metav1.ObjectMeta{Name: "fs", Namespace: ns},
		Spec: odoov1alpha2.OdooRestoreJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"}, Neutralize: ptr.To(false),
			Source: odoov1alpha2.RestoreSource{Type: odoov1alpha2.RestoreSourcePVC,
				PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop.zip"}},
		},
	})).To(Succeed())
	var load *batchv1.Job
	g.Eventually(func(g Gomega) { load = oneJob(g, ns, resources.JobKindRestoreBackup) }, eventually, poll).Should(Succeed())
	g.Expect(playDataJob(t, g, load, root)).To(Succeed())
	kept := restoreJob(g, ns, "fs").Status.KeptDatabase
	fsRoot := filepath.Join(root, "filestore", "filestore")
	writeFile(g, filepath.Join(fsRoot, db, "ab", "live"), "the live attachment")
	writeFile(g, filepath.Join(fsRoot, kept, "ab", "stray"), "a stray directory")

	var fsJob *batchv1.Job
	g.Eventually(func(g Gomega) {
		settleHeld(g, ns, "shop")
		fsJob = oneJob(g, ns, resources.JobKindRestoreFilestore)
	}, eventually, poll).Should(Succeed())
	g.Expect(jobsOfKind(g, ns, resources.JobKindNeutralize)).To(BeEmpty(), "spec.neutralize false")
	g.Expect(playDataJob(t, g, fsJob, root)).NotTo(Succeed())

	g.Eventually(func(g Gomega) {
		got := restoreJob(g, ns, "fs")
		g.Expect(got.Status.Phase).To(Equal(odoov1alpha2.JobFailed))
		g.Expect(got.Status.Message).To(ContainSubstring("the filestore Job fs-filestore failed (BackoffLimitExceeded, exit code 1): swap-filestore: cannot continue"))
		g.Expect(got.Status.Message).To(ContainSubstring("nothing was moved"))
		g.Expect(got.Status.Message).To(ContainSubstring("web and cron stay stopped"))
		g.Expect(got.Status.Message).To(ContainSubstring("remove the annotation " + odoov1alpha2.AnnotationRestoreHold))
	}, eventually, poll).Should(Succeed())
	g.Consistently(func(g Gomega) { g.Expect(holdOf(g, ns)).To(Equal("fs")) }, "1s", poll).Should(Succeed())
	g.Expect(readFile(g, filepath.Join(fsRoot, db, "ab", "live"))).To(Equal("the live attachment"))
	g.Expect(readFile(g, filepath.Join(fsRoot, kept, "ab", "stray"))).To(Equal("a stray directory"))
	g.Expect(databaseExists(g, kept)).To(BeTrue())
}
