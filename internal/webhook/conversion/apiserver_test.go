package conversion

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	odoov1 "github.com/odoo-operator/odoo-operator/api/v1"
	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/testutil/envtestutil"
)

// TestConversionThroughAPIServer installs the generated CRDs in a real
// kube-apiserver with their conversion pointed at this webhook, and checks
// the API server's side of the contract: defaulting on writes through a spoke,
// storage in v1alpha2, reads in every version, status and scale subresources.
func TestConversionThroughAPIServer(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run the tests with `make test-unit`, or export KUBEBUILDER_ASSETS=$(hack/k8s-tools/build.sh | tail -1)")
	}
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(corev1.AddToScheme(scheme)).To(Succeed())
	g.Expect(autoscalingv1.AddToScheme(scheme)).To(Succeed())
	g.Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
	g.Expect(odoov1alpha2.AddToScheme(scheme)).To(Succeed())
	g.Expect(odoov1alpha1.AddToScheme(scheme)).To(Succeed())
	g.Expect(odoov1.AddToScheme(scheme)).To(Succeed())

	// The legacy versions are served, as on a cluster migrating from the
	// reference operator (the generated CRDs leave them unserved).
	crds, err := envtestutil.LoadCRDs()
	g.Expect(err).NotTo(HaveOccurred())
	for _, crd := range crds {
		envtestutil.ServeLegacyVersions(crd)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		Scheme:                scheme,
		CRDInstallOptions: envtest.CRDInstallOptions{
			CRDs: crds,
		},
		// Point spec.conversion of the installed CRDs at the local webhook server
		// (the operator sets it at runtime in a real installation).
		WebhookInstallOptions: envtest.WebhookInstallOptions{IgnoreSchemeConvertible: true},
	}
	cfg, err := env.Start()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })

	wh := &env.WebhookInstallOptions
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		WebhookServer: webhook.NewServer(webhook.Options{
			Host: wh.LocalServingHost, Port: wh.LocalServingPort, CertDir: wh.LocalServingCertDir,
		}),
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(SetupWebhookWithManager(mgr, Options{DefaultCluster: "main"})).To(Succeed())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = mgr.Start(ctx) }()
	addr := net.JoinHostPort(wh.LocalServingHost, strconv.Itoa(wh.LocalServingPort))
	g.Eventually(func() error {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			_ = conn.Close()
		}
		return err
	}).WithTimeout(20 * time.Second).Should(Succeed())

	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	const ns = "default"
	for _, name := range []string{instancesCRD, "odooinitjobs.bemade.org", "odooupgradejobs.bemade.org", "odoobackupjobs.bemade.org", "odoorestorejobs.bemade.org"} {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, crd)).To(Succeed())
		g.Expect(crd.Spec.Conversion.Strategy).To(Equal(apiextensionsv1.WebhookConverter), name)
	}

	t.Run("legacy example written as v1 reads back as written", func(t *testing.T) {
		g := NewWithT(t)
		example := readExample(t)
		example.Namespace = ns
		g.Expect(k8s.Create(ctx, example)).To(Succeed())
		key := client.ObjectKeyFromObject(example)

		hub := &odoov1alpha2.OdooInstance{}
		g.Expect(k8s.Get(ctx, key, hub)).To(Succeed())
		g.Expect(hub.Spec.Database.Cluster).To(Equal("main"))
		g.Expect(hub.Spec.Filestore.StorageClass).To(Equal("cephfs"))
		g.Expect(hub.Spec.Probes.Endpoint).To(Equal("/web/health"))
		g.Expect(hub.Spec.Strategy.Type).To(Equal(odoov1alpha2.StrategyRecreate))
		g.Expect(hub.Spec.Replicas).To(HaveValue(BeEquivalentTo(1)))
		g.Expect(hub.Spec.AutoUpgrade.Enabled).To(HaveValue(BeTrue()))

		for _, back := range []client.Object{&odoov1.OdooInstance{}, &odoov1alpha1.OdooInstance{}} {
			g.Expect(k8s.Get(ctx, key, back)).To(Succeed())
			g.Expect(back.GetAnnotations()).NotTo(HaveKey(DataAnnotation))
			var spec odoov1.OdooInstanceSpec
			switch b := back.(type) {
			case *odoov1.OdooInstance:
				spec = b.Spec
			case *odoov1alpha1.OdooInstance:
				g.Expect(recode(b.Spec, &spec)).To(Succeed())
			}
			want := example.Spec.DeepCopy()
			want.Replicas = ptr.To[int32](1) // the v1 schema default
			g.Expect(spec).To(Equal(*want), "%T", back)
		}
	})

	t.Run("hub fields survive an edit through v1alpha1", func(t *testing.T) {
		g := NewWithT(t)
		hub := &odoov1alpha2.OdooInstance{
			ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
			Spec: odoov1alpha2.OdooInstanceSpec{
				Image:         "odoo:18.0",
				AdminPassword: "x",
				Workers:       ptr.To(intstr.FromInt32(4)),
				Resources:     &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("4Gi")}},
				Ingress:       &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com"}},
				AutoUpgrade:   odoov1alpha2.AutoUpgradeSpec{Enabled: ptr.To(false)},
			},
		}
		g.Expect(k8s.Create(ctx, hub)).To(Succeed())
		key := client.ObjectKeyFromObject(hub)
		g.Expect(k8s.Get(ctx, key, hub)).To(Succeed())

		// kubectl edit through v1alpha1: only replicas changes.
		spoke := &odoov1alpha1.OdooInstance{}
		g.Expect(k8s.Get(ctx, key, spoke)).To(Succeed())
		g.Expect(spoke.Annotations).To(HaveKey(DataAnnotation))
		spoke.Spec.Replicas = ptr.To[int32](3)
		g.Expect(k8s.Update(ctx, spoke)).To(Succeed())

		after := &odoov1alpha2.OdooInstance{}
		g.Expect(k8s.Get(ctx, key, after)).To(Succeed())
		want := hub.DeepCopy()
		want.Spec.Replicas = ptr.To[int32](3)
		expectSemanticEqual(g, after.Spec, want.Spec)
		g.Expect(after.Annotations).NotTo(HaveKey(DataAnnotation))

		// Status written through the hub reads through v1 and v1alpha1; scale
		// works through v1alpha1 as it did with the reference operator.
		after.Status.Phase = odoov1alpha2.PhaseRunning
		after.Status.ReadyReplicas = 3
		after.Status.Selector = "app=shop"
		g.Expect(k8s.Status().Update(ctx, after)).To(Succeed())
		v1 := &odoov1.OdooInstance{}
		g.Expect(k8s.Get(ctx, key, v1)).To(Succeed())
		g.Expect(v1.Status.Phase).To(Equal(odoov1.PhaseRunning))
		scale := &autoscalingv1.Scale{}
		g.Expect(k8s.SubResource("scale").Get(ctx, &odoov1alpha1.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace}}, scale)).To(Succeed())
		g.Expect(scale.Spec.Replicas).To(BeEquivalentTo(3))
		g.Expect(scale.Status.Replicas).To(BeEquivalentTo(3))
	})

	t.Run("the database name stays immutable through the spokes", func(t *testing.T) {
		g := NewWithT(t)
		hub := &odoov1alpha2.OdooInstance{
			ObjectMeta: metav1.ObjectMeta{Name: "named", Namespace: ns},
			Spec: odoov1alpha2.OdooInstanceSpec{
				Image: "odoo:18.0", AdminPassword: "x", Database: odoov1alpha2.DatabaseSpec{Name: "named_db"},
			},
		}
		g.Expect(k8s.Create(ctx, hub)).To(Succeed())
		spoke := &odoov1.OdooInstance{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(hub), spoke)).To(Succeed())
		spoke.Spec.Database.Name = "other_db"
		g.Expect(apierrors.IsInvalid(k8s.Update(ctx, spoke))).To(BeTrue())
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(hub), spoke)).To(Succeed())
		spoke.Spec.Database = nil
		g.Expect(apierrors.IsInvalid(k8s.Update(ctx, spoke))).To(BeTrue())
	})

	t.Run("a legacy patch through v1 keeps legacy-only fields", func(t *testing.T) {
		g := NewWithT(t)
		patch := []byte(`{"spec":{"sync":{"enabled":true,"time":"2025-06-16T10:00:00Z"},"probes":{"startupPath":"/web/login"}}}`)
		obj := &odoov1.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "my-odoo", Namespace: ns}}
		g.Expect(k8s.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
		g.Expect(obj.Spec.Sync).To(Equal(&odoov1.SyncSpec{Enabled: ptr.To(true), Time: "2025-06-16T10:00:00Z"}))
		// The v1 defaults filled the other two paths of the new probes object.
		g.Expect(obj.Spec.Probes).To(Equal(&odoov1.ProbesSpec{StartupPath: "/web/login", LivenessPath: "/web/health", ReadinessPath: "/web/health"}))

		hub := &odoov1alpha2.OdooInstance{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), hub)).To(Succeed())
		g.Expect(hub.Annotations).To(HaveKey(DataAnnotation))
		alpha := &odoov1alpha1.OdooInstance{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), alpha)).To(Succeed())
		g.Expect(alpha.Spec.Sync).To(Equal(&odoov1alpha1.SyncSpec{Enabled: ptr.To(true), Time: "2025-06-16T10:00:00Z"}))
		g.Expect(alpha.Spec.Probes.StartupPath).To(Equal("/web/login"))

		list := &odoov1.OdooInstanceList{}
		g.Expect(k8s.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		g.Expect(list.Items).To(HaveLen(3))
	})
	t.Run("OdooInitJob reads in both versions", func(t *testing.T) {
		g := NewWithT(t)
		job := &odoov1alpha1.OdooInitJob{
			ObjectMeta: metav1.ObjectMeta{Name: "init", Namespace: ns},
			Spec: odoov1alpha1.OdooInitJobSpec{
				OdooInstanceRef: odoov1alpha1.OdooInstanceRef{Name: "shop"}, Modules: []string{"base", "sale"},
				Webhook: &odoov1alpha1.JobWebhook{URL: "https://hooks.example.com/init"},
			},
		}
		g.Expect(k8s.Create(ctx, job)).To(Succeed())
		hub := &odoov1alpha2.OdooInitJob{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(job), hub)).To(Succeed())
		g.Expect(hub.Spec.Modules).To(Equal([]string{"base", "sale"}))
		g.Expect(hub.Spec.Webhook.URL).To(Equal("https://hooks.example.com/init"))
		back := &odoov1alpha1.OdooInitJob{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(job), back)).To(Succeed())
		g.Expect(back.Spec).To(Equal(job.Spec))
	})
	t.Run("OdooUpgradeJob reads in both versions", func(t *testing.T) {
		g := NewWithT(t)
		when := metav1.NewTime(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
		job := &odoov1alpha1.OdooUpgradeJob{
			ObjectMeta: metav1.ObjectMeta{Name: "upgrade", Namespace: ns},
			Spec: odoov1alpha1.OdooUpgradeJobSpec{
				OdooInstanceRef: odoov1alpha1.OdooInstanceRef{Name: "shop"}, Modules: []string{"sale"}, ModulesInstall: []string{"crm"},
				ScheduledTime: &when, Webhook: &odoov1alpha1.JobWebhook{URL: "https://hooks.example.com/upgrade"},
			},
		}
		g.Expect(k8s.Create(ctx, job)).To(Succeed())
		job.Status.Phase, job.Status.OriginalReplicas = odoov1alpha1.JobPending, ptr.To[int32](3)
		g.Expect(k8s.Status().Update(ctx, job)).To(Succeed())
		hub := &odoov1alpha2.OdooUpgradeJob{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(job), hub)).To(Succeed())
		g.Expect(hub.Spec.Modules).To(Equal([]string{"sale"}))
		g.Expect(hub.Spec.ModulesInstall).To(Equal([]string{"crm"}))
		g.Expect(hub.Spec.ScheduledTime.Equal(&when)).To(BeTrue())
		g.Expect(hub.Status.Phase).To(Equal(odoov1alpha2.JobPending))
		g.Expect(hub.Status.OriginalReplicas).To(HaveValue(BeEquivalentTo(3)))
		back := &odoov1alpha1.OdooUpgradeJob{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(job), back)).To(Succeed())
		g.Expect(back.Spec).To(Equal(job.Spec))
		g.Expect(back.Status).To(Equal(job.Status))
	})
	t.Run("OdooBackupJob: a legacy object reads in both versions; bad destinations are refused by name", func(t *testing.T) {
		g := NewWithT(t)
		job := &odoov1alpha1.OdooBackupJob{
			ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: ns},
			Spec: odoov1alpha1.OdooBackupJobSpec{
				OdooInstanceRef: odoov1alpha1.OdooInstanceRef{Name: "shop"},
				Destination: odoov1alpha1.BackupDestination{S3Location: odoov1alpha1.S3Location{
					Bucket: "backups", ObjectKey: "shop/nightly.zip", Endpoint: "https://s3.example.com",
					S3CredentialsSecretRef: &odoov1alpha1.S3CredentialsSecretRef{Name: "s3"},
				}},
			},
		}
		g.Expect(k8s.Create(ctx, job)).To(Succeed())
		hub := &odoov1alpha2.OdooBackupJob{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(job), hub)).To(Succeed())
		g.Expect(hub.Spec.Format).To(Equal(odoov1alpha2.BackupFormatZip), "legacy default")
		g.Expect(hub.Spec.WithFilestore).To(HaveValue(BeTrue()), "legacy default")
		g.Expect(hub.Spec.Destination.Bucket).To(Equal("backups"))

		bad := &odoov1alpha2.OdooBackupJob{
			ObjectMeta: metav1.ObjectMeta{Name: "half", Namespace: ns},
			Spec: odoov1alpha2.OdooBackupJobSpec{
				OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "shop"},
				Destination:     odoov1alpha2.BackupDestination{S3Location: odoov1alpha2.S3Location{Bucket: "backups"}},
			},
		}
		err := k8s.Create(ctx, bad)
		g.Expect(err).To(MatchError(ContainSubstring("destination: set bucket, objectKey, endpoint and s3CredentialsSecretRef for S3, or pvc")))
		bad.Spec.Destination.PVC = &odoov1alpha2.PVCLocation{ClaimName: "backups", Path: "shop/../x.zip"}
		g.Expect(k8s.Create(ctx, bad)).To(MatchError(ContainSubstring("not both")))
		bad.Spec.Destination.S3Location = odoov1alpha2.S3Location{}
		g.Expect(k8s.Create(ctx, bad)).To(MatchError(ContainSubstring("pvc.path must not contain '.' or '..' segments")))
		bad.Spec.Destination.PVC.Path = "shop/x.zip"
		g.Expect(k8s.Create(ctx, bad)).To(Succeed())
	})
	t.Run("OdooRestoreJob: the source of its type is required", func(t *testing.T) {
		g := NewWithT(t)
		job := &odoov1alpha1.OdooRestoreJob{
			ObjectMeta: metav1.ObjectMeta{Name: "restore", Namespace: ns},
			Spec: odoov1alpha1.OdooRestoreJobSpec{
				OdooInstanceRef: odoov1alpha1.OdooInstanceRef{Name: "shop"},
				Source:          odoov1alpha1.RestoreSource{Type: odoov1alpha1.RestoreSourceS3},
			},
		}
		g.Expect(k8s.Create(ctx, job)).To(MatchError(ContainSubstring("source.s3 is required when source.type is s3")))
		job.Spec.Source.S3 = &odoov1alpha1.S3Location{Bucket: "b", ObjectKey: "k.zip", Endpoint: "s3.example.com"}
		g.Expect(k8s.Create(ctx, job)).To(Succeed())
		hub := &odoov1alpha2.OdooRestoreJob{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(job), hub)).To(Succeed())
		g.Expect(hub.Spec.Neutralize).To(BeNil(), "no default: the reconcile decides from the instance's environment")
		g.Expect(hub.Spec.KeepPreviousDatabase).To(HaveValue(BeTrue()), "a database is never dropped by default")
		g.Expect(hub.Spec.Source.S3.ObjectKey).To(Equal("k.zip"))
	})
}
