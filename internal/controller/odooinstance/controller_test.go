package odooinstance_test

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// pneumacStaging is the roadmap's example instance.
func pneumacStaging(ns string) *odoov1alpha2.OdooInstance {
	return &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "pneumac-staging", Namespace: ns},
		Spec: odoov1alpha2.OdooInstanceSpec{
			Image:         "registry.bemade.org/pneumac/odoo:latest",
			AdminPassword: "admin-secret-pw",
			Replicas:      ptr.To[int32](3),
			ConfigOptions: map[string]odoov1alpha2.ConfigValue{"max_cron_threads": "0", "workers": "5", "limit_time_real": "600"},
			Ingress:       &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"pneumac-staging.example.com"}, Issuer: "letsencrypt"},
			Cron:          odoov1alpha2.CronSpec{Replicas: ptr.To[int32](1), MaxCronThreads: ptr.To[int32](2)},
		},
	}
}

func container(d *appsv1.Deployment) corev1.Container { return d.Spec.Template.Spec.Containers[0] }

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return "<unset>"
}

func TestInstanceCreatesWebAndCronWorkloads(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	inst := pneumacStaging(ns)
	g.Expect(k8s.Create(ctx, inst)).To(Succeed())

	web, cron := &appsv1.Deployment{}, &appsv1.Deployment{}
	g.Eventually(func(g Gomega) {
		get(g, ns, "pneumac-staging", web)
		get(g, ns, "pneumac-staging-cron", cron)
	}, eventually, poll).Should(Succeed())

	// Both tiers wait at 0 replicas until the database is initialised.
	g.Expect(*web.Spec.Replicas).To(BeZero())
	g.Expect(*cron.Spec.Replicas).To(BeZero())
	g.Eventually(func(g Gomega) {
		get(g, ns, "pneumac-staging", inst)
		g.Expect(inst.Status.Phase).To(Equal(odoov1alpha2.PhaseInitializing))
		g.Expect(meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDatabaseReady).Reason).To(Equal(odoov1alpha2.ReasonInitializing))
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) { completeInit(g, ns, "pneumac-staging") }, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, "pneumac-staging", web)
		get(g, ns, "pneumac-staging-cron", cron)
		g.Expect(*web.Spec.Replicas).To(Equal(int32(3)))
		g.Expect(*cron.Spec.Replicas).To(Equal(int32(1)))
	}, eventually, poll).Should(Succeed())

	// Web: the roadmap's command and env, HTTP and websocket ports, probes.
	wc := container(web)
	g.Expect(wc.Image).To(Equal("registry.bemade.org/pneumac/odoo:latest"))
	g.Expect(wc.Command).To(Equal([]string{"odoo", "-c", "/etc/odoo/odoo.conf"}))
	g.Expect(wc.Args).To(Equal([]string{"--max-cron-threads=0", "--workers=5"}))
	g.Expect(envValue(wc, "MAX_CRON_THREADS")).To(Equal("0"))
	g.Expect(envValue(wc, "WORKERS")).To(Equal("5"))
	g.Expect(wc.Ports).To(HaveLen(2))
	g.Expect(wc.Ports[0].ContainerPort).To(Equal(int32(8069)))
	g.Expect(wc.Ports[1].ContainerPort).To(Equal(int32(8072)))
	g.Expect(wc.ReadinessProbe.HTTPGet.Path).To(Equal("/web/health"))
	g.Expect(web.Spec.Selector.MatchLabels).To(Equal(map[string]string{"app": "pneumac-staging"}))

	// Cron: no HTTP, its own thread count and replicas, Recreate.
	cc := container(cron)
	g.Expect(*cron.Spec.Replicas).To(Equal(int32(1)))
	g.Expect(cc.Command).To(Equal([]string{"odoo", "-c", "/etc/odoo/odoo.conf", "--no-http"}))
	g.Expect(cc.Args).To(Equal([]string{"--max-cron-threads=2", "--workers=0"}))
	g.Expect(envValue(cc, "MAX_CRON_THREADS")).To(Equal("2"))
	g.Expect(envValue(cc, "HTTP_ENABLE")).To(Equal("False"))
	g.Expect(cc.Ports).To(BeEmpty())
	g.Expect(cc.ReadinessProbe).To(BeNil())
	g.Expect(cron.Spec.Strategy.Type).To(Equal(appsv1.RecreateDeploymentStrategyType))

	// Restricted pods.
	for _, d := range []*appsv1.Deployment{web, cron} {
		ps := d.Spec.Template.Spec.SecurityContext
		g.Expect(*ps.RunAsNonRoot).To(BeTrue())
		g.Expect(*container(d).SecurityContext.AllowPrivilegeEscalation).To(BeFalse())
		g.Expect(container(d).SecurityContext.Capabilities.Drop).To(ContainElement(corev1.Capability("ALL")))
		g.Expect(d.OwnerReferences).To(HaveLen(1))
		g.Expect(d.OwnerReferences[0].Name).To(Equal("pneumac-staging"))
	}

	// odoo.conf lives in a Secret, with the database credentials of the
	// instance's own Secret, and no ConfigMap exists.
	conf, user := &corev1.Secret{}, &corev1.Secret{}
	get(g, ns, "pneumac-staging-odoo-conf", conf)
	get(g, ns, "pneumac-staging-odoo-user", user)
	text := string(conf.Data["odoo.conf"])
	g.Expect(text).To(ContainSubstring("db_password = " + string(user.Data["password"]) + "\n"))
	g.Expect(text).To(ContainSubstring("db_user = " + string(user.Data["username"]) + "\n"))
	g.Expect(text).To(ContainSubstring("db_host = " + pg.Host + "\n"))
	g.Expect(text).To(ContainSubstring("admin_passwd = admin-secret-pw\n"))
	g.Expect(text).To(ContainSubstring("limit_time_real = 600\n"))
	g.Expect(len(user.Data["password"])).To(BeNumerically(">=", 43))
	cms := &corev1.ConfigMapList{}
	g.Expect(k8s.List(ctx, cms, client.InNamespace(ns))).To(Succeed())
	for _, cm := range cms.Items {
		g.Expect(cm.Name).NotTo(ContainSubstring("pneumac"))
	}

	// Service, Ingress (websocket route because workers > 0) and filestore.
	svc, ing, pvc := &corev1.Service{}, &networkingv1.Ingress{}, &corev1.PersistentVolumeClaim{}
	get(g, ns, "pneumac-staging", svc)
	get(g, ns, "pneumac-staging", ing)
	get(g, ns, "pneumac-staging-filestore-pvc", pvc)
	g.Expect(svc.Spec.Ports).To(HaveLen(2))
	paths := ing.Spec.Rules[0].HTTP.Paths
	g.Expect(paths[0].Path).To(Equal("/websocket"))
	g.Expect(paths[0].Backend.Service.Port.Name).To(Equal("websocket"))
	g.Expect(ing.Spec.TLS[0].SecretName).To(Equal("pneumac-staging-tls"))
	g.Expect(ing.Annotations["cert-manager.io/cluster-issuer"]).To(Equal("letsencrypt"))
	g.Expect(pvc.Spec.AccessModes).To(Equal([]corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}))

	// Not Ready until the Deployments report available replicas.
	g.Consistently(func(g Gomega) {
		get(g, ns, "pneumac-staging", inst)
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionReady)).To(BeFalse())
	}, "500ms", poll).Should(Succeed())

	g.Eventually(func(g Gomega) {
		markAvailable(g, ns, "pneumac-staging")
		markAvailable(g, ns, "pneumac-staging-cron")
	}, eventually, poll).Should(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, "pneumac-staging", inst)
		g.Expect(meta.IsStatusConditionTrue(inst.Status.Conditions, odoov1alpha2.ConditionReady)).To(BeTrue())
		g.Expect(inst.Status.Phase).To(Equal(odoov1alpha2.PhaseRunning))
		g.Expect(inst.Status.ReadyReplicas).To(Equal(int32(3)))
		g.Expect(inst.Status.URL).To(Equal("https://pneumac-staging.example.com"))
		g.Expect(inst.Status.Selector).To(Equal("app=pneumac-staging"))
		g.Expect(inst.Status.Deployment.CurrentImage).To(Equal(inst.Spec.Image))
		g.Expect(inst.Status.ObservedGeneration).To(Equal(inst.Generation))
	}, eventually, poll).Should(Succeed())
}

