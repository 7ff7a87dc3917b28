package admission

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/testutil/envtestutil"
)

// TestTenantPolicyThroughAPIServer installs the CRDs and the generated
// validating webhook configuration in a real kube-apiserver and checks that
// an OdooTenantPolicy refuses, at admission, what it does not allow, naming
// the field and the allowed values, in the namespaces it selects only.
func TestTenantPolicyThroughAPIServer(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: export KUBEBUILDER_ASSETS=$(hack/k8s-tools/build.sh | tail -1)")
	}
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(odoov1alpha2.AddToScheme(scheme)).To(Succeed())
	root := envtestutil.RepoRoot()
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		Scheme:                scheme,
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths: []string{filepath.Join(root, "config", "crd", "bases")}, ErrorIfPathMissing: true,
		},
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			Paths: []string{filepath.Join(root, "config", "webhook", "manifests.yaml")}, IgnoreSchemeConvertible: true,
		},
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
	const operatorNS = "odoo-operator"
	g.Expect((&OdooInstanceValidator{
		Reader: mgr.GetClient(), ClustersNamespace: operatorNS, ClustersSecret: "postgres-clusters", DefaultClusterAlias: "default",
	}).SetupWithManager(mgr)).To(Succeed())
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
	for _, ns := range []*corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: operatorNS}},
		{ObjectMeta: metav1.ObjectMeta{Name: "tenant-a", Labels: map[string]string{"odoo.example.com/tier": "tenant"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "internal"}},
	} {
		g.Expect(k8s.Create(ctx, ns)).To(Succeed())
	}
	// The clusters Secret: the default is the administrators' own cluster.
	g.Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: operatorNS, Name: "postgres-clusters"},
		StringData: map[string]string{postgres.ClustersKey: `
internal: {host: pg-internal, port: 5432, adminUser: postgres, adminPassword: x, default: true}
shared-1: {host: pg-1, port: 5432, adminUser: postgres, adminPassword: x}
shared-2: {host: pg-2, port: 5432, adminUser: postgres, adminPassword: x}
`},
	})).To(Succeed())
	policy := &odoov1alpha2.OdooTenantPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "tenants"},
		Spec: odoov1alpha2.OdooTenantPolicySpec{
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"odoo.example.com/tier": "tenant"}},
			DatabaseClusters:  []string{"shared-1", "shared-2"},
			Issuers:           []string{"letsencrypt"},
			IngressClasses:    []string{"nginx"},
			StorageClasses:    []string{"fast"},
			NotificationHosts: []string{}, // no notifications at all
		},
	}
	g.Expect(k8s.Create(ctx, policy)).To(Succeed())
	// The empty list survives the round trip through the API server: it
	// means "none", unlike an unset list.
	stored := &odoov1alpha2.OdooTenantPolicy{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(policy), stored)).To(Succeed())
	g.Expect(stored.Spec.NotificationHosts).NotTo(BeNil())

	newInstance := func(ns, name string, mut func(*odoov1alpha2.OdooInstanceSpec)) *odoov1alpha2.OdooInstance {
		inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		inst.Spec.Image = "odoo:18.0"
		inst.Spec.AdminPassword = "x"
		inst.Spec.Database.Cluster = "shared-1"
		mut(&inst.Spec)
		return inst
	}
	// The cache sees the policy and the Secret shortly after their creation.
	g.Eventually(func() error {
		return k8s.Create(ctx, newInstance("tenant-a", "probe", func(s *odoov1alpha2.OdooInstanceSpec) { s.Database.Cluster = "internal" }))
	}).WithTimeout(10 * time.Second).Should(MatchError(ContainSubstring("spec.database.cluster")))

	t.Run("what the policy allows is admitted", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(k8s.Create(ctx, newInstance("tenant-a", "good", func(s *odoov1alpha2.OdooInstanceSpec) {
			s.Ingress = &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com"}, Issuer: "letsencrypt", Class: "nginx"}
			s.Filestore.StorageClass = "fast"
		}))).To(Succeed())
	})

	t.Run("each refusal names the field, the allowed values and the policy", func(t *testing.T) {
		g := NewWithT(t)
		err := k8s.Create(ctx, newInstance("tenant-a", "bad", func(s *odoov1alpha2.OdooInstanceSpec) {
			s.Database.Cluster = "internal"
			s.Ingress = &odoov1alpha2.IngressSpec{Hosts: []odoov1alpha2.Hostname{"shop.example.com"}, Issuer: "internal-ca", Class: "internal-only"}
			s.Filestore.StorageClass = "local-nvme"
			s.Webhook = &odoov1alpha2.WebhookSpec{URL: "https://10.96.0.1/api"}
		}))
		g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		for _, want := range []string{
			`spec.database.cluster: Unsupported value: "internal": supported values: "shared-1", "shared-2" (OdooTenantPolicy tenants)`,
			`spec.ingress.issuer: Unsupported value: "internal-ca": supported values: "letsencrypt"`,
			`spec.ingress.class: Unsupported value: "internal-only": supported values: "nginx"`,
			`spec.filestore.storageClass: Unsupported value: "local-nvme": supported values: "fast"`,
			`spec.webhook.url: Unsupported value: "10.96.0.1": host not allowed; none allowed in this namespace (OdooTenantPolicy tenants)`,
		} {
			g.Expect(err.Error()).To(ContainSubstring(want))
		}
		g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: "tenant-a", Name: "bad"}, &odoov1alpha2.OdooInstance{}))).To(BeTrue())
	})

	t.Run("an empty cluster is checked as the default it resolves to", func(t *testing.T) {
		g := NewWithT(t)
		err := k8s.Create(ctx, newInstance("tenant-a", "default-cluster", func(s *odoov1alpha2.OdooInstanceSpec) { s.Database.Cluster = "" }))
		g.Expect(err).To(MatchError(ContainSubstring(`spec.database.cluster: Unsupported value: "internal"`)))
	})

	t.Run("namespaces the policy does not select are not restricted", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(k8s.Create(ctx, newInstance("internal", "admin", func(s *odoov1alpha2.OdooInstanceSpec) { s.Database.Cluster = "internal" }))).To(Succeed())
	})

	t.Run("a tightened policy does not block unrelated edits, only new violations", func(t *testing.T) {
		g := NewWithT(t)
		inst := newInstance("tenant-a", "grandfathered", func(s *odoov1alpha2.OdooInstanceSpec) { s.Database.Cluster = "shared-2" })
		g.Expect(k8s.Create(ctx, inst)).To(Succeed())
		tightened := &odoov1alpha2.OdooTenantPolicy{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(policy), tightened)).To(Succeed())
		tightened.Spec.DatabaseClusters = []string{"shared-1"}
		tightened.Spec.StorageClasses = []string{"fast"}
		g.Expect(k8s.Update(ctx, tightened)).To(Succeed())
		// Once the cache has the new policy, a new instance on shared-2 is refused...
		g.Eventually(func() error {
			return k8s.Create(ctx, newInstance("tenant-a", "late", func(s *odoov1alpha2.OdooInstanceSpec) { s.Database.Cluster = "shared-2" }))
		}).WithTimeout(10 * time.Second).Should(MatchError(ContainSubstring(`supported values: "shared-1"`)))
		// ...but the existing one can still be edited (labels, replicas)...
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(inst), inst)).To(Succeed())
		inst.Labels = map[string]string{"edited": "yes"}
		g.Expect(k8s.Update(ctx, inst)).To(Succeed())
		// ...while a new violation on it is refused.
		inst.Spec.Filestore.StorageClass = "local-nvme"
		g.Expect(k8s.Update(ctx, inst)).To(MatchError(ContainSubstring(`spec.filestore.storageClass: Unsupported value: "local-nvme"`)))
	})
}
