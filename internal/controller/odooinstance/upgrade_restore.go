package odooinstance

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/restore"
	"github.com/odoo-operator/odoo-operator/internal/upgrade"
)

// A failed upgrade with onFailure Restore: web and cron stop, the restore
// point backup is loaded into a new database by a Job running the data code
// of an OdooRestoreJob (`data restore-backup`), with the restore's own load
// step (restore.DecideLoad, restore.CreateTarget, restore.SwapIn), and once
// it is verified the names are swapped: the live database is renamed aside (kept, never
// dropped) and the restored one takes its name. The live database is never
// dropped or written before the restored one is complete.

// observeRestore reads where the restore stands.
func (r *Reconciler) observeRestore(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus, o *upgrade.Observed, web, cron *appsv1.Deployment) error {
	inst := s.instance
	var err error
	if o.WebStopped, err = r.stopped(ctx, inst, []*appsv1.Deployment{nilIfAbsent(web), nilIfAbsent(cron)},
		resources.ComponentWeb, resources.ComponentCron); err != nil {
		return err
	}
	if o.RestoreJob, err = r.jobState(ctx, inst, resources.RestoreJobName(inst, st)); err != nil {
		return err
	}
	if st.KeptDatabase == "" {
		return nil
	}
	restored := resources.RestoreDatabaseName(s.dbName, st)
	return r.Databases.WithAdmin(ctx, s.cluster, func(conn *pgx.Conn) error {
		keptExists, err := dbtools.DatabaseExists(ctx, conn, st.KeptDatabase)
		if err != nil {
			return err
		}
		restoredExists, err := dbtools.DatabaseExists(ctx, conn, restored)
		o.Swapped = keptExists && !restoredExists
		return err
	})
}

// createRestoreJob creates the empty target database, owned by the
// instance's role, and the Job that loads the restore point backup into it
// from where that OdooBackupJob stored it. A restore point that is gone or
// did not complete ends the upgrade failed, the live database untouched.
func (r *Reconciler) createRestoreJob(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus) error {
	inst := s.instance
	b, err := r.restorePointBackup(ctx, inst, st)
	if err != nil {
		return wrap("restore point OdooBackupJob", err)
	}
	if b == nil || b.Status.Phase != odoov1alpha2.JobCompleted {
		return r.failUpgrade(ctx, s, st, fmt.Sprintf("%s; the restore point backup %s is gone or did not complete: nothing was restored, the live database was left as the upgrade left it",
			st.Message, st.RestorePointBackup))
	}
	target := resources.RestoreDatabaseName(s.dbName, st)
	err = r.Databases.WithAdmin(ctx, s.cluster, func(conn *pgx.Conn) error {
		return restore.CreateTarget(ctx, conn, target, s.dbUser, "")
	})
	if err != nil {
		return wrap("restore target database", err)
	}
	in, err := r.dataJobInputs(ctx, s, target)
	if err != nil {
		return err
	}
	return r.createJob(ctx, "restore Job", resources.UpgradeRestoreJob(in, st, resources.BackupLocationOf(b, true)))
}

// swapRestored verifies the restored database against the module snapshot
// taken before the upgrade, records the name the live database will be kept
// under, then swaps the names.
func (r *Reconciler) swapRestored(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus) error {
	inst := s.instance
	restored := resources.RestoreDatabaseName(s.dbName, st)
	before, err := r.readSnapshot(ctx, inst, st)
	if err != nil {
		return err
	}
	var got []dbtools.Module
	if err := r.Databases.WithTenantDatabase(ctx, s.cluster, s.tenantLogin(), restored, func(conn *pgx.Conn) error {
		got, err = dbtools.ReadModules(ctx, conn)
		return err
	}); err != nil {
		return wrap("verifying the restored database", err)
	}
	if report := dbtools.CompareModules(before, got); len(report.Upgraded)+len(report.Installed)+len(report.Removed) > 0 || !report.OK() {
		note, err := r.dropUpgradeRestoreTarget(ctx, s, st)
		if err != nil {
			return err
		}
		return r.failUpgrade(ctx, s, st, fmt.Sprintf("%s; the restored database %q does not match the module versions recorded before the upgrade (%s): it was not swapped in%s",
			st.Message, restored, report.Summary(5), note))
	}
	if st.KeptDatabase == "" {
		next := st.DeepCopy()
		next.KeptDatabase = resources.KeptDatabaseName(s.dbName, st)
		if err := r.persistUpgrade(ctx, s, next); err != nil {
			return err
		}
		st = next
	}
	err = r.Databases.WithAdmin(ctx, s.cluster, func(conn *pgx.Conn) error {
		_, err := restore.SwapIn(ctx, conn, s.dbName, restored, st.KeptDatabase)
		return err
	})
	if err != nil {
		return wrap("swapping the restored database in", err)
	}
	r.Databases.Invalidate(s.cluster.Name, s.dbUser, s.dbName)
	r.Recorder.Eventf(inst, nil, corev1.EventTypeNormal, odoov1alpha2.EventUpgradeRestored, "Upgrade",
		"restored the restore point backup %s into database %q; the database the failed upgrade left is kept as %q", st.RestorePointBackup, s.dbName, st.KeptDatabase)
	return nil
}

// dropUpgradeRestoreTarget drops the database a failed upgrade's restore
// loaded the restore point into (<db>_restore_<hash>, derived from the
// upgrade recorded in status, never the live database nor the kept
// <db>_failed_<hash>), once the restore failed before the swap; note says so.
func (r *Reconciler) dropUpgradeRestoreTarget(ctx context.Context, s *scope, st *odoov1alpha2.UpgradeStatus) (string, error) {
	restored := resources.RestoreDatabaseName(s.dbName, st)
	if restored == s.dbName || !resources.DerivedDatabaseOf(s.dbName, restored) {
		return "", fmt.Errorf("refusing to drop %q: not a restore target of %q", restored, s.dbName)
	}
	if err := r.Databases.WithAdmin(ctx, s.cluster, func(conn *pgx.Conn) error {
		return dbtools.DropDatabase(ctx, conn, restored)
	}); err != nil {
		return "", wrap("dropping the restore's temporary database", err)
	}
	return fmt.Sprintf("; the temporary database %q the restore had loaded was dropped", restored), nil
}