func TestReplicasScaleWebOnlyAndConfigRollsBoth(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	inst := pneumacStaging(ns)
	converge(t, g, ns, inst)

	web, cron := &appsv1.Deployment{}, &appsv1.Deployment{}
	get(g, ns, "pneumac-staging", web)
	get(g, ns, "pneumac-staging-cron", cron)
	webHash := web.Spec.Template.Annotations[odoov1alpha2.AnnotationConfigHash]
	cronVersion := cron.ResourceVersion
	g.Expect(webHash).NotTo(BeEmpty())

	// replicas: only the web Deployment changes, and its pods do not roll.
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Replicas = ptr.To[int32](5)
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, "pneumac-staging", web)
		g.Expect(*web.Spec.Replicas).To(Equal(int32(5)))
	}, eventually, poll).Should(Succeed())
	g.Expect(web.Spec.Template.Annotations[odoov1alpha2.AnnotationConfigHash]).To(Equal(webHash))
	get(g, ns, "pneumac-staging-cron", cron)
	g.Expect(cron.ResourceVersion).To(Equal(cronVersion), "cron Deployment must not be written when only web replicas change")

	// configOptions: both pod templates get the new hash, so both roll.
	get(g, ns, "pneumac-staging", inst)
	patch = client.MergeFrom(inst.DeepCopy())
	inst.Spec.ConfigOptions["limit_time_real"] = "1200"
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, "pneumac-staging", web)
		get(g, ns, "pneumac-staging-cron", cron)
		g.Expect(web.Spec.Template.Annotations[odoov1alpha2.AnnotationConfigHash]).NotTo(Equal(webHash))
		g.Expect(cron.Spec.Template.Annotations[odoov1alpha2.AnnotationConfigHash]).
			To(Equal(web.Spec.Template.Annotations[odoov1alpha2.AnnotationConfigHash]))
	}, eventually, poll).Should(Succeed())
	conf := &corev1.Secret{}
	get(g, ns, "pneumac-staging-odoo-conf", conf)
	g.Expect(string(conf.Data["odoo.conf"])).To(ContainSubstring("limit_time_real = 1200\n"))
}

