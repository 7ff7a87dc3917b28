//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestNoCredentialLeaks runs an instance through a backup and an upgrade,
// then looks for every password the test knows (the instance's database
// password, its master password, the cluster admin's password) in every
// place a credential must never be: ConfigMaps, Events, the status of every
// OdooInstance, OdooBackupJob and OdooRestoreJob, every Job and pod spec
// (command, args, literal env), the operator's log, the Job player's logs,
// the sandbox PostgreSQL's server log with every statement logged (role
// passwords appear there only as SCRAM verifiers), and the command line of
// every process on the machine.
func TestNoCredentialLeaks(t *testing.T) {
	ns := framework.Namespace(t, "e2e-credentials")
	master := "master-" + randomSuffix()
	framework.Kubectl(t, "create", "secret", "generic", "shop-master", "-n", ns, "--from-literal=password="+master)
	framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: shop
spec:
  image: %s
  adminPasswordSecretRef: {name: shop-master, key: password}
  replicas: 1
  workers: 2
`, simImage))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=2m")
	db := jsonpath(t, ns, odooRef("shop"), "{.status.database.name}")
	framework.ModuleFixture(t, db)

	backupToClaim(t, ns, "leaks", "shop/leaks.zip")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", "odoobackupjobs.v1alpha2.bemade.org/leaks", "--timeout=2m")
	const next = "odoo-sim:18.0-next"
	setImage(t, ns, "shop", next)
	waitUpgrade(t, framework.NewClients(t), ns, "shop", odoov1alpha2.UpgradeSuccess, attempted(next))

	admin, err := url.Parse(framework.SandboxPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	adminPassword, _ := admin.User.Password()
	secrets := map[string]string{
		"the instance's database password": tenantPassword(t, ns),
		"the master password":              master,
		"the cluster admin's password":     adminPassword,
	}
	for what, v := range secrets {
		if len(v) < 8 {
			t.Fatalf("%s is %d characters: too short to search for", what, len(v))
		}
	}
	scan := func(where, text string) {
		t.Helper()
		for what, v := range secrets {
			if strings.Contains(text, v) {
				t.Errorf("%s appears in %s", what, where)
			}
		}
	}

	// The cluster's objects.
	for _, kind := range []string{"configmaps", "events", "jobs", "pods"} {
		scan("kubectl get "+kind+" -A", framework.Kubectl(t, "get", kind, "-A", "-o", "json"))
	}
	for _, kind := range []string{"odooinstances", "odoobackupjobs", "odoorestorejobs"} {
		var list struct {
			Items []struct {
				Metadata struct{ Namespace, Name string }
				Status   json.RawMessage
			}
		}
		if err := json.Unmarshal([]byte(framework.Kubectl(t, "get", kind+".v1alpha2.bemade.org", "-A", "-o", "json")), &list); err != nil {
			t.Fatal(err)
		}
		for _, it := range list.Items {
			scan(fmt.Sprintf("the status of %s %s/%s", kind, it.Metadata.Namespace, it.Metadata.Name), string(it.Status))
		}
	}

	// Logs.
	state := os.Getenv("SANDBOX_STATE")
	logs := []string{filepath.Join(state, "logs", "operator.log"), filepath.Join(state, "logs", "sandbox-jobplayer.log")}
	jobLogs, _ := filepath.Glob(filepath.Join(state, "logs", "jobs", "*.log"))
	if len(jobLogs) == 0 {
		t.Error("no Job player run log found: the data Jobs did not run for real")
	}
	logs = append(logs, jobLogs...)
	pgLog := filepath.Join(state, "postgres", "postgres.log")
	logs = append(logs, pgLog)
	for _, f := range logs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("reading %s: %v", f, err)
			continue
		}
		scan(f, string(b))
	}
	// The server log holds the statements (log_statement=all), and the
	// instance's role got its password as a SCRAM verifier.
	b, _ := os.ReadFile(pgLog)
	role := regexp.QuoteMeta(`"odoo.` + ns + `.shop"`)
	if !regexp.MustCompile(`statement: CREATE ROLE ` + role + ` WITH .* PASSWORD 'SCRAM-SHA-256\$4096:`).Match(b) {
		t.Errorf("%s has no CREATE ROLE statement for the instance's role with a SCRAM verifier: is log_statement=all on?", pgLog)
	}

	// Process command lines, the operator's and the Job player's included.
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	seen := 0
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err != nil || len(b) == 0 {
			continue
		}
		seen++
		scan("the command line of process "+filepath.Base(filepath.Dir(f))+" ("+strings.SplitN(string(b), "\x00", 2)[0]+")", string(b))
	}
	for _, c := range []string{"operator", "sandbox-jobplayer"} {
		pid, err := os.ReadFile(filepath.Join(state, "pids", c+".pid"))
		if err != nil {
			t.Errorf("%s pid: %v", c, err)
			continue
		}
		if _, err := os.Stat(filepath.Join("/proc", strings.Fields(string(pid))[0], "cmdline")); err != nil {
			t.Errorf("the %s process is not running: its command line was not scanned", c)
		}
	}
	t.Logf("scanned %d process command lines and %d log files for %d passwords", seen, len(logs), len(secrets))
}
