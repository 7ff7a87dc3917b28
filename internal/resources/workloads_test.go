package resources

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

const testConfHash = "0123456789abcdef"

func workloadInputs(inst *odoov1alpha2.OdooInstance) WorkloadInputs {
	return WorkloadInputs{Instance: inst, WebImage: inst.Spec.Image, CronImage: inst.CronImage(), ConfHash: testConfHash}
}

func webDeployment(t *testing.T, inst *odoov1alpha2.OdooInstance) *appsv1.Deployment {
	t.Helper()
	return convert[appsv1.Deployment](t, WebDeployment(workloadInputs(inst)))
}

func cronDeployment(t *testing.T, inst *odoov1alpha2.OdooInstance) *appsv1.Deployment {
	t.Helper()
	return convert[appsv1.Deployment](t, CronDeployment(workloadInputs(inst)))
}

func odooContainerOf(g Gomega, d *appsv1.Deployment) corev1.Container {
	g.Expect(d.Spec.Template.Spec.Containers).To(HaveLen(1))
	c := d.Spec.Template.Spec.Containers[0]
	g.Expect(c.Name).To(Equal("odoo"))
	return c
}

func envOf(c corev1.Container) []corev1.EnvVar { return c.Env }

func plainEnv(kv ...string) []corev1.EnvVar {
	out := make([]corev1.EnvVar, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		out = append(out, corev1.EnvVar{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func resourceReqs(reqCPU, reqMem, limCPU, limMem string) *corev1.ResourceRequirements {
	return &corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(reqCPU), corev1.ResourceMemory: resource.MustParse(reqMem)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(limCPU), corev1.ResourceMemory: resource.MustParse(limMem)},
	}
}

// expectResources compares quantities by value: a JSON round trip changes
// their internal representation but not what they mean.
func expectResources(g Gomega, got corev1.ResourceRequirements, want corev1.ResourceRequirements) {
	for _, pair := range []struct{ got, want corev1.ResourceList }{{got.Requests, want.Requests}, {got.Limits, want.Limits}} {
		g.Expect(pair.got).To(HaveLen(len(pair.want)))
		for name, q := range pair.want {
			g.Expect(pair.got).To(HaveKey(name))
			have := pair.got[name]
			g.Expect(have.Cmp(q)).To(Equal(0), "%s: got %s, want %s", name, have.String(), q.String())
		}
	}
}

// expectCommonPod checks what web and cron pods share: metadata, selector,
// hash annotation, hardening, volumes.
func expectCommonPod(t *testing.T, d *appsv1.Deployment, inst *odoov1alpha2.OdooInstance, component, name, image string) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(d.Name).To(Equal(name))
	g.Expect(d.Namespace).To(Equal(inst.Namespace))
	g.Expect(d.Labels).To(Equal(Labels(inst, component)))
	expectOwnedBy(g, d.OwnerReferences, inst)

	selector := SelectorLabels(inst, component)
	g.Expect(d.Spec.Selector).NotTo(BeNil())
	g.Expect(d.Spec.Selector.MatchLabels).To(Equal(selector))
	g.Expect(d.Spec.Selector.MatchExpressions).To(BeEmpty())
	for k, v := range selector {
		g.Expect(d.Spec.Template.Labels).To(HaveKeyWithValue(k, v), "pod labels must match the selector")
	}
	g.Expect(d.Spec.Template.Labels).To(HaveKeyWithValue(ComponentLabel, component))
	g.Expect(d.Spec.Template.Annotations).To(HaveKeyWithValue("bemade.org/odoo-conf-hash", testConfHash))
	g.Expect(d.Spec.RevisionHistoryLimit).To(HaveValue(Equal(int32(5))))

	pod := d.Spec.Template.Spec
	g.Expect(pod.EnableServiceLinks).To(HaveValue(BeFalse()))
	g.Expect(pod.SecurityContext).NotTo(BeNil())
	g.Expect(pod.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
	g.Expect(pod.SecurityContext.RunAsUser).To(HaveValue(Equal(int64(100))))
	g.Expect(pod.SecurityContext.RunAsGroup).To(HaveValue(Equal(int64(101))))
	g.Expect(pod.SecurityContext.FSGroup).To(HaveValue(Equal(int64(101))))
	g.Expect(pod.SecurityContext.FSGroupChangePolicy).To(HaveValue(Equal(corev1.FSGroupChangeOnRootMismatch)))
	g.Expect(pod.SecurityContext.SeccompProfile).NotTo(BeNil())
	g.Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))

	g.Expect(pod.Volumes).To(HaveLen(2))
	g.Expect(pod.Volumes[0].Name).To(Equal("odoo-conf"))
	g.Expect(pod.Volumes[0].Secret).NotTo(BeNil(), "odoo.conf holds passwords: it must come from a Secret")
	g.Expect(pod.Volumes[0].ConfigMap).To(BeNil())
	g.Expect(pod.Volumes[0].Secret.SecretName).To(Equal(inst.Name + "-odoo-conf"))
	g.Expect(pod.Volumes[0].Secret.DefaultMode).To(HaveValue(Equal(int32(0o440))))
	g.Expect(pod.Volumes[1].Name).To(Equal("filestore"))
	g.Expect(pod.Volumes[1].PersistentVolumeClaim).NotTo(BeNil())
	g.Expect(pod.Volumes[1].PersistentVolumeClaim.ClaimName).To(Equal(inst.Name + "-filestore-pvc"))
	g.Expect(pod.Volumes[1].PersistentVolumeClaim.ReadOnly).To(BeFalse())

	c := odooContainerOf(g, d)
	g.Expect(c.Image).To(Equal(image))
	g.Expect(c.SecurityContext).NotTo(BeNil())
	g.Expect(c.SecurityContext.AllowPrivilegeEscalation).To(HaveValue(BeFalse()))
	g.Expect(c.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
	g.Expect(c.SecurityContext.Privileged).To(BeNil())
	g.Expect(c.SecurityContext.Capabilities).NotTo(BeNil())
	g.Expect(c.SecurityContext.Capabilities.Drop).To(Equal([]corev1.Capability{"ALL"}))
	g.Expect(c.SecurityContext.Capabilities.Add).To(BeEmpty())
	g.Expect(c.VolumeMounts).To(ConsistOf(
		corev1.VolumeMount{Name: "odoo-conf", MountPath: "/etc/odoo", ReadOnly: true},
		corev1.VolumeMount{Name: "filestore", MountPath: "/var/lib/odoo"},
	))
}

func TestWebDeployment(t *testing.T) {
	tests := []struct {
		name         string
		mutate       func(*odoov1alpha2.OdooInstance)
		wantReplicas int32
		wantWorkers  string
		wantEnv      []corev1.EnvVar
		wantProbe    string
	}{
		{
			name:         "defaults: one threaded pod",
			wantReplicas: 1, wantWorkers: "0", wantProbe: "/web/health",
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "0", "WORKERS", "0"),
		},
		{
			name:         "spec.workers as a number",
			mutate:       func(i *odoov1alpha2.OdooInstance) { i.Spec.Workers = ptr.To(intstr.FromInt32(4)) },
			wantReplicas: 1, wantWorkers: "4", wantProbe: "/web/health",
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "0", "WORKERS", "4"),
		},
		{
			name:         "spec.workers as a string",
			mutate:       func(i *odoov1alpha2.OdooInstance) { i.Spec.Workers = ptr.To(intstr.FromString("5")) },
			wantReplicas: 1, wantWorkers: "5", wantProbe: "/web/health",
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "0", "WORKERS", "5"),
		},
		{
			name: "configOptions.workers, the legacy place",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"workers": "6", "max_cron_threads": "3"}
			},
			wantReplicas: 1, wantWorkers: "6", wantProbe: "/web/health",
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "0", "WORKERS", "6"),
		},
		{
			name: "spec.workers wins over configOptions.workers",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Spec.Workers = ptr.To(intstr.FromInt32(2))
				i.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"workers": "6"}
			},
			wantReplicas: 1, wantWorkers: "2", wantProbe: "/web/health",
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "0", "WORKERS", "2"),
		},
		{
			name:         "replicas 0 stops the web tier",
			mutate:       func(i *odoov1alpha2.OdooInstance) { i.Spec.Replicas = ptr.To[int32](0) },
			wantReplicas: 0, wantWorkers: "0", wantProbe: "/web/health",
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "0", "WORKERS", "0"),
		},
		{
			name: "replicas 3 with workers and a custom probe",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Spec.Replicas = ptr.To[int32](3)
				i.Spec.Workers = ptr.To(intstr.FromInt32(3))
				i.Spec.Probes.Endpoint = "/healthz"
			},
			wantReplicas: 3, wantWorkers: "3", wantProbe: "/healthz",
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "0", "WORKERS", "3"),
		},
		{
			name: "extraEnv overrides WORKERS in place and appends new variables",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Spec.Workers = ptr.To(intstr.FromInt32(2))
				i.Spec.ExtraEnv = plainEnv("TZ", "Europe/Brussels", "WORKERS", "9", "PGAPPNAME", "shop")
			},
			wantReplicas: 1, wantWorkers: "2", wantProbe: "/web/health",
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "0", "WORKERS", "9",
				"TZ", "Europe/Brussels", "PGAPPNAME", "shop"),
		},
		{
			name: "extraEnv can override ODOO_RC and the last entry of a name wins",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Spec.ExtraEnv = plainEnv("ODOO_RC", "/custom/odoo.conf", "FOO", "1", "FOO", "2")
			},
			wantReplicas: 1, wantWorkers: "0", wantProbe: "/web/health",
			wantEnv: plainEnv("ODOO_RC", "/custom/odoo.conf", "MAX_CRON_THREADS", "0", "WORKERS", "0", "FOO", "2"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(tt.mutate)
			d := webDeployment(t, inst)
			expectCommonPod(t, d, inst, ComponentWeb, "shop", testImage)

			g.Expect(d.Spec.Replicas).To(HaveValue(Equal(tt.wantReplicas)))
			g.Expect(d.Spec.Template.Spec.TerminationGracePeriodSeconds).To(HaveValue(Equal(int64(60))))
			c := odooContainerOf(g, d)
			g.Expect(c.Command).To(Equal([]string{"odoo", "-c", "/etc/odoo/odoo.conf"}))
			g.Expect(c.Args).To(Equal([]string{"--max-cron-threads=0", "--workers=" + tt.wantWorkers}))
			g.Expect(envOf(c)).To(Equal(tt.wantEnv))

			for _, probe := range []struct {
				name             string
				p                *corev1.Probe
				period, failures int32
			}{
				{"startup", c.StartupProbe, 10, 30},
				{"liveness", c.LivenessProbe, 15, 3},
				{"readiness", c.ReadinessProbe, 10, 3},
			} {
				g.Expect(probe.p).NotTo(BeNil(), probe.name)
				g.Expect(probe.p.HTTPGet).NotTo(BeNil(), probe.name)
				g.Expect(probe.p.HTTPGet.Path).To(Equal(tt.wantProbe), probe.name)
				g.Expect(probe.p.HTTPGet.Port).To(Equal(intstr.FromString("http")), probe.name)
				g.Expect(probe.p.PeriodSeconds).To(Equal(probe.period), probe.name)
				g.Expect(probe.p.FailureThreshold).To(Equal(probe.failures), probe.name)
				g.Expect(probe.p.TimeoutSeconds).To(Equal(int32(5)), probe.name)
			}
		})
	}
}

