package odooinstance

import (
	"context"
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

// The instance's claims (filestore, migration targets, restore points) carry
// no owner reference: spec.deletionPolicy alone decides whether they outlive
// the instance. They carry the instance's labels, which map their events to
// it and let its finalizer find them.

// instanceOfClaim maps a claim the operator labelled to its instance.
func instanceOfClaim(_ context.Context, o client.Object) []reconcile.Request {
	l := o.GetLabels()
	if l[resources.ManagedByLabel] != resources.ManagedByValue || l[odoov1alpha2.LabelInstance] == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: l[odoov1alpha2.LabelInstance]}}}
}

// claimComponents are the components of the claims that hold the instance's
// data.
var claimComponents = []string{"filestore", "restore-points"}

// ownClaim says whether pvc is a data claim the operator made for the
// instance named name: its labels, written by the operator, say so.
func ownClaim(pvc *corev1.PersistentVolumeClaim, name string) bool {
	l := pvc.Labels
	return l[resources.ManagedByLabel] == resources.ManagedByValue && l[odoov1alpha2.LabelInstance] == name &&
		slices.Contains(claimComponents, l[resources.ComponentLabel])
}

// instanceClaims are the instance's data claims that exist: those labelled
// for it, plus the filestore claim in use (a claim adopted from the
// reference operator carries no label) and its restore-point claim, sorted
// by name.
func (r *Reconciler) instanceClaims(ctx context.Context, inst *odoov1alpha2.OdooInstance) ([]corev1.PersistentVolumeClaim, error) {
	list := &corev1.PersistentVolumeClaimList{}
	if err := r.APIReader.List(ctx, list, client.InNamespace(inst.Namespace),
		client.MatchingLabels{odoov1alpha2.LabelInstance: inst.Name}); err != nil {
		return nil, err
	}
	var claims []corev1.PersistentVolumeClaim
	for _, pvc := range list.Items {
		if ownClaim(&pvc, inst.Name) {
			claims = append(claims, pvc)
		}
	}
	for _, name := range []string{resources.FilestoreClaimName(inst), resources.RestorePointClaimName(inst)} {
		if slices.ContainsFunc(claims, func(c corev1.PersistentVolumeClaim) bool { return c.Name == name }) {
			continue
		}
		pvc := &corev1.PersistentVolumeClaim{}
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: inst.Namespace, Name: name}, pvc)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, err
		default:
			claims = append(claims, *pvc)
		}
	}
	slices.SortFunc(claims, func(a, b corev1.PersistentVolumeClaim) int { return strings.Compare(a.Name, b.Name) })
	return claims, nil
}

func claimNames(claims []corev1.PersistentVolumeClaim) []string {
	names := make([]string, 0, len(claims))
	for _, c := range claims {
		names = append(names, c.Name)
	}
	return names
}

// withoutOwner is refs without the references to the instance uid.
func withoutOwner(refs []metav1.OwnerReference, uid types.UID) []metav1.OwnerReference {
	return slices.DeleteFunc(slices.Clone(refs), func(ref metav1.OwnerReference) bool { return ref.UID == uid })
}

// orphanClaims removes the instance's owner reference from its claims (set
// by operator versions before this one), so that the garbage collector does
// not delete them after the instance, and marks the filestore claim in use
// with AnnotationRetainedFilestore.
func (r *Reconciler) orphanClaims(ctx context.Context, inst *odoov1alpha2.OdooInstance, claims []corev1.PersistentVolumeClaim) error {
	inUse := resources.FilestoreClaimName(inst)
	for i := range claims {
		pvc := &claims[i]
		refs := withoutOwner(pvc.OwnerReferences, inst.UID)
		mark := pvc.Name == inUse && pvc.Annotations[odoov1alpha2.AnnotationRetainedFilestore] != inst.Name
		if len(refs) == len(pvc.OwnerReferences) && !mark {
			continue
		}
		patch := client.MergeFromWithOptions(pvc.DeepCopy(), client.MergeFromWithOptimisticLock{})
		pvc.OwnerReferences = refs
		if mark {
			if pvc.Annotations == nil {
				pvc.Annotations = map[string]string{}
			}
			pvc.Annotations[odoov1alpha2.AnnotationRetainedFilestore] = inst.Name
		}
		if err := r.Patch(ctx, pvc, patch); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("keeping claim %s: %w", pvc.Name, err)
		}
	}
	return nil
}

