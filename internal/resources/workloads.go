package resources

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// The official Odoo image runs as the odoo user (uid 100, gid 101); fsGroup
// makes the filestore writable for it.
const (
	odooUID  = int64(100)
	odooGID  = int64(101)
	confMode = int32(0o440)
)

// WorkloadInputs are what the web and cron Deployments are built from. The
// images are explicit because the image running can lag spec.image while a
// guarded upgrade is in progress.
type WorkloadInputs struct {
	Instance  *odoov1alpha2.OdooInstance
	WebImage  string
	CronImage string
	// ConfHash is stamped on pod templates so a changed odoo.conf rolls pods.
	ConfHash string
	// Hold keeps both tiers at 0 replicas: the database is not initialised
	// yet, the filestore is being migrated, or the instance is being deleted.
	Hold bool
	// StopWeb and StopCron keep one tier at 0 replicas: cron during a module
	// upgrade (maintenance mode), both while a restore point is loaded.
	StopWeb, StopCron bool
	// FilestoreClaim is the filestore claim the pods mount; empty means
	// FilestoreClaimName(Instance).
	FilestoreClaim string
	// DBCA mounts the cluster's CA (DBCASecretName) for libpq: set when the
	// cluster has a caCert.
	DBCA bool
}

func (in WorkloadInputs) claim() string {
	if in.FilestoreClaim != "" {
		return in.FilestoreClaim
	}
	return FilestoreClaimName(in.Instance)
}

func (in WorkloadInputs) replicas(n int32, stop bool) int32 {
	if in.Hold || stop {
		return 0
	}
	return n
}

// DefaultResources are the web container's resources when spec.resources is
// unset: the legacy operator's defaults.
func DefaultResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("200m"),
			corev1.ResourceMemory: resource.MustParse("256Mi"),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("2"),
			corev1.ResourceMemory: resource.MustParse("2Gi"),
		},
	}
}

// OwnerReference makes an object owned (and garbage-collected) by the instance.
func OwnerReference(inst *odoov1alpha2.OdooInstance) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(odoov1alpha2.GroupVersion.String()).
		WithKind("OdooInstance").
		WithName(inst.Name).
		WithUID(inst.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// WebDeployment is the web tier: HTTP on 8069, websocket (gevent) on 8072 when
// workers > 0, no cron threads so scheduled actions run only in the cron tier.
func WebDeployment(in WorkloadInputs) *appsv1ac.DeploymentApplyConfiguration {
	inst := in.Instance
	workers := inst.Workers()
	container := odooContainer(inst, in.WebImage, webResources(inst)).
		WithCommand(OdooCommand()...).
		WithArgs("--max-cron-threads=0", fmt.Sprintf("--workers=%d", workers)).
		WithEnv(mergeEnv(inst, []corev1.EnvVar{
			{Name: "MAX_CRON_THREADS", Value: "0"},
			{Name: "WORKERS", Value: fmt.Sprint(workers)},
		})...).
		WithPorts(webPorts(workers)...).
		WithStartupProbe(httpProbe(inst, 10, 30)).
		WithLivenessProbe(httpProbe(inst, 15, 3)).
		WithReadinessProbe(httpProbe(inst, 10, 3))

	return deployment(in, WebName(inst), ComponentWeb, in.replicas(inst.WebReplicas(), in.StopWeb), webStrategy(inst), 60, container)
}

// CronDeployment is the cron tier: no HTTP server, max_cron_threads from
// spec.cron, threaded mode, and Recreate so two cron pods never overlap.
func CronDeployment(in WorkloadInputs) *appsv1ac.DeploymentApplyConfiguration {
	inst := in.Instance
	threads := inst.CronMaxThreads()
	resources := webResources(inst)
	if inst.Spec.Cron.Resources != nil {
		resources = *inst.Spec.Cron.Resources
	}
	container := odooContainer(inst, in.CronImage, resources).
		WithCommand(append(OdooCommand(), "--no-http")...).
		WithArgs(fmt.Sprintf("--max-cron-threads=%d", threads), "--workers=0").
		WithEnv(mergeEnv(inst, []corev1.EnvVar{
			{Name: "MAX_CRON_THREADS", Value: fmt.Sprint(threads)},
			{Name: "HTTP_ENABLE", Value: "False"},
		})...)
	strategy := appsv1ac.DeploymentStrategy().WithType(appsv1.RecreateDeploymentStrategyType)
	return deployment(in, CronName(inst), ComponentCron, in.replicas(inst.CronReplicas(), in.StopCron), strategy, 120, container)
}

// webPorts declares 8072 only in prefork mode, where Odoo's gevent process
// listens on it; in threaded mode 8069 serves websockets itself.
func webPorts(workers int32) []*corev1ac.ContainerPortApplyConfiguration {
	ports := []*corev1ac.ContainerPortApplyConfiguration{
		corev1ac.ContainerPort().WithName("http").WithContainerPort(HTTPPort).WithProtocol(corev1.ProtocolTCP),
	}
	if workers > 0 {
		ports = append(ports, corev1ac.ContainerPort().WithName("websocket").WithContainerPort(WebsocketPort).WithProtocol(corev1.ProtocolTCP))
	}
	return ports
}

func deployment(in WorkloadInputs, name, component string, replicas int32,
	strategy *appsv1ac.DeploymentStrategyApplyConfiguration, grace int64,
	container *corev1ac.ContainerApplyConfiguration) *appsv1ac.DeploymentApplyConfiguration {
	inst := in.Instance
	pod := podSpec(inst, grace, container, in.claim())
	withDBCA(pod, inst, in.DBCA)
	withScheduling(pod, inst, SelectorLabels(inst, component))

	return appsv1ac.Deployment(name, inst.Namespace).
		WithLabels(Labels(inst, component)).
		WithOwnerReferences(OwnerReference(inst)).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(replicas).
			WithRevisionHistoryLimit(5).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(SelectorLabels(inst, component))).
			WithStrategy(strategy).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(PodLabels(inst, component)).
				WithAnnotations(map[string]string{odoov1alpha2.AnnotationConfigHash: in.ConfHash}).
				WithSpec(pod)))
}