// The websocket (gevent) process only runs in prefork mode, so port 8072 is
// declared only when workers > 0, like the Service port and the Ingress route.
func TestWebDeploymentPorts(t *testing.T) {
	http := corev1.ContainerPort{Name: "http", ContainerPort: 8069, Protocol: corev1.ProtocolTCP}
	websocket := corev1.ContainerPort{Name: "websocket", ContainerPort: 8072, Protocol: corev1.ProtocolTCP}
	tests := []struct {
		name   string
		mutate func(*odoov1alpha2.OdooInstance)
		want   []corev1.ContainerPort
	}{
		{name: "threaded mode", want: []corev1.ContainerPort{http}},
		{name: "spec.workers 0", mutate: func(i *odoov1alpha2.OdooInstance) { i.Spec.Workers = ptr.To(intstr.FromInt32(0)) },
			want: []corev1.ContainerPort{http}},
		{name: "spec.workers 4", mutate: func(i *odoov1alpha2.OdooInstance) { i.Spec.Workers = ptr.To(intstr.FromInt32(4)) },
			want: []corev1.ContainerPort{http, websocket}},
		{name: "configOptions.workers 2", mutate: func(i *odoov1alpha2.OdooInstance) {
			i.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"workers": "2"}
		}, want: []corev1.ContainerPort{http, websocket}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			c := odooContainerOf(g, webDeployment(t, newInstance(tt.mutate)))
			g.Expect(c.Ports).To(Equal(tt.want))
		})
	}
}

