//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

func pgValue(t *testing.T, sql string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, framework.SandboxPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var out string
	if err := conn.QueryRow(ctx, sql, args...).Scan(&out); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	return out
}

// TestInstanceInitializesBeforeOdooStarts: role, database and init Job, and
// no web or cron pod before the Job succeeded.
func TestInstanceInitializesBeforeOdooStarts(t *testing.T) {
	ns := framework.Namespace(t, "e2e-init")
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")

	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	if got := jsonpath(t, ns, "odoo/shop", "{.status.database.cluster}"); got != "sandbox" {
		t.Errorf("status.database.cluster = %q, want sandbox (the clusters Secret's default)", got)
	}
	if owner := pgValue(t, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", db); owner != "odoo."+ns+".shop" {
		t.Errorf("database %q owner = %q", db, owner)
	}
	job := strings.TrimSpace(framework.Kubectl(t, "get", "jobs", "-n", ns, "-l", "bemade.org/job=init", "-o", "jsonpath={.items[0].metadata.name}"))
	done := jsonpath(t, ns, "job/"+job, "{.status.completionTime}")
	args := jsonpath(t, ns, "job/"+job, "{.spec.template.spec.containers[0].args}")
	if !strings.Contains(args, `"-i","base"`) || !strings.Contains(args, `"-d","`+db+`"`) {
		t.Errorf("init Job args = %s", args)
	}
	completed, err := time.Parse(time.RFC3339, done)
	if err != nil {
		t.Fatalf("init Job completionTime %q: %v", done, err)
	}
	pods := framework.Kubectl(t, "get", "pods", "-n", ns, "-l", "app.kubernetes.io/instance=shop,app.kubernetes.io/component in (web,cron)",
		"-o", `jsonpath={range .items[*]}{.metadata.name}={.metadata.creationTimestamp}{"\n"}{end}`)
	if strings.Count(pods, "\n") < 2 {
		t.Fatalf("expected web and cron pods, got:\n%s", pods)
	}
	for _, line := range strings.Split(strings.TrimSpace(pods), "\n") {
		name, created, _ := strings.Cut(line, "=")
		c, err := time.Parse(time.RFC3339, created)
		if err != nil {
			t.Fatal(err)
		}
		if c.Before(completed) {
			t.Errorf("pod %s was created at %s, before the init Job completed at %s", name, created, done)
		}
	}
}

// TestBrokenInitLeavesInstanceDegraded: the init Job of a -broken image fails
// (KWOK exits it with 255); the instance says why and keeps the database.
func TestBrokenInitLeavesInstanceDegraded(t *testing.T) {
	ns := framework.Namespace(t, "e2e-broken-init")
	framework.Apply(t, ns, strings.Replace(instanceManifest("broken"), "image: odoo-sim:18.0", "image: odoo-sim:18.0-broken", 1))
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Degraded", "odoo/broken", "--timeout=2m")
	msg := jsonpath(t, ns, "odoo/broken", `{.status.conditions[?(@.type=="Degraded")].message}`)
	for _, want := range []string{"initialising database", "exited with code 255", "kept for inspection"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Degraded message lacks %q: %s", want, msg)
		}
	}
	if reason := jsonpath(t, ns, "odoo/broken", `{.status.conditions[?(@.type=="Degraded")].reason}`); reason != "InitFailed" {
		t.Errorf("Degraded reason = %q, want InitFailed", reason)
	}
	db := jsonpath(t, ns, "odoo/broken", "{.status.database.name}")
	if got := pgValue(t, "SELECT datname FROM pg_database WHERE datname = $1", db); got != db {
		t.Errorf("database %q was not kept for inspection", db)
	}
	if got := jsonpath(t, ns, "deploy/broken", "{.spec.replicas}"); got != "0" {
		t.Errorf("web replicas = %s, want 0 while the database is not initialised", got)
	}
}

