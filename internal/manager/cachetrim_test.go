package manager

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func fullPodSpec() corev1.PodSpec {
	return corev1.PodSpec{
		Volumes: []corev1.Volume{{Name: "filestore", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "shop-filestore"}}}},
		InitContainers: []corev1.Container{{Name: "wait", Image: "busybox", Env: []corev1.EnvVar{{Name: "A", Value: "b"}}}},
		Containers: []corev1.Container{{
			Name: "odoo", Image: "odoo:18.0", Command: []string{"odoo"}, Args: []string{"--config", "/etc/odoo/odoo.conf"},
			Env:            []corev1.EnvVar{{Name: "PGPASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "password"}}}},
			VolumeMounts:   []corev1.VolumeMount{{Name: "filestore", MountPath: "/var/lib/odoo"}},
			ReadinessProbe: &corev1.Probe{PeriodSeconds: 10},
			Resources:      corev1.ResourceRequirements{Limits: corev1.ResourceList{}},
		}},
		RestartPolicy: corev1.RestartPolicyNever,
		Tolerations:   []corev1.Toleration{{Key: "dedicated"}},
		Affinity:      &corev1.Affinity{},
	}
}

// TestTrimWorkload: what the operator reads from a cached Deployment or Job
// survives the cache transform; the rest of the pod template does not.
func TestTrimWorkload(t *testing.T) {
	meta := metav1.ObjectMeta{
		Name: "shop", Namespace: "ns", Generation: 3, Labels: map[string]string{"app": "shop"},
		Annotations: map[string]string{"bemade.org/x": "y"}, OwnerReferences: []metav1.OwnerReference{{Name: "shop"}},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "odoo-operator"}},
	}
	dep := &appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "shop"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"restart": "1"}}, Spec: fullPodSpec()},
	}, Status: appsv1.DeploymentStatus{ObservedGeneration: 3, AvailableReplicas: 2}}
	job := &batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{
		ActiveDeadlineSeconds: ptr.To[int64](600), BackoffLimit: ptr.To[int32](0),
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "u"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"job-name": "shop-init"}}, Spec: fullPodSpec()},
	}, Status: batchv1.JobStatus{Succeeded: 1}}

	for _, tc := range []struct {
		name string
		obj  any
		spec func() (*corev1.PodTemplateSpec, metav1.Object)
	}{
		{"Deployment", dep, func() (*corev1.PodTemplateSpec, metav1.Object) { return &dep.Spec.Template, dep }},
		{"Job", job, func() (*corev1.PodTemplateSpec, metav1.Object) { return &job.Spec.Template, job }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := trimWorkload(tc.obj); err != nil {
				t.Fatal(err)
			}
			tmpl, m := tc.spec()
			if m.GetManagedFields() != nil {
				t.Error("managedFields kept")
			}
			if m.GetGeneration() != 3 || m.GetLabels()["app"] != "shop" || m.GetAnnotations()["bemade.org/x"] != "y" || len(m.GetOwnerReferences()) != 1 {
				t.Errorf("metadata not kept: %+v", m)
			}
			p := tmpl.Spec
			if len(p.Volumes) != 1 || p.Volumes[0].PersistentVolumeClaim.ClaimName != "shop-filestore" {
				t.Errorf("volumes = %+v", p.Volumes)
			}
			c := p.Containers[0]
			if c.Name != "odoo" || c.Image != "odoo:18.0" || len(c.Command) != 1 || len(c.Args) != 2 {
				t.Errorf("container identity not kept: %+v", c)
			}
			if c.Env != nil || c.VolumeMounts != nil || c.ReadinessProbe != nil || c.Resources.Limits != nil {
				t.Errorf("container details kept: %+v", c)
			}
			if p.InitContainers[0].Image != "busybox" || p.InitContainers[0].Env != nil {
				t.Errorf("init container = %+v", p.InitContainers[0])
			}
			if p.Tolerations != nil || p.Affinity != nil {
				t.Error("scheduling kept")
			}
		})
	}
	if *dep.Spec.Replicas != 2 || dep.Status.AvailableReplicas != 2 {
		t.Errorf("Deployment spec or status lost: %+v", dep)
	}
	if dep.Spec.Selector != nil || dep.Spec.Template.Annotations != nil || job.Spec.Template.Labels != nil {
		t.Errorf("selector or template metadata kept: %+v %+v", dep.Spec, job.Spec.Template.ObjectMeta)
	}
	if *job.Spec.ActiveDeadlineSeconds != 600 || *job.Spec.BackoffLimit != 0 || job.Status.Succeeded != 1 {
		t.Errorf("Job spec or status lost: %+v", job.Spec)
	}
}

// TestTrimNetworkPolicy: a cached NetworkPolicy keeps its metadata (the
// applier's generation check and the owner) and loses its rules.
func TestTrimNetworkPolicy(t *testing.T) {
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-isolation", Namespace: "ns", Generation: 2,
			OwnerReferences: []metav1.OwnerReference{{Name: "shop"}}, ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "odoo-operator"}}},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "shop"}},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{}}}},
		},
	}
	if _, err := trimNetworkPolicy(np); err != nil {
		t.Fatal(err)
	}
	if np.Generation != 2 || np.Name != "shop-isolation" || len(np.OwnerReferences) != 1 || np.ManagedFields != nil {
		t.Errorf("metadata = %+v", np.ObjectMeta)
	}
	if np.Spec.PodSelector.MatchLabels != nil || np.Spec.Ingress != nil {
		t.Errorf("rules kept: %+v", np.Spec)
	}
}
