package resources

import (
	"path"
	"strconv"
	"strings"

	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"k8s.io/apimachinery/pkg/types"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// JobKindBackup is the Job kind of an OdooBackupJob.
const JobKindBackup = "backup"

// Where the backup Jobs mount their claims, and the S3 Secret's keys.
const (
	// BackupStoreMountPath is where a destination claim is mounted.
	BackupStoreMountPath = "/backup-store"
	// S3SecretAccessKeyKey and S3SecretSecretKeyKey are the keys of the
	// legacy S3 credentials Secret.
	S3SecretAccessKeyKey = "accessKey"
	S3SecretSecretKeyKey = "secretKey"
)

// BackupJobName is the one Job of an OdooBackupJob.
func BackupJobName(job *odoov1alpha2.OdooBackupJob) string {
	return withSuffix(job.Name, "-backup")
}

// BackupFileExtension is the extension of a backup of format f.
func BackupFileExtension(f odoov1alpha2.BackupFormat) string {
	if f == odoov1alpha2.BackupFormatDump {
		return ".dump"
	}
	return ".zip"
}

// BackupLocation is the `--to`/`--from` URL of a destination, with the
// environment, volumes and mounts the data container needs to reach it.
type BackupLocation struct {
	URL     string
	Key     string
	Env     []*corev1ac.EnvVarApplyConfiguration
	Volumes []*corev1ac.VolumeApplyConfiguration
	Mounts  []*corev1ac.VolumeMountApplyConfiguration
}

// S3BackupLocation reaches the S3 object s3.objectKey; the credentials come
// from the Secret by secretKeyRef (keys accessKey and secretKey), never
// literally.
func S3BackupLocation(s3 *odoov1alpha2.S3Location) BackupLocation {
	return S3BackupLocationAt(s3, s3.ObjectKey)
}

// S3BackupLocationAt is S3BackupLocation for the object key of the bucket.
func S3BackupLocationAt(s3 *odoov1alpha2.S3Location, key string) BackupLocation {
	env := []*corev1ac.EnvVarApplyConfiguration{
		corev1ac.EnvVar().WithName("S3_ENDPOINT").WithValue(s3.Endpoint),
		corev1ac.EnvVar().WithName("S3_BUCKET").WithValue(s3.Bucket),
		corev1ac.EnvVar().WithName("S3_INSECURE").WithValue(strconv.FormatBool(s3.Insecure)),
	}
	if s3.Region != "" {
		env = append(env, corev1ac.EnvVar().WithName("S3_REGION").WithValue(s3.Region))
	}
	if ref := s3.S3CredentialsSecretRef; ref != nil {
		env = append(env,
			corev1ac.EnvVar().WithName("AWS_ACCESS_KEY_ID").WithValueFrom(secretKey(ref.Name, S3SecretAccessKeyKey)),
			corev1ac.EnvVar().WithName("AWS_SECRET_ACCESS_KEY").WithValueFrom(secretKey(ref.Name, S3SecretSecretKeyKey)))
	}
	return BackupLocation{URL: "s3://" + s3.Bucket + "/" + key, Key: key, Env: env}
}

// PVCBackupLocation reaches a file on a claim, mounted at
// BackupStoreMountPath (read-only when readOnly).
func PVCBackupLocation(pvc *odoov1alpha2.PVCLocation, file string, readOnly bool) BackupLocation {
	return BackupLocation{
		URL: "file://" + path.Join(BackupStoreMountPath, file), Key: file,
		Volumes: []*corev1ac.VolumeApplyConfiguration{corev1ac.Volume().WithName("backup-store").
			WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().WithClaimName(pvc.ClaimName).WithReadOnly(readOnly))},
		Mounts: []*corev1ac.VolumeMountApplyConfiguration{corev1ac.VolumeMount().WithName("backup-store").
			WithMountPath(BackupStoreMountPath).WithReadOnly(readOnly)},
	}
}

// BackupLocationOf is where the OdooBackupJob b stored its backup: the key
// recorded in status.objectKey before its Job was created (so backups made
// under an older layout are still found), else the requested one. The claim
// is mounted read-only when readOnly: what a restore reads.
func BackupLocationOf(b *odoov1alpha2.OdooBackupJob, readOnly bool) BackupLocation {
	key := b.Status.ObjectKey
	if key == "" {
		key = requestedBackupKey(b)
	}
	return backupLocationAt(b, key, readOnly)
}

