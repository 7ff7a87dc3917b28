package resources

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// FilestorePVC is the filestore claim name, created with class. A claim's
// class and access modes are immutable and its size can only grow, so when the
// claim exists the builder keeps what it has and only ever raises the size:
// changing the class is a data migration, not an apply.
//
// The claim has no owner reference: the garbage collector would delete the
// attachments with the instance (even before its finalizer ran, under a
// foreground deletion) whatever spec.deletionPolicy says. The instance's
// finalizer deletes it under deletionPolicy Delete and keeps it otherwise;
// its labels name the instance, so a re-created instance of that name finds
// it again. Applying without the owner reference also removes the one an
// earlier operator version set.
func FilestorePVC(inst *odoov1alpha2.OdooInstance, name, class string, existing *corev1.PersistentVolumeClaim) *corev1ac.PersistentVolumeClaimApplyConfiguration {
	size := inst.StorageSize()
	accessModes := []corev1.PersistentVolumeAccessMode{inst.FilestoreAccessMode()}
	storageClass := class
	if existing != nil {
		if current, ok := existing.Spec.Resources.Requests[corev1.ResourceStorage]; ok && current.Cmp(size) > 0 {
			size = current
		}
		accessModes = existing.Spec.AccessModes
		storageClass = ""
		if existing.Spec.StorageClassName != nil {
			storageClass = *existing.Spec.StorageClassName
		}
	}
	spec := corev1ac.PersistentVolumeClaimSpec().
		WithAccessModes(accessModes...).
		WithResources(corev1ac.VolumeResourceRequirements().
			WithRequests(corev1.ResourceList{corev1.ResourceStorage: size}))
	if storageClass != "" {
		spec.WithStorageClassName(storageClass)
	}
	return corev1ac.PersistentVolumeClaim(name, inst.Namespace).
		WithLabels(Labels(inst, "filestore")).
		WithSpec(spec)
}

// FilestoreTargetPVC is the claim a migration copies into: class, with the
// access modes of source and a size no smaller than source's, so the copy fits.
// Like FilestorePVC it has no owner reference: once swapped in, it is the
// instance's filestore.
func FilestoreTargetPVC(inst *odoov1alpha2.OdooInstance, name, class string, source *corev1.PersistentVolumeClaim) *corev1ac.PersistentVolumeClaimApplyConfiguration {
	size := inst.StorageSize()
	accessModes := []corev1.PersistentVolumeAccessMode{inst.FilestoreAccessMode()}
	if source != nil {
		if current, ok := source.Spec.Resources.Requests[corev1.ResourceStorage]; ok && current.Cmp(size) > 0 {
			size = current
		}
		if len(source.Spec.AccessModes) > 0 {
			accessModes = source.Spec.AccessModes
		}
	}
	spec := corev1ac.PersistentVolumeClaimSpec().
		WithAccessModes(accessModes...).
		WithResources(corev1ac.VolumeResourceRequirements().
			WithRequests(corev1.ResourceList{corev1.ResourceStorage: size}))
	if class != "" {
		spec.WithStorageClassName(class)
	}
	return corev1ac.PersistentVolumeClaim(name, inst.Namespace).
		WithLabels(Labels(inst, "filestore")).
		WithSpec(spec)
}

// ClaimClass is the storage class of a claim ("" when unset).
func ClaimClass(pvc *corev1.PersistentVolumeClaim) string {
	if pvc == nil || pvc.Spec.StorageClassName == nil {
		return ""
	}
	return *pvc.Spec.StorageClassName
}

// FilestoreClassDrift reports a spec.filestore.storageClass that differs from
// the class of the existing claim, which only a migration can change.
func FilestoreClassDrift(inst *odoov1alpha2.OdooInstance, existing *corev1.PersistentVolumeClaim) (want, have string, drift bool) {
	if existing == nil || inst.Spec.Filestore.StorageClass == "" {
		return "", "", false
	}
	have = ""
	if existing.Spec.StorageClassName != nil {
		have = *existing.Spec.StorageClassName
	}
	want = inst.Spec.Filestore.StorageClass
	return want, have, want != have
}

// FilestoreShrinkRequested reports a spec.filestore.storageSize below the size
// of the existing claim, which Kubernetes cannot do.
func FilestoreShrinkRequested(inst *odoov1alpha2.OdooInstance, existing *corev1.PersistentVolumeClaim) (requested, current resource.Quantity, shrink bool) {
	if existing == nil {
		return resource.Quantity{}, resource.Quantity{}, false
	}
	requested = inst.StorageSize()
	current, ok := existing.Spec.Resources.Requests[corev1.ResourceStorage]
	return requested, current, ok && requested.Cmp(current) < 0
}