// podSpec is the pod shape shared by the web and cron Deployments and the Odoo
// Jobs: restricted security context, odoo.conf from its Secret, the filestore.
func podSpec(inst *odoov1alpha2.OdooInstance, grace int64, container *corev1ac.ContainerApplyConfiguration, claim string) *corev1ac.PodSpecApplyConfiguration {
	pod := corev1ac.PodSpec().
		WithEnableServiceLinks(false).
		WithTerminationGracePeriodSeconds(grace).
		WithSecurityContext(restrictedPodSecurity()).
		WithContainers(container).
		WithVolumes(
			corev1ac.Volume().WithName("odoo-conf").WithSecret(corev1ac.SecretVolumeSource().
				WithSecretName(ConfSecretName(inst)).WithDefaultMode(confMode)),
			corev1ac.Volume().WithName("filestore").WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().
				WithClaimName(claim)),
		)
	if inst.Spec.ImagePullSecret != "" {
		pod.WithImagePullSecrets(corev1ac.LocalObjectReference().WithName(inst.Spec.ImagePullSecret))
	}

	return pod
}

// restrictedPodSecurity is the pod security context of every Odoo pod: the
// restricted Pod Security Standard, as the odoo user.
func restrictedPodSecurity() *corev1ac.PodSecurityContextApplyConfiguration {
	return corev1ac.PodSecurityContext().
		WithRunAsNonRoot(true).
		WithRunAsUser(odooUID).
		WithRunAsGroup(odooGID).
		WithFSGroup(odooGID).
		WithFSGroupChangePolicy(corev1.FSGroupChangeOnRootMismatch).
		WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))
}

func restrictedContainerSecurity() *corev1ac.SecurityContextApplyConfiguration {
	return corev1ac.SecurityContext().
		WithAllowPrivilegeEscalation(false).
		WithRunAsNonRoot(true).
		WithCapabilities(corev1ac.Capabilities().WithDrop("ALL"))
}

