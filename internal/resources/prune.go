package resources

import (
	"time"

	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// JobKindPrune is the Job kind deleting a backup's stored files.
const JobKindPrune = "prune"

// PruneJobName is the one Job deleting an OdooBackupJob's stored files.
func PruneJobName(b *odoov1alpha2.OdooBackupJob) string {
	return withSuffix(b.Name, "-prune")
}

// PruneJob runs `odoo-operator data delete-backup --from <location>` for an
// OdooBackupJob, which owns it: the location reached as the backup Job
// reached it (S3 credentials by secretKeyRef, or the claim mounted). The
// data container runs the operator's image itself: deleting files needs no
// PostgreSQL tool and no database, so a prune works while the database
// server is down or the instance is gone.
func PruneJob(b *odoov1alpha2.OdooBackupJob, loc BackupLocation, operatorImage string, deadline time.Duration) *batchv1ac.JobApplyConfiguration {
	inst := &odoov1alpha2.OdooInstance{}
	inst.Name, inst.Namespace = b.Spec.OdooInstanceRef.Name, b.Namespace
	d := DataJobInputs{
		Instance: inst, Name: PruneJobName(b), Kind: JobKindPrune,
		OperatorImage: operatorImage, ClientImage: operatorImage, NoDatabase: true,
		Owner:    jobOwner("OdooBackupJob", b.Name, b.UID),
		Args:     []string{"delete-backup", "--from", loc.URL},
		Deadline: deadline,
	}
	withStorage(&d, loc, "", false)
	return DataJob(d)
}
