package resources

import (
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// JobKindRestoreBackup is the Job kind of an OdooRestoreJob (an upgrade's
// restore of its restore point is JobKindRestore).
const JobKindRestoreBackup = "restore-backup"

// RestoreBackupJobName is the one Job of an OdooRestoreJob.
func RestoreBackupJobName(rj *odoov1alpha2.OdooRestoreJob) string {
	return withSuffix(rj.Name, "-restore")
}

// RestoreTargetDatabaseName is the database an OdooRestoreJob loads its
// backup into: <live>_restore_<hash8 of the restore's uid>.
func RestoreTargetDatabaseName(live string, rj *odoov1alpha2.OdooRestoreJob) string {
	return pgWithSuffix(live, "_restore_"+hash8(string(rj.UID)))
}

// PreRestoreDatabaseName is the name the live database is kept under once an
// OdooRestoreJob swapped the restored one in: <live>_pre_restore_<hash8>.
func PreRestoreDatabaseName(live string, rj *odoov1alpha2.OdooRestoreJob) string {
	return pgWithSuffix(live, "_pre_restore_"+hash8(string(rj.UID)))
}

// RestoreBackupJobInputs are what an OdooRestoreJob's Job is built from.
type RestoreBackupJobInputs struct {
	// Data.Database is the target database.
	Data     DataJobInputs
	Restore  *odoov1alpha2.OdooRestoreJob
	Location BackupLocation
	// FilestoreClaim is mounted read-write at FilestorePath; the backup's
	// filestore goes to FilestoreDir(target), never the live one's.
	FilestoreClaim string
}

// RestoreBackupJob runs `odoo-operator data restore-backup` for an
// OdooRestoreJob, which owns it: the backup is verified against its sha256
// and loaded into the (empty) target database, its filestore into the
// target's filestore directory.
func RestoreBackupJob(in RestoreBackupJobInputs) *batchv1ac.JobApplyConfiguration {
	d := in.Data
	d.Name, d.Kind = RestoreBackupJobName(in.Restore), JobKindRestoreBackup
	d.Owner = jobOwner("OdooRestoreJob", in.Restore.Name, in.Restore.UID)
	return restoreBackupJob(d, in.Location, in.FilestoreClaim)
}

// restoreBackupJob runs `odoo-operator data restore-backup` from loc into
// the database d.Database, and the backup's filestore into that database's
// filestore directory on filestoreClaim ("" restores the database only).
func restoreBackupJob(d DataJobInputs, loc BackupLocation, filestoreClaim string) *batchv1ac.JobApplyConfiguration {
	args := []string{"restore-backup", "--from", loc.URL, "--database", d.Database}
	if withStorage(&d, loc, filestoreClaim, false) {
		args = append(args, "--filestore", FilestoreDir(d.Database))
	} else {
		args = append(args, "--skip-filestore")
	}
	d.Args = args
	return DataJob(d)
}

// Keys of the Secret an OdooRestoreJob from a live Odoo reads.
const (
	// OdooSourcePasswordKey is the key of the Secret the operator writes from
	// a legacy plain-text masterPassword.
	OdooSourcePasswordKey = "masterPassword"
)

// OdooSourceSecretName is the Secret holding the copy of a legacy plain-text
// source.odoo.masterPassword, owned by the OdooRestoreJob.
func OdooSourceSecretName(rj *odoov1alpha2.OdooRestoreJob) string {
	return withSuffix(rj.Name, "-odoo-source")
}

// OdooSourceLocation reaches a live Odoo's database manager: the URL is the
// `--from`, the database and the master password (by secretKeyRef from
// secretName/key) come by environment.
func OdooSourceLocation(src *odoov1alpha2.OdooSource, secretName, key string) BackupLocation {
	return BackupLocation{
		URL: src.URL,
		Env: []*corev1ac.EnvVarApplyConfiguration{
			corev1ac.EnvVar().WithName(EnvOdooSourceDatabase).WithValue(src.SourceDatabase),
			corev1ac.EnvVar().WithName(EnvOdooMasterPassword).WithValueFrom(secretKey(secretName, key)),
		},
	}
}

// Environment of a restore from a live Odoo (read by `data restore-backup`).
const (
	EnvOdooSourceDatabase = "ODOO_SOURCE_DATABASE"
	EnvOdooMasterPassword = "ODOO_MASTER_PASSWORD"
)