func TestCronDeployment(t *testing.T) {
	tests := []struct {
		name         string
		mutate       func(*odoov1alpha2.OdooInstance)
		wantReplicas int32
		wantThreads  string
		wantImage    string
		wantEnv      []corev1.EnvVar
	}{
		{
			name:         "defaults: one pod, one thread, spec.image",
			wantReplicas: 1, wantThreads: "1", wantImage: testImage,
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "1", "HTTP_ENABLE", "False"),
		},
		{
			name: "replicas, threads and image set",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Spec.Cron = odoov1alpha2.CronSpec{Replicas: ptr.To[int32](2), MaxCronThreads: ptr.To[int32](4), Image: "odoo:18.0-cron"}
			},
			wantReplicas: 2, wantThreads: "4", wantImage: "odoo:18.0-cron",
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "4", "HTTP_ENABLE", "False"),
		},
		{
			name:         "replicas 0 pauses scheduled actions",
			mutate:       func(i *odoov1alpha2.OdooInstance) { i.Spec.Cron.Replicas = ptr.To[int32](0) },
			wantReplicas: 0, wantThreads: "1", wantImage: testImage,
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "1", "HTTP_ENABLE", "False"),
		},
		{
			name: "web workers and web replicas do not leak into cron",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Spec.Replicas = ptr.To[int32](3)
				i.Spec.Workers = ptr.To(intstr.FromInt32(8))
				i.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"max_cron_threads": "0", "workers": "5"}
			},
			wantReplicas: 1, wantThreads: "1", wantImage: testImage,
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "1", "HTTP_ENABLE", "False"),
		},
		{
			name: "extraEnv overrides MAX_CRON_THREADS in place and appends",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Spec.Cron.MaxCronThreads = ptr.To[int32](2)
				i.Spec.ExtraEnv = plainEnv("MAX_CRON_THREADS", "7", "TZ", "UTC")
			},
			wantReplicas: 1, wantThreads: "2", wantImage: testImage,
			wantEnv: plainEnv("ODOO_RC", "/etc/odoo/odoo.conf", "MAX_CRON_THREADS", "7", "HTTP_ENABLE", "False", "TZ", "UTC"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(tt.mutate)
			d := cronDeployment(t, inst)
			expectCommonPod(t, d, inst, ComponentCron, "shop-cron", tt.wantImage)

			g.Expect(d.Spec.Replicas).To(HaveValue(Equal(tt.wantReplicas)))
			g.Expect(d.Spec.Strategy.Type).To(Equal(appsv1.RecreateDeploymentStrategyType), "two cron pods must never overlap")
			g.Expect(d.Spec.Strategy.RollingUpdate).To(BeNil())
			g.Expect(d.Spec.Template.Spec.TerminationGracePeriodSeconds).To(HaveValue(Equal(int64(120))))
			c := odooContainerOf(g, d)
			g.Expect(c.Command).To(Equal([]string{"odoo", "-c", "/etc/odoo/odoo.conf", "--no-http"}))
			g.Expect(c.Args).To(Equal([]string{"--max-cron-threads=" + tt.wantThreads, "--workers=0"}))
			g.Expect(envOf(c)).To(Equal(tt.wantEnv))
			g.Expect(c.Ports).To(BeEmpty(), "cron serves no HTTP")
			g.Expect(c.StartupProbe).To(BeNil())
			g.Expect(c.LivenessProbe).To(BeNil())
			g.Expect(c.ReadinessProbe).To(BeNil())
		})
	}
}