// objectVersions returns the resourceVersion of the instance and of every
// object it owns.
func objectVersions(g Gomega, ns, name string) map[string]string {
	versions := map[string]string{}
	for kind, obj := range map[string]client.Object{
		"instance": &odoov1alpha2.OdooInstance{}, "web": &appsv1.Deployment{}, "service": &corev1.Service{},
		"ingress": &networkingv1.Ingress{},
	} {
		get(g, ns, name, obj)
		versions[kind] = obj.GetResourceVersion()
	}
	for kind, n := range map[string]string{"cron": name + "-cron", "conf": name + "-odoo-conf", "user": name + "-odoo-user", "pvc": name + "-filestore-pvc"} {
		var obj client.Object = &corev1.Secret{}
		switch kind {
		case "cron":
			obj = &appsv1.Deployment{}
		case "pvc":
			obj = &corev1.PersistentVolumeClaim{}
		}
		get(g, ns, n, obj)
		versions[kind] = obj.GetResourceVersion()
	}
	return versions
}

func TestSteadyStateMakesNoWrites(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	inst := pneumacStaging(ns)
	converge(t, g, ns, inst)

	// Let in-flight reconciles finish, then take a snapshot.
	var before map[string]string
	g.Eventually(func(g Gomega) {
		first := objectVersions(g, ns, inst.Name)
		g.Consistently(func(g Gomega) {
			g.Expect(objectVersions(g, ns, inst.Name)).To(Equal(first))
		}, "1s", "200ms").Should(Succeed())
		before = first
	}, eventually, poll).Should(Succeed())

	// Force several reconciles by touching an unrelated label; none may write
	// a child or the status.
	for i := range 3 {
		get(g, ns, inst.Name, inst)
		patch := client.MergeFrom(inst.DeepCopy())
		if inst.Labels == nil {
			inst.Labels = map[string]string{}
		}
		inst.Labels["touch"] = string(rune('a' + i))
		g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
		before["instance"] = inst.ResourceVersion
	}
	g.Consistently(func(g Gomega) {
		g.Expect(objectVersions(g, ns, inst.Name)).To(Equal(before))
	}, "2s", "200ms").Should(Succeed())
}

func TestIngressRemovedWhenSpecDropsIt(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	inst := pneumacStaging(ns)
	converge(t, g, ns, inst)

	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Ingress = nil
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, key(ns, inst.Name), &networkingv1.Ingress{}))
	}, eventually, poll).Should(BeTrue())
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		g.Expect(inst.Status.URL).To(BeEmpty())
	}, eventually, poll).Should(Succeed())
}

