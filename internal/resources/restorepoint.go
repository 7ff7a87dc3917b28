package resources

import (
	"path"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// An upgrade's restore point is an ordinary OdooBackupJob, so it is taken,
// verified and stored by the backup machinery and restored by the same data
// code as an OdooRestoreJob.

// LabelRestorePoint marks the OdooBackupJobs taken as an upgrade's restore
// point. They carry no bemade.org/scheduled-backup label: the schedule's
// retention neither counts nor deletes them.
const LabelRestorePoint = "bemade.org/upgrade-restore-point"

// BackupName is prefix+suffix, prefix shortened so that the backup's Job
// (<name>-backup) fits 63 characters.
func BackupName(prefix, suffix string) string {
	if limit := 63 - len("-backup") - len(suffix); len(prefix) > limit {
		prefix = prefix[:limit]
	}
	return prefix + suffix
}

// RestorePointBackupName is the OdooBackupJob of an upgrade's restore point,
// deterministic from the upgrade recorded in status before it is created: a
// resumed upgrade finds its backup, a new upgrade gets a new one.
func RestorePointBackupName(inst *odoov1alpha2.OdooInstance, st *odoov1alpha2.UpgradeStatus) string {
	return BackupName(inst.Name, "-pre-upgrade-"+upgradeHash(st))
}

// BackupDestinationFor is where the backup named name of format goes in
// dest: with S3, objectKey is a prefix (<objectKey>/<name>.<format>); with a
// claim, pvc.path is a directory (<path>/<name>.<format>).
func BackupDestinationFor(dest *odoov1alpha2.BackupDestination, name string, format odoov1alpha2.BackupFormat) odoov1alpha2.BackupDestination {
	d := *dest.DeepCopy()
	file := name + "." + string(format)
	if d.PVC != nil {
		d.PVC.Path = path.Join(d.PVC.Path, file)
	} else {
		d.ObjectKey = path.Join(d.ObjectKey, file)
	}
	return d
}

// RestorePointBackup is the OdooBackupJob taken before an upgrade touches the
// database: format dump (pg_restore's custom format: the fastest to load)
// without the filestore (an upgrade does not rewrite it), to
// spec.backup.destination when set, else to the claim <name>-restore-points.
// It is owned by the instance.
func RestorePointBackup(inst *odoov1alpha2.OdooInstance, st *odoov1alpha2.UpgradeStatus) *odoov1alpha2.OdooBackupJob {
	name := st.RestorePointBackup
	dest := &odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: RestorePointClaimName(inst)}}
	if inst.Spec.Backup.Destination != nil {
		dest = inst.Spec.Backup.Destination
	}
	labels := Labels(inst, "backup")
	labels[LabelRestorePoint] = "true"
	return &odoov1alpha2.OdooBackupJob{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: inst.Namespace, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(inst, odoov1alpha2.GroupVersion.WithKind("OdooInstance"))},
		},
		Spec: odoov1alpha2.OdooBackupJobSpec{
			OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: inst.Name},
			Format:          odoov1alpha2.BackupFormatDump,
			WithFilestore:   ptr.To(false),
			Destination:     BackupDestinationFor(dest, name, odoov1alpha2.BackupFormatDump),
		},
	}
}

// RestorePointClaimName is the claim restore points go to when the instance
// has no spec.backup.destination.
func RestorePointClaimName(inst *odoov1alpha2.OdooInstance) string {
	return inst.Name + "-restore-points"
}

// RestorePointPVC is the claim of the instance's restore points when it has
// no spec.backup.destination: one dump per upgrade, sized like the
// filestore, in the filestore's storage class. Like the filestore claim it has
// no owner reference: spec.deletionPolicy decides whether it outlives the
// instance.
func RestorePointPVC(inst *odoov1alpha2.OdooInstance) *corev1ac.PersistentVolumeClaimApplyConfiguration {
	spec := corev1ac.PersistentVolumeClaimSpec().
		WithAccessModes(corev1.ReadWriteOnce).
		WithResources(corev1ac.VolumeResourceRequirements().
			WithRequests(corev1.ResourceList{corev1.ResourceStorage: inst.StorageSize()}))
	if class := inst.Spec.Filestore.StorageClass; class != "" {
		spec.WithStorageClassName(class)
	}
	return corev1ac.PersistentVolumeClaim(RestorePointClaimName(inst), inst.Namespace).
		WithLabels(Labels(inst, "restore-points")).
		WithSpec(spec)
}

// UpgradeRestoreJob loads an upgrade's restore point backup (stored at loc)
// into the empty database d.Database with `data restore-backup`, the data
// code of an OdooRestoreJob; the filestore is left alone.
func UpgradeRestoreJob(d DataJobInputs, st *odoov1alpha2.UpgradeStatus, loc BackupLocation) *batchv1ac.JobApplyConfiguration {
	d.Name, d.Kind = RestoreJobName(d.Instance, st), JobKindRestore
	return restoreBackupJob(d, loc, "")
}