// The images come from WorkloadInputs, not spec: during a guarded upgrade the
// running image lags spec.image.
func TestWorkloadImagesFromInputs(t *testing.T) {
	g := NewWithT(t)
	inst := newInstance()
	in := WorkloadInputs{Instance: inst, WebImage: "odoo:17.0", CronImage: "odoo:17.0-cron", ConfHash: testConfHash}
	web := convert[appsv1.Deployment](t, WebDeployment(in))
	cron := convert[appsv1.Deployment](t, CronDeployment(in))
	g.Expect(odooContainerOf(g, web).Image).To(Equal("odoo:17.0"))
	g.Expect(odooContainerOf(g, cron).Image).To(Equal("odoo:17.0-cron"))
}

func TestWorkloadResources(t *testing.T) {
	web := resourceReqs("500m", "1Gi", "4", "4Gi")
	cron := resourceReqs("100m", "512Mi", "1", "1Gi")
	tests := []struct {
		name     string
		mutate   func(*odoov1alpha2.OdooInstance)
		wantWeb  corev1.ResourceRequirements
		wantCron corev1.ResourceRequirements
	}{
		{
			name:     "unset: legacy defaults for both",
			wantWeb:  *resourceReqs("200m", "256Mi", "2", "2Gi"),
			wantCron: *resourceReqs("200m", "256Mi", "2", "2Gi"),
		},
		{
			name:     "web set: cron defaults to web's",
			mutate:   func(i *odoov1alpha2.OdooInstance) { i.Spec.Resources = web },
			wantWeb:  *web,
			wantCron: *web,
		},
		{
			name:     "cron set: web keeps the defaults",
			mutate:   func(i *odoov1alpha2.OdooInstance) { i.Spec.Cron.Resources = cron },
			wantWeb:  *resourceReqs("200m", "256Mi", "2", "2Gi"),
			wantCron: *cron,
		},
		{
			name: "both set",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Spec.Resources = web
				i.Spec.Cron.Resources = cron
			},
			wantWeb:  *web,
			wantCron: *cron,
		},
		{
			name: "requests only",
			mutate: func(i *odoov1alpha2.OdooInstance) {
				i.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}
			},
			wantWeb:  corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
			wantCron: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(tt.mutate)
			expectResources(g, odooContainerOf(g, webDeployment(t, inst)).Resources, tt.wantWeb)
			expectResources(g, odooContainerOf(g, cronDeployment(t, inst)).Resources, tt.wantCron)
		})
	}

	t.Run("DefaultResources returns a fresh copy", func(t *testing.T) {
		g := NewWithT(t)
		r := DefaultResources()
		r.Requests[corev1.ResourceCPU] = resource.MustParse("9")
		fresh := DefaultResources().Requests[corev1.ResourceCPU]
		g.Expect(fresh.String()).To(Equal("200m"))
	})
}

