package resources

import (
	"path"

	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// JobKindRestoreFilestore marks the Job that moves a restored filestore
// into place.
const JobKindRestoreFilestore = "restore-filestore"

// RestoreFilestoreJobName is the filestore Job of an OdooRestoreJob.
func RestoreFilestoreJobName(rj *odoov1alpha2.OdooRestoreJob) string {
	return withSuffix(rj.Name, "-filestore")
}

// RestoreFilestoreJobInputs are what the filestore Job is built from; the
// three names come from the OdooRestoreJob's status.
type RestoreFilestoreJobInputs struct {
	// Data.Database is the live database name.
	Data    DataJobInputs
	Restore *odoov1alpha2.OdooRestoreJob
	// Target and Kept are the restored and the kept databases' names.
	Target, Kept string
	// FilestoreClaim is mounted read-write at FilestorePath.
	FilestoreClaim string
}

// RestoreFilestoreJob runs `odoo-operator data swap-filestore` once the
// databases are swapped: filestore/<db> becomes filestore/<kept> and
// filestore/<target> becomes filestore/<db>, by renames on the filestore
// claim (no copy), resumable after a partial run.
func RestoreFilestoreJob(in RestoreFilestoreJobInputs) *batchv1ac.JobApplyConfiguration {
	d := in.Data
	d.Name, d.Kind = RestoreFilestoreJobName(in.Restore), JobKindRestoreFilestore
	d.Owner = jobOwner("OdooRestoreJob", in.Restore.Name, in.Restore.UID)
	withStorage(&d, BackupLocation{}, in.FilestoreClaim, false)
	d.Args = []string{"swap-filestore", "--dir", path.Join(FilestorePath, "filestore"),
		"--database", d.Database, "--target", in.Target, "--kept", in.Kept}
	return DataJob(d)
}
