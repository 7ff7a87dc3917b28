package storagemigration

import (
	"fmt"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/odoo-operator/odoo-operator/internal/testutil/envtestutil"
)

// k8s is an uncached client to the envtest API server.
var k8s client.WithWatch

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	envtestutil.SetLogger() // TEST_LOG=1 shows the logs
	env, cfg, err := envtestutil.Start(envtestutil.WithLegacyVersions())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	scheme := envtestutil.BaseScheme()
	k8s, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