func TestWebStrategy(t *testing.T) {
	tests := []struct {
		name     string
		strategy odoov1alpha2.StrategySpec
		want     appsv1.DeploymentStrategy
	}{
		{
			name:     "unset is a rolling update with Kubernetes' defaults",
			strategy: odoov1alpha2.StrategySpec{},
			want:     appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{}},
		},
		{
			name:     "Recreate",
			strategy: odoov1alpha2.StrategySpec{Type: odoov1alpha2.StrategyRecreate},
			want:     appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		},
		{
			name: "Recreate ignores rollingUpdate",
			strategy: odoov1alpha2.StrategySpec{Type: odoov1alpha2.StrategyRecreate,
				RollingUpdate: &odoov1alpha2.RollingUpdateSpec{MaxSurge: ptr.To(intstr.FromInt32(1))}},
			want: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		},
		{
			name: "RollingUpdate with maxSurge",
			strategy: odoov1alpha2.StrategySpec{Type: odoov1alpha2.StrategyRollingUpdate,
				RollingUpdate: &odoov1alpha2.RollingUpdateSpec{MaxSurge: ptr.To(intstr.FromInt32(2))}},
			want: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromInt32(2))}},
		},
		{
			name: "RollingUpdate with both, as percentages",
			strategy: odoov1alpha2.StrategySpec{Type: odoov1alpha2.StrategyRollingUpdate,
				RollingUpdate: &odoov1alpha2.RollingUpdateSpec{MaxSurge: ptr.To(intstr.FromString("50%")), MaxUnavailable: ptr.To(intstr.FromString("0%"))}},
			want: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromString("50%")), MaxUnavailable: ptr.To(intstr.FromString("0%"))}},
		},
		{
			name: "RollingUpdate with maxUnavailable 0",
			strategy: odoov1alpha2.StrategySpec{Type: odoov1alpha2.StrategyRollingUpdate,
				RollingUpdate: &odoov1alpha2.RollingUpdateSpec{MaxUnavailable: ptr.To(intstr.FromInt32(0))}},
			want: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr.To(intstr.FromInt32(0))}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			d := webDeployment(t, newInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.Strategy = tt.strategy }))
			g.Expect(d.Spec.Strategy).To(Equal(tt.want))
			// The cron tier is always Recreate, whatever the web strategy.
			cron := cronDeployment(t, newInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.Strategy = tt.strategy }))
			g.Expect(cron.Spec.Strategy).To(Equal(appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}))
		})
	}
}

