package stagingrefresh_test

import (
	"fmt"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/odoo-operator/odoo-operator/internal/testutil/operatorenv"
)

// k8s is a direct (uncached) client to the test API server.
var k8s client.Client

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run starts the operator as internal/manager wires it (every reconciler:
// a refresh composes the backup, restore and instance controllers), on
// envtest and a real PostgreSQL.
func run(m *testing.M) int {
	env, stop, err := operatorenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	k8s = env.K8s
	return m.Run()
}

const (
	eventually = operatorenv.Eventually
	poll       = operatorenv.Poll
)
