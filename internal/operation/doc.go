// Package operation owns the per-instance database lock: the one record,
// status.operation of the OdooInstance, naming the operation that changes
// (or, for a backup, reads) the instance's database and filestore right now.
// Every operation takes it through this package before it acts and gives it
// back when it ends: the instance's own init, upgrade and filestore
// migration, each OdooBackupJob and each OdooRestoreJob. Later kinds (module
// installs, staging refresh, database move) use the same calls.
//
// # The calls
//
//   - Acquire(ctx, c, inst, kind, name) takes the lock, or says why not;
//   - SetStep(ctx, c, inst, kind, name, step) takes it too (re-entrant) and
//     records the holder's current step;
//   - Release(ctx, c, inst, kind, name) gives it back (a no-op unless that
//     operation holds it);
//   - Check(inst, kind, name) is Acquire's decision without the write, and
//     Compatible(held, wanted) the pure rule between two kinds;
//   - TiersHeld(inst) names the restore that keeps web and cron at 0.
//
// Every write is a JSON merge patch of status.operation alone, carrying the
// instance's resourceVersion as a precondition
// (client.MergeFromWithOptimisticLock): two controllers that read the same
// free lock cannot both take it, the second gets a conflict, re-reads the
// instance and decides again (a few times, then the error requeues its
// reconcile). A holder that finds its own kind and name in the record goes
// on: after an operator restart it finds the lock it took before and
// continues.
//
// # Who holds the lock
//
// The holder is status.operation. Besides it, state written by an operator
// version older than this lock still counts as a holder, so an operation in
// flight across the operator's upgrade keeps its instance: the annotation
// bemade.org/restore-hold (a restore between Stop and Start, or held by
// hand after a restore failed past its swap) holds it as that Restore, an
// instance whose database is not initialised yet as its Init, an upgrade in
// flight (status.upgrade.step) as its Upgrade and a filestore migration
// that copies (status.filestore.migration.phase Copying) as its
// FilestoreMigration. The instance's own operations write their record on
// their next reconcile (re-entrant); the annotation is only ever removed by
// its restore or by hand.
//
// # Stale records
//
// A record names its owner: an OdooBackupJob (kind Backup), an
// OdooRestoreJob (kind Restore) or an OdooStagingRefreshJob (kind
// StagingRefresh) of the instance's namespace, or the instance
// itself (Init, Upgrade, FilestoreMigration). Acquire treats a Backup, StagingRefresh or
// Restore record as released when its owner is Finished, or does not exist
// and the record is older than StaleGrace (the cache may not have seen an
// owner created a moment ago). The instance's own records are released by
// its own reconcile once the operation's status says it ended.
//
// # Which operation may start while another holds the lock
//
// Compatible(held, wanted) is the rule (its table test covers every pair):
//
//   - nothing held: every operation runs (it takes the lock);
//   - held by a Backup: everything waits, a second backup too (a backup
//     reads the database and the filestore; nothing may change them under
//     it, and the record names one holder);
//   - held by Init: everything waits for the database to be initialised;
//     Init itself is re-entrant, never "wanted" against another Init;
//   - held by Upgrade, ModuleInstall, FilestoreMigration, Restore,
//     StagingRefresh or DatabaseMove: every other operation waits until it
//     ends: a backup waits (it would read a half-changed database), an
//     upgrade waits for a restore, a restore for an upgrade, a second
//     restore for the first;
//   - Init is refused while any other operation holds the lock: Init is
//     only wanted for an empty database, and another holder means the
//     database is in use; initialising it would overwrite it.
//
// One pair runs together outside the table: the upgrade's own restore point
// (the OdooBackupJob named by status.upgrade.restorePointBackup) runs inside
// the upgrade that holds the lock, which waits for it before it touches the
// database; it takes no record of its own.
//
// A staging refresh's own restore (StagingRefreshRestoreName of the refresh
// holding the lock as StagingRefresh) takes the refresh's record over: its
// Acquire replaces the StagingRefresh record with its Restore record, so
// the restore's steps (and the tiers it holds) are recorded as any
// restore's, and nothing else can take the lock in between.
package operation
