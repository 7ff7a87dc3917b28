package resources

import (
	"strconv"

	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Job kinds of a database move between PostgreSQL clusters.
const (
	JobKindDatabaseMoveDump = "dbmove-dump"
	JobKindDatabaseMoveLoad = "dbmove-load"
)

// DatabaseMoveNames are the deterministic names of a move of inst's
// database from source to target, asked by generation: recorded in
// status.database.move before anything of them is created, so a resumed
// move finds its Jobs and a later move (even back and forth) gets new ones.
func DatabaseMoveNames(inst *odoov1alpha2.OdooInstance, source, target string) (dumpJob, dumpFile, loadJob string) {
	h := hash8(string(inst.UID), source, target, strconv.FormatInt(inst.Generation, 10))
	return withSuffix(inst.Name, "-dbmove-dump-"+h), BackupName(inst.Name, "-dbmove-"+h) + ".dump", withSuffix(inst.Name, "-dbmove-load-"+h)
}

// databaseMoveLocation is the move's dump on the claim <name>-restore-points.
func databaseMoveLocation(inst *odoov1alpha2.OdooInstance, file string, readOnly bool) BackupLocation {
	return PVCBackupLocation(&odoov1alpha2.PVCLocation{ClaimName: RestorePointClaimName(inst)}, file, readOnly)
}

// DatabaseMoveDumpJob dumps the database d.Database of the source cluster
// (d's connection, the tenant's own login) in pg_dump's custom format to the
// move's file on the restore-points claim, with `data backup`: the move's
// restore point, kept after the move.
func DatabaseMoveDumpJob(d DataJobInputs, m *odoov1alpha2.DatabaseMove) *batchv1ac.JobApplyConfiguration {
	loc := databaseMoveLocation(d.Instance, m.DumpFile, false)
	d.Name, d.Kind = m.DumpJob, JobKindDatabaseMoveDump
	withStorage(&d, loc, "", false)
	// The run id ties the file to this move: a complete dump of that name
	// written by anyone else is refused, never loaded as this one.
	d.Args = []string{"backup", "--format", string(odoov1alpha2.BackupFormatDump), "--to", loc.URL, "--run-id", m.DumpJob}
	return DataJob(d)
}

// DatabaseMoveLoadJob loads the move's dump into the empty database
// d.Database of the target cluster (d's connection, the tenant's own
// login) with `data restore-backup`, the data code of an OdooRestoreJob; the
// filestore is left alone (it does not depend on the cluster).
func DatabaseMoveLoadJob(d DataJobInputs, m *odoov1alpha2.DatabaseMove) *batchv1ac.JobApplyConfiguration {
	d.Name, d.Kind = m.LoadJob, JobKindDatabaseMoveLoad
	return restoreBackupJob(d, databaseMoveLocation(d.Instance, m.DumpFile, true), "")
}
