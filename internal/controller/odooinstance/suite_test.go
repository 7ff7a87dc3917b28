package odooinstance_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/odoo-operator/odoo-operator/internal/manager"
	"github.com/odoo-operator/odoo-operator/internal/testutil/envtestutil"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

// k8s is a direct (uncached) client to the test API server.
var k8s client.Client

// pg is the real PostgreSQL the operator manages roles and databases on.
var pg *pgharness.Server

// operatorNamespace holds the clusters Secret in the tests that create one.
const operatorNamespace = "odoo-operator"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.Level(zapcore.Level(zapLevel()))))
	env, cfg, err := envtestutil.Start(envtestutil.WithLegacyVersions())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	pg, err = pgharness.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = pg.Close() }()

	// No clusters Secret at first: instances use the legacy connection.
	opts := manager.Options{
		MetricsAddr: "0", ProbeAddr: "0", MaxConcurrentReconciles: 4,
		DBHost: pg.Host, DBPort: int32(pg.Port), DBAdminUser: pg.AdminUser, DBAdminPasswordFile: pg.PasswordFile,
		OperatorNamespace: operatorNamespace, ClustersSecret: "postgres-clusters",
		DBHealthInterval: time.Second, DBRecheckInterval: 2 * time.Second,
		// The fake live Odoo of the restore tests listens on loopback over
		// plain http: allowed as an administrator would allow it.
		EgressAllow: []string{"127.0.0.1/32"}, EgressAllowHTTPCredentials: true,
	}
	// The manager runs with the operator's generated RBAC only.
	operatorCfg, err := envtestutil.AsOperator(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mgr, err := ctrl.NewManager(operatorCfg, manager.CtrlOptions(opts))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := manager.SetupControllers(mgr, opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	k8s, err = client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func zapLevel() int8 {
	if os.Getenv("TEST_VERBOSE") != "" {
		return -2 // V(2) and below
	}
	return int8(zapcore.ErrorLevel)
}

// newNamespace creates a namespace of its own for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "odoo-test-"}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

const (
	eventually = 20 * time.Second
	poll       = 100 * time.Millisecond
)