func TestThreadedModeHasNoWebsocketRoute(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	inst := pneumacStaging(ns)
	delete(inst.Spec.ConfigOptions, "workers")
	inst.Spec.Replicas = ptr.To[int32](1)
	g.Expect(k8s.Create(ctx, inst)).To(Succeed())

	ing, svc, pvc := &networkingv1.Ingress{}, &corev1.Service{}, &corev1.PersistentVolumeClaim{}
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, ing)
		get(g, ns, inst.Name, svc)
		get(g, ns, inst.Name+"-filestore-pvc", pvc)
	}, eventually, poll).Should(Succeed())
	g.Expect(ing.Spec.Rules[0].HTTP.Paths).To(HaveLen(1))
	g.Expect(ing.Spec.Rules[0].HTTP.Paths[0].Path).To(Equal("/"))
	g.Expect(svc.Spec.Ports).To(HaveLen(1))
	g.Expect(pvc.Spec.AccessModes).To(Equal([]corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}))
}

func TestMissingAdminPasswordSecretStalls(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	inst := pneumacStaging(ns)
	inst.Spec.AdminPassword = ""
	inst.Spec.AdminPasswordSecretRef = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "odoo-master"}, Key: "password"}
	g.Expect(k8s.Create(ctx, inst)).To(Succeed())

	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionStalled)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Message).To(ContainSubstring(`spec.adminPasswordSecretRef: Secret "odoo-master" not found`))
		g.Expect(inst.Status.Phase).To(Equal(odoov1alpha2.PhaseFailed))
	}, eventually, poll).Should(Succeed())
	// Nothing that needs the password was written.
	g.Expect(apierrors.IsNotFound(k8s.Get(ctx, key(ns, inst.Name), &appsv1.Deployment{}))).To(BeTrue())

	// Creating the Secret and touching the instance recovers it.
	g.Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "odoo-master", Namespace: ns},
		Data:       map[string][]byte{"password": []byte("from-secret")},
	})).To(Succeed())
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Annotations = map[string]string{"touch": "1"}
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		conf := &corev1.Secret{}
		get(g, ns, inst.Name+"-odoo-conf", conf)
		g.Expect(string(conf.Data["odoo.conf"])).To(ContainSubstring("admin_passwd = from-secret\n"))
		get(g, ns, inst.Name, inst)
		g.Expect(meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionStalled)).To(BeNil())
	}, eventually, poll).Should(Succeed())
}

func TestFilestoreGrowsButNeverShrinks(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	inst := pneumacStaging(ns)
	inst.Spec.Filestore.StorageSize = ptr.To(resource.MustParse("5Gi"))
	converge(t, g, ns, inst)

	pvc := &corev1.PersistentVolumeClaim{}
	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Filestore.StorageSize = ptr.To(resource.MustParse("1Gi"))
	g.Expect(k8s.Patch(ctx, inst, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		get(g, ns, inst.Name, inst)
		c := meta.FindStatusCondition(inst.Status.Conditions, odoov1alpha2.ConditionDegraded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal("FilestoreShrinkRefused"))
		g.Expect(c.Message).To(ContainSubstring("spec.filestore.storageSize 1Gi is below the volume's 5Gi"))
	}, eventually, poll).Should(Succeed())
	get(g, ns, inst.Name+"-filestore-pvc", pvc)
	g.Expect(pvc.Spec.Resources.Requests.Storage().String()).To(Equal("5Gi"))
}