// TestPostgresOutage stops PostgreSQL for 30 s: instances go Degraded, then
// return to Ready by themselves. An image changed during the outage is not
// failed for it: the upgrade (its module snapshot and preflight first) waits
// for the database, starts no Job, and succeeds once PostgreSQL is back.
func TestPostgresOutage(t *testing.T) {
	ns := framework.Namespace(t, "e2e-outage")
	c := framework.NewClients(t)
	framework.Apply(t, ns, instanceManifest("outage-a")+"---\n"+instanceManifest("outage-b"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo", "--all", "--timeout=2m")
	framework.ModuleFixture(t, jsonpath(t, ns, "odoo/outage-b", "{.status.database.name}"))

	stopped := time.Now()
	framework.SandboxPostgresCtl(t, "stop")
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			framework.SandboxPostgresCtl(t, "up")
		}
	})
	for _, name := range []string{"outage-a", "outage-b"} {
		framework.Eventually(t, 30*time.Second, name+" Degraded", func() error {
			if r := jsonpath(t, ns, "odoo/"+name, `{.status.conditions[?(@.type=="Degraded")].reason}`); r != "DatabaseUnreachable" {
				return fmt.Errorf("Degraded reason %q", r)
			}
			return nil
		})
	}
	setImage(t, ns, "outage-b", toImage)
	time.Sleep(time.Until(stopped.Add(30 * time.Second)))
	// The upgrade waits for the database (it may not have begun at all:
	// nothing starts while the database is unreachable); it never fails.
	if st := getInstance(t, c, ns, "outage-b").Status.Upgrade; st != nil && st.Phase == odoov1alpha2.UpgradeFailed {
		t.Errorf("upgrade during the outage failed: %s", st.Message)
	}
	if jobs := instanceJobs(t, c, ns, "outage-b", "upgrade"); len(jobs) != 0 {
		t.Errorf("upgrade Jobs %v during the outage, want none", jobNames(jobs))
	}
	framework.SandboxPostgresCtl(t, "up")
	restarted = true
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo", "--all", "--timeout=2m")
	waitUpgrade(t, c, ns, "outage-b", odoov1alpha2.UpgradeSuccess, attempted(toImage))
	if r := jsonpath(t, ns, "odoo/outage-a", `{.status.conditions[?(@.type=="Degraded")].status}`); r != "False" {
		t.Errorf("Degraded still %s after recovery", r)
	}
}

// TestNoNewDatabaseConnectionsInSteadyState: 100 reconciles of an unchanged
// instance open no PostgreSQL connection beyond the pool's.
func TestNoNewDatabaseConnectionsInSteadyState(t *testing.T) {
	ns := framework.Namespace(t, "e2e-connections")
	framework.Apply(t, ns, instanceManifest("steady"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/steady", "--timeout=2m")
	if framework.SandboxPostgresConnections(t, "odoo-operator") == 0 {
		t.Fatal("no operator connection found in the PostgreSQL log: is log_connections on?")
	}
	time.Sleep(2 * time.Second)
	reconcilesBefore := framework.Metrics(framework.OperatorMetrics(t), "controller_runtime_reconcile_total", `controller="odooinstance"`)
	before := framework.SandboxPostgresConnections(t, "odoo-operator")
	for i := range 100 {
		framework.Kubectl(t, "label", "-n", ns, "odoo/steady", fmt.Sprintf("touch=%d", i), "--overwrite")
	}
	time.Sleep(3 * time.Second)
	reconciles := framework.Metrics(framework.OperatorMetrics(t), "controller_runtime_reconcile_total", `controller="odooinstance"`) - reconcilesBefore
	opened := framework.SandboxPostgresConnections(t, "odoo-operator") - before
	t.Logf("%v reconciles of an unchanged instance opened %d PostgreSQL connections", reconciles, opened)
	if reconciles < 50 {
		t.Errorf("only %v reconciles were triggered", reconciles)
	}
	if opened != 0 {
		t.Errorf("%d new PostgreSQL connections during %v reconciles of an unchanged instance", opened, reconciles)
	}
}
