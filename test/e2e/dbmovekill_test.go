//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// sqlAt runs statements in database db of the server at connString as its
// superuser.
func sqlAt(t *testing.T, connString, db, sql string) {
	t.Helper()
	u, err := url.Parse(connString)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("connecting to %s: %v", db, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("database %s: %v", db, err)
	}
}

// TestDatabaseMoveSurvivesOperatorKill: the operator is killed (SIGKILL) as
// soon as a database move reaches each step, then restarted. One instance
// moves back and forth between the sandbox's two PostgreSQL servers, once
// per kill point (the copy a move keeps on its source is dropped by hand
// before the next move goes back there, as docs/databases.md says): each
// move ends on its target with every row written before it, exactly one
// dump and one load Job (the names recorded in status.database.move), the
// lock released and the instance Ready.
func TestDatabaseMoveSurvivesOperatorKill(t *testing.T) {
	second, readd := secondCluster(t)
	servers := map[string]string{"sandbox": framework.SandboxPostgres(t), "second": second}
	ns := framework.Namespace(t, "e2e-dbmove-kill")
	c := framework.NewClients(t)
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	role := pgx.Identifier{"odoo." + ns + ".shop"}.Sanitize()
	sqlAt(t, servers["sandbox"], db, "SET ROLE "+role+"; CREATE TABLE res_partner (id serial PRIMARY KEY, name text)")
	jobs := recordJobs(t, c, ns, "shop")
	killed := false
	t.Cleanup(func() {
		if killed {
			framework.RestartOperator(t)
		}
	})
	instance := func(ctx context.Context) (*odoov1alpha2.OdooInstance, error) {
		inst := &odoov1alpha2.OdooInstance{}
		return inst, c.GetInstance(ctx, ns, "shop", inst)
	}
	points := []string{"locked", "stop", "dump-job", "load-job", "check", "swapped"}
	for _, p := range points {
		source := jsonpath(t, ns, "odoo/shop", "{.status.database.cluster}")
		target := map[string]string{"sandbox": "second", "second": "sandbox"}[source]
		t.Run(p, func(t *testing.T) {
			// The copy an earlier move kept on the target goes, by hand.
			sqlAt(t, servers[target], "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
			sqlAt(t, servers[source], db, "SET ROLE "+role+"; INSERT INTO res_partner (name) SELECT '"+p+" ' || i FROM generate_series(1, 100) i")
			before := checksumsAt(t, servers[source], db)
			dumpsBefore, loadsBefore := jobs.jobs(t, resources.JobKindDatabaseMoveDump), jobs.jobs(t, resources.JobKindDatabaseMoveLoad)
			reached := func(ctx context.Context) bool {
				inst, err := instance(ctx)
				if err != nil || inst.Status.Database == nil {
					return false
				}
				m := inst.Status.Database.Move
				moving := m != nil && m.Phase == odoov1alpha2.DatabaseMoveMoving && m.TargetCluster == target
				job := func(name string) bool {
					_, err := c.Kube.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
					return err == nil
				}
				switch p {
				case "locked":
					op := inst.Status.Operation
					return op != nil && op.Kind == odoov1alpha2.OperationDatabaseMove
				case "stop":
					return moving
				case "dump-job":
					return moving && job(m.DumpJob)
				case "load-job":
					return moving && job(m.LoadJob)
				case "check":
					return moving && m.Step == odoov1alpha2.DatabaseMoveStepCheck
				}
				return inst.Status.Database.Cluster == target
			}
			open := func(ctx context.Context) ([]watch.Interface, error) {
				w, err := c.Dynamic.Resource(framework.OdooInstances).Namespace(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=shop"})
				if err != nil {
					return nil, err
				}
				ws := []watch.Interface{w}
				if p == "dump-job" || p == "load-job" {
					j, err := c.Kube.BatchV1().Jobs(ns).Watch(ctx, metav1.ListOptions{LabelSelector: instanceLabel + "=shop"})
					if err != nil {
						w.Stop()
						return nil, err
					}
					ws = append(ws, j)
				}
				return ws, nil
			}
			start := func() {
				framework.Kubectl(t, "patch", "odoo/shop", "-n", ns, "--type=merge", "-p", `{"spec":{"database":{"cluster":"`+target+`"}}}`)
			}
			seen := killOperatorWhen(t, p, start, reached, open)
			killed = true
			t.Logf("%s; operator killed", seen)
			framework.RestartOperator(t)
			readd()
			killed = false

			var m *odoov1alpha2.DatabaseMove
			framework.Eventually(t, wait, "the database moved to "+target, func() error {
				inst, err := instance(context.Background())
				if err != nil {
					return err
				}
				m = inst.Status.Database.Move
				if inst.Status.Database.Cluster != target || m == nil || m.Phase != odoov1alpha2.DatabaseMoveSucceeded || m.TargetCluster != target {
					return fmt.Errorf("cluster %q, move %+v", inst.Status.Database.Cluster, m)
				}
				if op := inst.Status.Operation; op != nil {
					return fmt.Errorf("status.operation %+v, want none", *op)
				}
				return nil
			})
			framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=1m")
			if after := checksumsAt(t, servers[target], db); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the target's tables differ from the source's:\n%v\n%v", after, before)
			}
			if kept := checksumsAt(t, servers[source], db); fmt.Sprint(kept) != fmt.Sprint(before) {
				t.Errorf("the source database was not kept as it was")
			}
			jobs.expectOneNewJob(t, resources.JobKindDatabaseMoveDump, dumpsBefore, m.DumpJob)
			jobs.expectOneNewJob(t, resources.JobKindDatabaseMoveLoad, loadsBefore, m.LoadJob)
		})
		if killed {
			t.Fatalf("the operator could not be restarted after the kill at %s", p)
		}
	}
}