// removeInstanceJobs deletes the finished and unfinished Jobs of the
// instance (its init, upgrade and data Jobs) and, when claims is not empty,
// every Job of the namespace whose pods mount one of them (backups and
// restores of the instance belong to their OdooBackupJob/OdooRestoreJob):
// their pods would keep a deleted claim Terminating, and a re-created
// instance of the same name would find the old init Job under its own name.
// Propagation Background: the pods go with them. The history the operator
// needs lives in the OdooBackupJob and OdooRestoreJob objects, not in Jobs.
// It returns the names of the Jobs still there.
func (r *Reconciler) removeInstanceJobs(ctx context.Context, inst *odoov1alpha2.OdooInstance, claims []string) ([]string, error) {
	list := &batchv1.JobList{}
	if err := r.APIReader.List(ctx, list, client.InNamespace(inst.Namespace),
		client.MatchingLabels{resources.ManagedByLabel: resources.ManagedByValue}); err != nil {
		return nil, err
	}
	var left []string
	for i := range list.Items {
		job := &list.Items[i]
		if !jobOfInstance(job, inst) && !mountsAny(&job.Spec.Template.Spec, claims) {
			continue
		}
		left = append(left, job.Name)
		if !job.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return nil, fmt.Errorf("deleting Job %s: %w", job.Name, err)
		}
	}
	return left, nil
}

// jobOfInstance says whether the instance owns job.
func jobOfInstance(job *batchv1.Job, inst *odoov1alpha2.OdooInstance) bool {
	return slices.ContainsFunc(job.OwnerReferences, func(ref metav1.OwnerReference) bool { return ref.UID == inst.UID })
}

// mountsAny says whether the pod spec mounts one of claims.
func mountsAny(spec *corev1.PodSpec, claims []string) bool {
	for _, v := range spec.Volumes {
		if v.PersistentVolumeClaim != nil && slices.Contains(claims, v.PersistentVolumeClaim.ClaimName) {
			return true
		}
	}
	return false
}

// podsUsing names the pods of the namespace that mount one of claims.
func (r *Reconciler) podsUsing(ctx context.Context, ns string, claims []string) ([]string, error) {
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	var names []string
	for _, p := range pods.Items {
		if mountsAny(&p.Spec, claims) {
			names = append(names, p.Name)
		}
	}
	return names, nil
}

// retainedFilestore is the filestore claim a previous instance of this name
// used and kept (deletionPolicy Retain), when the instance has recorded no
// claim yet and the default claim does not exist: the claim the operator
// labelled for this name and marked with AnnotationRetainedFilestore; ""
// when there is none or more than one.
func (r *Reconciler) retainedFilestore(ctx context.Context, inst *odoov1alpha2.OdooInstance) (string, error) {
	if f := inst.Status.Filestore; f != nil && f.ClaimName != "" {
		return "", nil
	}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: inst.Namespace, Name: resources.FilestorePVCName(inst)}, &corev1.PersistentVolumeClaim{})
	if !apierrors.IsNotFound(err) {
		return "", client.IgnoreNotFound(err)
	}
	list := &corev1.PersistentVolumeClaimList{}
	if err := r.APIReader.List(ctx, list, client.InNamespace(inst.Namespace),
		client.MatchingLabels{odoov1alpha2.LabelInstance: inst.Name, resources.ComponentLabel: "filestore"}); err != nil {
		return "", err
	}
	found := ""
	for _, pvc := range list.Items {
		if !ownClaim(&pvc, inst.Name) || !pvc.DeletionTimestamp.IsZero() || pvc.Annotations[odoov1alpha2.AnnotationRetainedFilestore] != inst.Name {
			continue
		}
		if found != "" {
			return "", nil
		}
		found = pvc.Name
	}
	return found, nil
}
