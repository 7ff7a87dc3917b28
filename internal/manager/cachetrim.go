package manager

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/tools/cache"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
)

var stripManagedFields = crcache.TransformStripManagedFields()

// trimWorkload is the cache transform of Deployments and Jobs. Their pod
// templates are most of what the informers hold (two Deployments and an
// init Job are about 27 of the 48 KB an instance keeps in the cache), and
// the operator reads little of them: what it reads from a cached copy is
// kept, the rest is dropped as it is stored:
//
//   - metadata (labels, annotations, owners, generation), minus
//     managedFields;
//   - spec.replicas; for Jobs spec.activeDeadlineSeconds and
//     spec.backoffLimit (datajob's failure messages);
//   - the template's volumes (which claims a workload mounts: filestore
//     migration and claim resizing) and each container's name, image,
//     command and args (the images status reports), and its restartPolicy;
//   - status, whole.
//
// Dropped: the selector, the template's labels and annotations, env,
// probes, resources, mounts, scheduling and security contexts (the
// selectors and template labels alone were 10 of the 55 MB live heap at
// 1,000 instances). Nothing is written from a cached copy but a merge patch
// of the fields it changes (scaling to 0 on deletion), and server-side apply
// sends the whole desired configuration, so a dropped field is never written
// back empty. A field the operator starts reading from a cached Deployment
// or Job must be kept here; the controllers' envtests run with this
// transform.
func trimWorkload(obj any) (any, error) {
	// A per-kind transform replaces the cache's default one: strip the
	// managedFields with it, as for every other kind.
	obj, err := stripManagedFields(obj)
	if err != nil {
		return obj, err
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.Spec = appsv1.DeploymentSpec{
			Replicas: o.Spec.Replicas,
			Template: corev1.PodTemplateSpec{Spec: trimPodSpec(o.Spec.Template.Spec)},
		}
	case *batchv1.Job:
		o.Spec = batchv1.JobSpec{
			ActiveDeadlineSeconds: o.Spec.ActiveDeadlineSeconds,
			BackoffLimit:          o.Spec.BackoffLimit,
			Template:              corev1.PodTemplateSpec{Spec: trimPodSpec(o.Spec.Template.Spec)},
		}
	}
	return obj, nil
}

// trimNetworkPolicy is the cache transform of NetworkPolicies: the operator
// only needs to know that its policies exist (to apply or delete them) and
// their generation (to skip an apply that changes nothing), never their
// rules, so only metadata is kept.
func trimNetworkPolicy(obj any) (any, error) {
	obj, err := stripManagedFields(obj)
	if err != nil {
		return obj, err
	}
	if np, ok := obj.(*networkingv1.NetworkPolicy); ok {
		np.Spec = networkingv1.NetworkPolicySpec{}
	}
	return obj, nil
}

// trimPodSpec keeps a pod template's volumes and its containers' identity.
func trimPodSpec(in corev1.PodSpec) corev1.PodSpec {
	return corev1.PodSpec{
		Volumes:        in.Volumes,
		InitContainers: trimContainers(in.InitContainers),
		Containers:     trimContainers(in.Containers),
		RestartPolicy:  in.RestartPolicy,
	}
}

func trimContainers(in []corev1.Container) []corev1.Container {
	if in == nil {
		return nil
	}
	out := make([]corev1.Container, len(in))
	for i, c := range in {
		out[i] = corev1.Container{Name: c.Name, Image: c.Image, Command: c.Command, Args: c.Args}
	}
	return out
}

var (
	_ cache.TransformFunc = trimWorkload
	_ cache.TransformFunc = trimNetworkPolicy
)