// NewBackupLocation is where a new backup b of inst goes: BackupObjectKey of
// the requested key.
func NewBackupLocation(b *odoov1alpha2.OdooBackupJob, inst *odoov1alpha2.OdooInstance) BackupLocation {
	return backupLocationAt(b, BackupObjectKey(requestedBackupKey(b), b, inst), false)
}

func backupLocationAt(b *odoov1alpha2.OdooBackupJob, key string, readOnly bool) BackupLocation {
	d := b.Spec.Destination
	if d.PVC != nil {
		return PVCBackupLocation(d.PVC, key, readOnly)
	}
	return S3BackupLocationAt(&d.S3Location, key)
}

// requestedBackupKey is the key the spec asks for: spec.destination's
// objectKey, or pvc.path (default <name>.<format>).
func requestedBackupKey(b *odoov1alpha2.OdooBackupJob) string {
	d := b.Spec.Destination
	if d.PVC == nil {
		return d.ObjectKey
	}
	if d.PVC.Path == "" {
		return b.Name + BackupFileExtension(b.Spec.Format)
	}
	return d.PVC.Path
}

// BackupObjectKey is where a backup is stored, from the key its spec
// requests (DIR/NAME.EXT):
//
//	DIR/<namespace>/<instance>-<instance uid>/NAME-<backup uid>.EXT
//
// Tenants sharing a bucket (or a volume) and prefix never meet, even with
// same-named instances and backups, nor does a new instance of an old name,
// and no two OdooBackupJobs ever write or report the same object: each
// backup's object is new, so finding one there means someone else wrote it.
func BackupObjectKey(requested string, b *odoov1alpha2.OdooBackupJob, inst *odoov1alpha2.OdooInstance) string {
	ext := BackupFileExtension(b.Spec.Format)
	dir, base := path.Split(requested)
	stem := strings.TrimSuffix(base, ext)
	if stem == "" {
		stem = b.Name
	}
	return path.Join(dir, inst.Namespace, inst.Name+"-"+string(inst.UID), stem+"-"+string(b.UID)+ext)
}

// FilestoreDir is the database's filestore inside a data Job that mounts the
// filestore claim at FilestorePath (Odoo's data_dir).
func FilestoreDir(database string) string {
	return path.Join(FilestorePath, "filestore", database)
}

// BackupJobInputs are what a backup Job is built from.
type BackupJobInputs struct {
	Data     DataJobInputs
	Backup   *odoov1alpha2.OdooBackupJob
	Location BackupLocation
	// FilestoreClaim is mounted read-only at FilestorePath when set.
	FilestoreClaim string
}

// BackupJob runs `odoo-operator data backup` for an OdooBackupJob, which owns
// it: the instance's database (credentials by secretKeyRef), its filestore
// claim mounted read-only, the destination reached by S3 or a mounted claim.
func BackupJob(in BackupJobInputs) *batchv1ac.JobApplyConfiguration {
	b := in.Backup
	// The run id is recorded beside the backup: a complete backup that this
	// OdooBackupJob did not write is refused, never reported as its own.
	args := []string{"backup", "--format", string(b.Spec.Format), "--to", in.Location.URL, "--run-id", string(b.UID)}
	d := in.Data
	d.Name, d.Kind = BackupJobName(b), JobKindBackup
	d.Owner = jobOwner("OdooBackupJob", b.Name, b.UID)
	if withStorage(&d, in.Location, in.FilestoreClaim, true) {
		args = append(args, "--filestore", FilestoreDir(d.Database))
	}
	d.Args = args
	return DataJob(d)
}

// withStorage adds the backup location's environment and volumes, and the
// filestore claim at FilestorePath when one is given (it says so).
func withStorage(d *DataJobInputs, loc BackupLocation, filestoreClaim string, readOnly bool) bool {
	d.Env = loc.Env
	d.Volumes = append([]*corev1ac.VolumeApplyConfiguration{}, loc.Volumes...)
	d.Mounts = append([]*corev1ac.VolumeMountApplyConfiguration{}, loc.Mounts...)
	if filestoreClaim == "" {
		return false
	}
	d.Volumes = append(d.Volumes, corev1ac.Volume().WithName("filestore").
		WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().WithClaimName(filestoreClaim).WithReadOnly(readOnly)))
	d.Mounts = append(d.Mounts, corev1ac.VolumeMount().WithName("filestore").WithMountPath(FilestorePath).WithReadOnly(readOnly))
	return true
}

func jobOwner(kind, name string, uid types.UID) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(odoov1alpha2.GroupVersion.String()).
		WithKind(kind).WithName(name).WithUID(uid).
		WithController(true).WithBlockOwnerDeletion(true)
}