func TestWorkloadExtraEnvValueFrom(t *testing.T) {
	tests := []struct {
		name string
		env  corev1.EnvVar
	}{
		{name: "secretKeyRef", env: corev1.EnvVar{Name: "SMTP_PASSWORD", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "smtp"}, Key: "password", Optional: ptr.To(true)}}}},
		{name: "configMapKeyRef", env: corev1.EnvVar{Name: "TZ", ValueFrom: &corev1.EnvVarSource{
			ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "site"}, Key: "tz", Optional: ptr.To(false)}}}},
		{name: "fieldRef", env: corev1.EnvVar{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}}},
		{name: "resourceFieldRef with divisor", env: corev1.EnvVar{Name: "MEM_MB", ValueFrom: &corev1.EnvVarSource{
			ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "odoo", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}}},
		{name: "resourceFieldRef without divisor", env: corev1.EnvVar{Name: "CPU", ValueFrom: &corev1.EnvVarSource{
			ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}}},
		{name: "fileKeyRef", env: corev1.EnvVar{Name: "FROM_FILE", ValueFrom: &corev1.EnvVarSource{
			FileKeyRef: &corev1.FileKeySelector{VolumeName: "config", Path: "app.env", Key: "FROM_FILE"}}}},
		{name: "plain value", env: corev1.EnvVar{Name: "PLAIN", Value: "x"}},
		{name: "empty value", env: corev1.EnvVar{Name: "EMPTY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.ExtraEnv = []corev1.EnvVar{tt.env} })
			for _, d := range []*appsv1.Deployment{webDeployment(t, inst), cronDeployment(t, inst)} {
				env := odooContainerOf(g, d).Env
				g.Expect(env).To(HaveLen(4), d.Name)
				got := env[3]
				g.Expect(got.Name).To(Equal(tt.env.Name), d.Name)
				g.Expect(got.Value).To(Equal(tt.env.Value), d.Name)
				if tt.env.ValueFrom == nil {
					g.Expect(got.ValueFrom).To(BeNil(), d.Name)
					continue
				}
				g.Expect(got.ValueFrom).NotTo(BeNil(), d.Name)
				want := tt.env.ValueFrom
				g.Expect(got.ValueFrom.SecretKeyRef).To(Equal(want.SecretKeyRef), d.Name)
				g.Expect(got.ValueFrom.ConfigMapKeyRef).To(Equal(want.ConfigMapKeyRef), d.Name)
				g.Expect(got.ValueFrom.FieldRef).To(Equal(want.FieldRef), d.Name)
				g.Expect(got.ValueFrom.FileKeyRef).To(Equal(want.FileKeyRef), d.Name)
				if want.ResourceFieldRef == nil {
					g.Expect(got.ValueFrom.ResourceFieldRef).To(BeNil(), d.Name)
				} else {
					g.Expect(got.ValueFrom.ResourceFieldRef).NotTo(BeNil(), d.Name)
					g.Expect(got.ValueFrom.ResourceFieldRef.Resource).To(Equal(want.ResourceFieldRef.Resource), d.Name)
					g.Expect(got.ValueFrom.ResourceFieldRef.ContainerName).To(Equal(want.ResourceFieldRef.ContainerName), d.Name)
					g.Expect(got.ValueFrom.ResourceFieldRef.Divisor.Cmp(want.ResourceFieldRef.Divisor)).To(Equal(0), d.Name)
				}
			}
		})
	}
}

