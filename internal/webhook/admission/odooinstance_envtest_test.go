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
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/testutil/envtestutil"
)

// TestOdooInstanceSpecRefusedAtAdmission sends, through a real
// kube-apiserver with the generated CRD and validating webhook, each piece
// of configuration Odoo or Kubernetes would reject later (or silently
// ignore), and checks it is refused with the field path named; the same
// instance with sound values is admitted, so every refusal is the value's.
func TestOdooInstanceSpecRefusedAtAdmission(t *testing.T) {
	g := NewWithT(t)
	k8s, ctx := startAdmissionEnv(t)
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}})).To(Succeed())

	n := 0
	newInstance := func(mut func(*odoov1alpha2.OdooInstanceSpec)) *odoov1alpha2.OdooInstance {
		n++
		inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "i" + strconv.Itoa(n)}}
		inst.Spec.Image = "odoo:18.0"
		inst.Spec.AdminPassword = "x"
		mut(&inst.Spec)
		return inst
	}
	dur := func(s string) *metav1.Duration {
		d, err := time.ParseDuration(s)
		g.Expect(err).NotTo(HaveOccurred())
		return &metav1.Duration{Duration: d}
	}
	one := intstr.FromInt32(1)

	t.Run("sound values are admitted", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(k8s.Create(ctx, newInstance(func(s *odoov1alpha2.OdooInstanceSpec) {
			s.ConfigOptions = map[string]odoov1alpha2.ConfigValue{
				"limit_time_real": "600", "proxy_mode": "True", "max_cron_threads": "2", "limit_time_real_cron": "-1",
				"db_maxconn_gevent": "False", "transient_age_limit": "0.5", "log_level": "warn", "dbfilter": "^shop$",
			}
			s.Strategy = odoov1alpha2.StrategySpec{Type: odoov1alpha2.StrategyRollingUpdate, RollingUpdate: &odoov1alpha2.RollingUpdateSpec{MaxSurge: &one}}
			s.ImagePullSecret = "registry-credentials"
			s.Rollback.StabilizationPeriod = dur("0s")
			s.AutoUpgrade.Timeout = dur("45m")
			s.ExtraEnv = []corev1.EnvVar{{Name: "TZ", Value: "UTC"}}
		}))).To(Succeed())
	})

	tests := []struct {
		name string
		mut  func(*odoov1alpha2.OdooInstanceSpec)
		want []string
	}{
		{name: "configOptions of the wrong type", mut: func(s *odoov1alpha2.OdooInstanceSpec) {
			s.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"limit_time_real": "abc", "proxy_mode": "maybe", "max_cron_threads": "-2", "log_level": "loud"}
		}, want: []string{
			`spec.configOptions[limit_time_real]: Invalid value: "abc": must be a whole number (seconds)`,
			`spec.configOptions[proxy_mode]: Invalid value: "maybe": must be True or False`,
			`spec.configOptions[max_cron_threads]: Invalid value: "-2": must be at least 0`,
			`spec.configOptions[log_level]: Invalid value: "loud": must be one of`,
		}},
		{name: "Recreate with rollingUpdate", mut: func(s *odoov1alpha2.OdooInstanceSpec) {
			s.Strategy = odoov1alpha2.StrategySpec{Type: odoov1alpha2.StrategyRecreate, RollingUpdate: &odoov1alpha2.RollingUpdateSpec{MaxSurge: &one}}
		}, want: []string{`spec.strategy.rollingUpdate: Invalid value: rollingUpdate applies only to type RollingUpdate`}},
		{name: "malformed imagePullSecret", mut: func(s *odoov1alpha2.OdooInstanceSpec) { s.ImagePullSecret = "Registry Creds!" },
			want: []string{`spec.imagePullSecret: Invalid value: "Registry Creds!": must be the name of a Secret`}},
		{name: "negative stabilizationPeriod", mut: func(s *odoov1alpha2.OdooInstanceSpec) { s.Rollback.StabilizationPeriod = dur("-5m") },
			want: []string{`spec.rollback.stabilizationPeriod: Invalid value: "-5m0s": must not be negative`}},
		{name: "zero autoUpgrade.timeout", mut: func(s *odoov1alpha2.OdooInstanceSpec) { s.AutoUpgrade.Timeout = dur("0s") },
			want: []string{`spec.autoUpgrade.timeout: Invalid value: "0s": must be a positive duration`}},
		{name: "extraEnv names the operator sets", mut: func(s *odoov1alpha2.OdooInstanceSpec) {
			s.ExtraEnv = []corev1.EnvVar{{Name: "TZ", Value: "UTC"}, {Name: "PGHOST", Value: "evil.example.com"}}
		}, want: []string{`spec.extraEnv: Invalid value: names ODOO_RC, WORKERS`}},
		{name: "productionInstanceRef in another namespace", mut: func(s *odoov1alpha2.OdooInstanceSpec) {
			s.Environment = odoov1alpha2.EnvironmentStaging
			s.ProductionInstanceRef = &odoov1alpha2.ProductionInstanceRef{Name: "shop", Namespace: "victim"}
		}, want: []string{`spec.productionInstanceRef.namespace: Forbidden: a staging instance is copied only from a production instance of its own namespace`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := newInstance(tt.mut)
			err := k8s.Create(ctx, inst)
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
			for _, want := range tt.want {
				g.Expect(err.Error()).To(ContainSubstring(want))
			}
			g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(inst), &odoov1alpha2.OdooInstance{}))).To(BeTrue())
		})
	}

	t.Run("an update is checked too, only on the keys it changes", func(t *testing.T) {
		g := NewWithT(t)
		inst := newInstance(func(s *odoov1alpha2.OdooInstanceSpec) {
			s.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"limit_time_real": "600"}
		})
		g.Expect(k8s.Create(ctx, inst)).To(Succeed())
		inst.Spec.ConfigOptions["limit_time_cpu"] = "1.5"
		g.Expect(k8s.Update(ctx, inst)).To(MatchError(ContainSubstring(`spec.configOptions[limit_time_cpu]: Invalid value: "1.5"`)))
	})
}

// startAdmissionEnv starts a kube-apiserver with the CRDs and the validating
// webhook served by OdooInstanceValidator (no clusters Secret: the legacy
// connection), and returns a client.
func startAdmissionEnv(t *testing.T) (client.Client, context.Context) {
	t.Helper()
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
	g.Expect((&OdooInstanceValidator{
		Reader: mgr.GetClient(), ClustersNamespace: "odoo-operator", ClustersSecret: "postgres-clusters", DefaultClusterAlias: "default",
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
	return k8s, ctx
}
