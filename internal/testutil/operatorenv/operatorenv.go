// Package operatorenv runs the operator as the controller suites test it: a
// real kube-apiserver and etcd (envtest), a real PostgreSQL (pgharness) and
// every reconciler, wired by internal/manager exactly as the binary wires
// them, under the operator's generated RBAC. Each controller package's suite
// starts its own, so its tests live beside the code they test without one
// controller package importing another.
//
// The helpers in helpers.go play what envtest does not run (the Deployment
// and Job controllers, a data Job's pod) against the one environment Start
// made.
package operatorenv

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/odoo-operator/odoo-operator/internal/manager"
	"github.com/odoo-operator/odoo-operator/internal/testutil/envtestutil"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

// OperatorNamespace holds the clusters Secret in the tests that create one.
const OperatorNamespace = "odoo-operator"

// How long the helpers and tests wait for the operator, and how often they look.
const (
	Eventually = 20 * time.Second
	Poll       = 100 * time.Millisecond
)

// Env is a running environment: K8s is a direct (uncached) client with
// administrator rights, PG the PostgreSQL the operator manages roles and
// databases on.
type Env struct {
	K8s client.Client
	PG  *pgharness.Server
}

// The environment Start made, for the helpers.
var (
	k8s client.Client
	pg  *pgharness.Server
	// adminCfg reaches the API server with administrator rights.
	adminCfg *rest.Config
)

// InstallGatewayAPI installs the Gateway API CRDs into the running
// environment, which starts without them (the operator's Gateway API support
// is optional).
func InstallGatewayAPI(ctx context.Context) error {
	return envtestutil.InstallGatewayAPI(ctx, adminCfg)
}

// Start starts envtest, PostgreSQL and the manager with every reconciler,
// and creates the operator's namespace. Instances use the legacy connection
// (no clusters Secret at first). Stop ends it all; call it when the suite is
// done. Only one environment runs per test process.
func Start() (_ *Env, stop func(), err error) {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.Level(zapcore.Level(zapLevel()))))
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	// The legacy versions are served, as on a cluster migrating from the
	// reference operator: the suites also drive v1/v1alpha1 objects.
	env, cfg, err := envtestutil.Start(envtestutil.WithLegacyVersions())
	if err != nil {
		return nil, nil, err
	}
	stops = append(stops, func() { _ = env.Stop() })
	adminCfg = cfg

	pg, err = pgharness.StartMain()
	if err != nil {
		return nil, nil, err
	}
	stops = append(stops, func() { _ = pg.Close() })

	opts := manager.Options{
		MetricsAddr: "0", ProbeAddr: "0", MaxConcurrentReconciles: 4,
		DBHost: pg.Host, DBPort: int32(pg.Port), DBAdminUser: pg.AdminUser, DBAdminPasswordFile: pg.PasswordFile, //nolint:gosec // a TCP port fits int32
		OperatorNamespace: OperatorNamespace, ClustersSecret: "postgres-clusters",
		DBHealthInterval: time.Second, DBRecheckInterval: 2 * time.Second,
		// status.modules is read again within seconds, not ten minutes,
		// also after a read that found no module table (held back as long).
		ModulesInterval: 2 * time.Second,
		// The fake live Odoo of the restore tests listens on loopback over
		// plain http: allowed as an administrator would allow it.
		EgressAllow: []string{"127.0.0.1/32"}, EgressAllowHTTPCredentials: true,
	}
	// The manager runs with the operator's generated RBAC only.
	operatorCfg, err := envtestutil.AsOperator(context.Background(), cfg)
	if err != nil {
		return nil, nil, err
	}
	mgr, err := ctrl.NewManager(operatorCfg, manager.CtrlOptions(opts))
	if err != nil {
		return nil, nil, err
	}
	if err := manager.SetupControllers(mgr, opts); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	stops = append(stops, cancel)

	k8s, err = client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		return nil, nil, err
	}
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: OperatorNamespace}}); err != nil {
		return nil, nil, err
	}
	return &Env{K8s: k8s, PG: pg}, stop, nil
}

func zapLevel() int8 {
	if os.Getenv("TEST_VERBOSE") != "" {
		return -2 // V(2) and below
	}
	return int8(zapcore.ErrorLevel)
}
