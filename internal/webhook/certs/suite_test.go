package certs

import (
	"context"
	"fmt"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/odoo-operator/odoo-operator/internal/testutil/envtestutil"
)

// The envtest API server (with the operator's CRDs), shared by the tests
// that need one; the pure tests ignore it.
var (
	cfg *rest.Config
	k8s client.Client
)

// operatorNamespace holds the certificate Secrets of the tests.
const operatorNamespace = "odoo-operator"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	envtestutil.SetLogger() // TEST_LOG=1 shows the logs
	env, c, err := envtestutil.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	cfg = c
	scheme := envtestutil.BaseScheme()
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