func TestWorkloadExtraEnvFrom(t *testing.T) {
	tests := []struct {
		name string
		from []corev1.EnvFromSource
	}{
		{name: "none"},
		{name: "secret and config map, with prefix and optional", from: []corev1.EnvFromSource{
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "s3"}}},
			{Prefix: "SITE_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "site"}, Optional: ptr.To(true)}},
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "smtp"}, Optional: ptr.To(false)}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.ExtraEnvFrom = tt.from })
			for _, d := range []*appsv1.Deployment{webDeployment(t, inst), cronDeployment(t, inst)} {
				got := odooContainerOf(g, d).EnvFrom
				if len(tt.from) == 0 {
					g.Expect(got).To(BeEmpty(), d.Name)
					continue
				}
				g.Expect(got).To(Equal(tt.from), d.Name)
			}
		})
	}
}

func TestWorkloadImagePullSecret(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		want   []corev1.LocalObjectReference
	}{
		{name: "unset"},
		{name: "set", secret: "registry-creds", want: []corev1.LocalObjectReference{{Name: "registry-creds"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.ImagePullSecret = tt.secret })
			for _, d := range []*appsv1.Deployment{webDeployment(t, inst), cronDeployment(t, inst)} {
				if tt.want == nil {
					g.Expect(d.Spec.Template.Spec.ImagePullSecrets).To(BeEmpty(), d.Name)
					continue
				}
				g.Expect(d.Spec.Template.Spec.ImagePullSecrets).To(Equal(tt.want), d.Name)
			}
		})
	}
}

// extraEnv must not be modified by building the Deployments: the instance is
// the informer cache's object.
func TestWorkloadsDoNotMutateInstance(t *testing.T) {
	g := NewWithT(t)
	inst := newInstance(func(i *odoov1alpha2.OdooInstance) {
		i.Spec.ExtraEnv = make([]corev1.EnvVar, 0, 16)
		i.Spec.ExtraEnv = append(i.Spec.ExtraEnv, plainEnv("WORKERS", "9", "TZ", "UTC")...)
		i.Spec.Workers = ptr.To(intstr.FromInt32(2))
	})
	before := inst.DeepCopy()
	_ = WebDeployment(workloadInputs(inst))
	_ = CronDeployment(workloadInputs(inst))
	g.Expect(inst).To(Equal(before))
	g.Expect(inst.Spec.ExtraEnv[:cap(inst.Spec.ExtraEnv)][2:4]).To(Equal(make([]corev1.EnvVar, 2)), "spare capacity untouched")
}