// TestAdmissionRefusesBadInput checks that the CRD's schema and CEL rules
// refuse bad input with a message naming the field.
func TestAdmissionRefusesBadInput(t *testing.T) {
	ns := newNamespace(t)
	cases := []struct {
		name   string
		mutate func(*odoov1alpha2.OdooInstance)
		want   []string
	}{
		{"negative replicas", func(o *odoov1alpha2.OdooInstance) { o.Spec.Replicas = ptr.To[int32](-1) },
			[]string{"spec.replicas", "greater than or equal to 0"}},
		{"empty image", func(o *odoov1alpha2.OdooInstance) { o.Spec.Image = "" },
			[]string{"spec.image"}},
		{"host that is not a DNS name", func(o *odoov1alpha2.OdooInstance) {
			o.Spec.Ingress.Hosts = []odoov1alpha2.Hostname{"not a host!"}
		}, []string{"spec.ingress.hosts[0]", "must be a lowercase DNS name"}},
		{"spec.workers not a number", func(o *odoov1alpha2.OdooInstance) {
			o.Spec.Workers = ptr.To(intstr.FromString("five"))
		}, []string{"spec.workers", "whole number"}},
		{"configOptions.workers not a number", func(o *odoov1alpha2.OdooInstance) {
			o.Spec.ConfigOptions["workers"] = "five"
		}, []string{"spec.configOptions", "configOptions.workers must be a whole number"}},
		{"unknown accessMode", func(o *odoov1alpha2.OdooInstance) { o.Spec.Filestore.AccessMode = "ReadManyWriteNever" },
			[]string{"spec.filestore.accessMode", "Unsupported value", "ReadWriteMany"}},
		{"several replicas on a ReadWriteOnce filestore", func(o *odoov1alpha2.OdooInstance) {
			o.Spec.Filestore.AccessMode = corev1.ReadWriteOnce
		}, []string{"spec.filestore.accessMode must be ReadWriteMany when spec.replicas > 1"}},
		{"operator-owned option", func(o *odoov1alpha2.OdooInstance) { o.Spec.ConfigOptions["db_host"] = "elsewhere" },
			[]string{"spec.configOptions", "db_host", "set by the operator"}},
		{"option with a line break", func(o *odoov1alpha2.OdooInstance) { o.Spec.ConfigOptions["limit_time_real"] = "1\ndb_host = evil" },
			[]string{"spec.configOptions", "single line"}},
		{"both admin passwords", func(o *odoov1alpha2.OdooInstance) {
			o.Spec.AdminPasswordSecretRef = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}
		}, []string{"exactly one of spec.adminPassword or spec.adminPasswordSecretRef"}},
		{"probe path without slash", func(o *odoov1alpha2.OdooInstance) { o.Spec.Probes.Endpoint = "web/health" },
			[]string{"spec.probes.endpoint"}},
		{"webhook that is not a URL", func(o *odoov1alpha2.OdooInstance) { o.Spec.Webhook = &odoov1alpha2.WebhookSpec{URL: "ftp://x"} },
			[]string{"spec.webhook.url", "http:// or https:// URL"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := pneumacStaging(ns)
			inst.Name = "bad-" + strings.Repeat("x", i%3) + string(rune('a'+i))
			tc.mutate(inst)
			err := k8s.Create(context.Background(), inst)
			g.Expect(err).To(HaveOccurred())
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), err.Error())
			for _, w := range tc.want {
				g.Expect(err.Error()).To(ContainSubstring(w))
			}
		})
	}
}

func TestDatabaseNameIsImmutable(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	ctx := context.Background()
	inst := pneumacStaging(ns)
	inst.Spec.Database.Name = "pneumac_prod"
	g.Expect(k8s.Create(ctx, inst)).To(Succeed())

	patch := client.MergeFrom(inst.DeepCopy())
	inst.Spec.Database.Name = "other"
	err := k8s.Patch(ctx, inst, patch)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.database.name is immutable"))

	get(g, ns, inst.Name, inst)
	patch = client.MergeFrom(inst.DeepCopy())
	inst.Spec.Database.Name = ""
	err = k8s.Patch(ctx, inst, patch)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.database.name is immutable"))
}

func TestDefaultsAreApplied(t *testing.T) {
	g := NewWithT(t)
	ns := newNamespace(t)
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "minimal", Namespace: ns},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: "odoo:18.0", AdminPassword: "x"},
	}
	g.Expect(k8s.Create(context.Background(), inst)).To(Succeed())
	g.Expect(*inst.Spec.Replicas).To(Equal(int32(1)))
	g.Expect(*inst.Spec.Cron.Replicas).To(Equal(int32(1)))
	g.Expect(*inst.Spec.Cron.MaxCronThreads).To(Equal(int32(1)))
	g.Expect(inst.Spec.Probes.Endpoint).To(Equal("/web/health"))
	g.Expect(inst.Spec.Filestore.StorageSize.String()).To(Equal("2Gi"))
	g.Expect(inst.Spec.DeletionPolicy).To(Equal(odoov1alpha2.DeletionPolicyRetain))
	g.Expect(*inst.Spec.AutoUpgrade.Enabled).To(BeTrue())
	g.Expect(inst.Spec.AutoUpgrade.Timeout.Duration.String()).To(Equal("30m0s"))
	g.Expect(inst.Spec.Init.Modules).To(Equal([]string{"base"}))
	g.Expect(inst.Spec.Strategy.Type).To(Equal(odoov1alpha2.StrategyRollingUpdate))
}