func odooContainer(inst *odoov1alpha2.OdooInstance, image string, res corev1.ResourceRequirements) *corev1ac.ContainerApplyConfiguration {
	c := corev1ac.Container().
		WithName(ContainerName).
		WithImage(image).
		WithResources(resourcesApply(res)).
		WithSecurityContext(restrictedContainerSecurity()).
		WithVolumeMounts(
			corev1ac.VolumeMount().WithName("odoo-conf").WithMountPath(ConfMountPath).WithReadOnly(true),
			corev1ac.VolumeMount().WithName("filestore").WithMountPath(FilestorePath),
		)
	for _, from := range inst.Spec.ExtraEnvFrom {
		c.WithEnvFrom(envFromApply(from))
	}
	return c
}

func webResources(inst *odoov1alpha2.OdooInstance) corev1.ResourceRequirements {
	if inst.Spec.Resources != nil {
		return *inst.Spec.Resources
	}
	return DefaultResources()
}

func webStrategy(inst *odoov1alpha2.OdooInstance) *appsv1ac.DeploymentStrategyApplyConfiguration {
	if inst.Spec.Strategy.Type == odoov1alpha2.StrategyRecreate {
		return appsv1ac.DeploymentStrategy().WithType(appsv1.RecreateDeploymentStrategyType)
	}
	ru := appsv1ac.RollingUpdateDeployment()
	if p := inst.Spec.Strategy.RollingUpdate; p != nil {
		if p.MaxUnavailable != nil {
			ru.WithMaxUnavailable(*p.MaxUnavailable)
		}
		if p.MaxSurge != nil {
			ru.WithMaxSurge(*p.MaxSurge)
		}
	}
	return appsv1ac.DeploymentStrategy().WithType(appsv1.RollingUpdateDeploymentStrategyType).WithRollingUpdate(ru)
}

func httpProbe(inst *odoov1alpha2.OdooInstance, period, failures int32) *corev1ac.ProbeApplyConfiguration {
	return corev1ac.Probe().
		WithHTTPGet(corev1ac.HTTPGetAction().WithPath(inst.ProbeEndpoint()).WithPort(intstr.FromString("http"))).
		WithPeriodSeconds(period).
		WithTimeoutSeconds(5).
		WithFailureThreshold(failures)
}

// mergeEnv puts the operator's variables first and lets spec.extraEnv replace
// any of them by name, keeping a stable order.
func mergeEnv(inst *odoov1alpha2.OdooInstance, base []corev1.EnvVar) []*corev1ac.EnvVarApplyConfiguration {
	base = append([]corev1.EnvVar{{Name: "ODOO_RC", Value: ConfMountPath + "/" + ConfFileName}}, base...)
	index := map[string]int{}
	merged := make([]corev1.EnvVar, 0, len(base)+len(inst.Spec.ExtraEnv))
	for _, e := range append(base, inst.Spec.ExtraEnv...) {
		if i, ok := index[e.Name]; ok {
			merged[i] = e
			continue
		}
		index[e.Name] = len(merged)
		merged = append(merged, e)
	}
	out := make([]*corev1ac.EnvVarApplyConfiguration, 0, len(merged))
	for _, e := range merged {
		out = append(out, envApply(e))
	}
	return out
}

// envApply, envFromApply and resourcesApply convert API types into apply
// configurations through JSON, which has the same shape for both: every field,
// including ones added by a newer Kubernetes (valueFrom.fileKeyRef, resource
// claims), carries over without a hand-written copy that could drop it.
func envApply(e corev1.EnvVar) *corev1ac.EnvVarApplyConfiguration {
	return viaJSON(e, &corev1ac.EnvVarApplyConfiguration{})
}

func envFromApply(from corev1.EnvFromSource) *corev1ac.EnvFromSourceApplyConfiguration {
	return viaJSON(from, &corev1ac.EnvFromSourceApplyConfiguration{})
}

func resourcesApply(r corev1.ResourceRequirements) *corev1ac.ResourceRequirementsApplyConfiguration {
	return viaJSON(r, &corev1ac.ResourceRequirementsApplyConfiguration{})
}

// viaJSON cannot fail for these types: both sides are plain structs generated
// from the same OpenAPI schema.
func viaJSON[T any](in any, out *T) *T {
	b, err := json.Marshal(in)
	if err != nil {
		panic(fmt.Sprintf("encoding %T: %v", in, err))
	}
	if err := json.Unmarshal(b, out); err != nil {
		panic(fmt.Sprintf("decoding %T: %v", out, err))
	}
	return out
}
