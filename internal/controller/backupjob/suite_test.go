package backupjob_test

import (
	"fmt"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/odoo-operator/odoo-operator/internal/testutil/operatorenv"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

// k8s is a direct (uncached) client to the test API server.
var k8s client.Client

// pg is the real PostgreSQL the operator manages roles and databases on.
var pg *pgharness.Server

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run starts the operator as internal/manager wires it (every reconciler:
// the tests here need the instance's too), on envtest and a real
// PostgreSQL, and runs the tests against it.
func run(m *testing.M) int {
	env, stop, err := operatorenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	k8s, pg = env.K8s, env.PG
	return m.Run()
}

// The shared environment's names, as this suite's tests call them.
const (
	eventually = operatorenv.Eventually
	poll       = operatorenv.Poll
)

// The shared environment's helpers, as this suite's tests call them.
var (
	newNamespace               = operatorenv.NewNamespace
	get                        = operatorenv.Get
	backupJob                  = operatorenv.BackupJob
	upgradeInstance            = operatorenv.UpgradeInstance
	moduleSQL                  = operatorenv.ModuleSQL
	jobsOfKind                 = operatorenv.JobsOfKind
	oneJob                     = operatorenv.OneJob
	createBackupsClaim         = operatorenv.CreateBackupsClaim
	playDataJobsOnTestPostgres = operatorenv.PlayDataJobsOnTestPostgres
	playDataJob                = operatorenv.PlayDataJob
	createFinishedBackup       = operatorenv.CreateFinishedBackup
	backupGone                 = operatorenv.BackupGone
	eventReasons               = operatorenv.EventReasons
)
