package resources

import (
	corev1 "k8s.io/api/core/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// JobKindFilestoreMigration marks filestore copy Jobs.
const JobKindFilestoreMigration = "filestore-migration"

// Mount points of the copy Job.
const (
	migrationOldPath = "/mnt/old"
	migrationNewPath = "/mnt/new"
)

// filestoreCopyScript copies every file of the old volume to the new one
// (lost+found, which belongs to root on ext4 volumes, excepted), then compares
// the sorted md5 sums of both trees: the Job succeeds only when they match.
const filestoreCopyScript = `set -eu
cd ` + migrationOldPath + `
find . -mindepth 1 -maxdepth 1 ! -name lost+found -exec cp -a -t ` + migrationNewPath + ` {} +
sums() { (cd "$1" && find . -path ./lost+found -prune -o -type f -exec md5sum {} + | sort); }
sums ` + migrationOldPath + ` > /tmp/old.md5
sums ` + migrationNewPath + ` > /tmp/new.md5
cmp /tmp/old.md5 /tmp/new.md5
echo "copied and verified $(wc -l < /tmp/old.md5) files"
`

// CopyInputs are what a filestore copy Job is built from.
type CopyInputs struct {
	Instance *odoov1alpha2.OdooInstance
	// Name of the Job (FilestoreCopyJobName).
	Name string
	// Image runs the copy: the instance's image, which has sh, cp, find and
	// md5sum, so no extra image is pulled.
	Image string
	// Source and Target are the claims copied from and to.
	Source, Target string
}

// MigrationImage is the copy Job's image: spec.image, or the
// bemade.org/migration-image annotation (a test and debug hook).
func MigrationImage(inst *odoov1alpha2.OdooInstance) string {
	if img := inst.Annotations[odoov1alpha2.AnnotationMigrationImage]; img != "" {
		return img
	}
	return inst.Spec.Image
}

// FilestoreCopyJob copies and verifies the filestore from one claim to
// another, with the restricted security context of the other Odoo Jobs.
// backoffLimit 0: a failed copy is reported, never retried blindly.
func FilestoreCopyJob(in CopyInputs) *batchv1ac.JobApplyConfiguration {
	inst := in.Instance
	labels := Labels(inst, "filestore-migration")
	labels[JobKindLabel] = JobKindFilestoreMigration
	container := corev1ac.Container().
		WithName("copy").
		WithImage(in.Image).
		WithCommand("sh", "-c", filestoreCopyScript).
		WithSecurityContext(restrictedContainerSecurity()).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName("old").WithMountPath(migrationOldPath).WithReadOnly(true),
			corev1ac.VolumeMount().WithName("new").WithMountPath(migrationNewPath),
		)
	pod := corev1ac.PodSpec().
		WithEnableServiceLinks(false).
		WithRestartPolicy(corev1.RestartPolicyNever).
		WithSecurityContext(restrictedPodSecurity()).
		WithContainers(container).
		WithVolumes(
			corev1ac.Volume().WithName("old").WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().
				WithClaimName(in.Source).WithReadOnly(true)),
			corev1ac.Volume().WithName("new").WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().
				WithClaimName(in.Target)),
		)
	if inst.Spec.ImagePullSecret != "" {
		pod.WithImagePullSecrets(corev1ac.LocalObjectReference().WithName(inst.Spec.ImagePullSecret))
	}
	withScheduling(pod, inst, labels)
	return batchv1ac.Job(in.Name, inst.Namespace).
		WithLabels(labels).
		WithOwnerReferences(OwnerReference(inst)).
		WithSpec(batchv1ac.JobSpec().
			WithBackoffLimit(0).
			WithTTLSecondsAfterFinished(7 * 24 * 3600).
			WithTemplate(corev1ac.PodTemplateSpec().WithLabels(labels).WithSpec(pod)))
}
