//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// withSecondCluster adds the sandbox's second PostgreSQL server to the
// clusters Secret as "second" for the test, and puts the Secret back after.
func withSecondCluster(t *testing.T) string {
	t.Helper()
	conn, _ := secondCluster(t)
	return conn
}

// secondCluster is withSecondCluster, with a function that adds the server
// again: hack/sandbox.sh restart-operator writes the sandbox's own Secret.
func secondCluster(t *testing.T) (string, func()) {
	t.Helper()
	orig := framework.Kubectl(t, "get", "secret", "postgres-clusters", "-n", "odoo-operator", "-o", "jsonpath={.data.clusters\\.yaml}")
	yaml, err := base64.StdEncoding.DecodeString(strings.TrimSpace(orig))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(framework.SandboxPostgres2(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	second := fmt.Sprintf("%s\nsecond: {host: 127.0.0.1, port: %s, adminUser: postgres, adminPassword: %q}\n", strings.TrimRight(string(yaml), "\n"), u.Port(), pw)
	apply := func(data string) {
		framework.Apply(t, "odoo-operator", fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: postgres-clusters}\ndata: {clusters.yaml: %s}\n",
			base64.StdEncoding.EncodeToString([]byte(data))))
	}
	apply(second)
	t.Cleanup(func() { apply(string(yaml)) })
	return framework.SandboxPostgres2(t), func() { apply(second) }
}

func checksumsAt(t *testing.T, connString, db string) map[string]string {
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
	sums, err := dbtools.TableChecksums(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

// TestDatabaseMovesBetweenPostgresServers: a change of spec.database.cluster
// moves the database from the sandbox's PostgreSQL to its second server by
// the operator's own data Jobs (really run): the tenant's rows are equal on
// the target, the instance serves from it, the source database is kept.
func TestDatabaseMovesBetweenPostgresServers(t *testing.T) {
	target := withSecondCluster(t)
	ns := framework.Namespace(t, "e2e-dbmove")
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	role := "odoo." + ns + ".shop"
	framework.SandboxSQL(t, db, `SET ROLE `+pgx.Identifier{role}.Sanitize()+`;
CREATE TABLE res_partner (id serial PRIMARY KEY, name text, created timestamptz DEFAULT now());
INSERT INTO res_partner (name) SELECT 'partner ' || i FROM generate_series(1, 1000) i;
CREATE TABLE ir_attachment (id serial PRIMARY KEY, res_id int REFERENCES res_partner(id), datas bytea);
INSERT INTO ir_attachment (res_id, datas) SELECT i, decode(md5(i::text), 'hex') FROM generate_series(1, 300) i;`)
	before := checksumsAt(t, framework.SandboxPostgres(t), db)

	framework.Kubectl(t, "patch", "odoo/shop", "-n", ns, "--type=merge", "-p", `{"spec":{"database":{"cluster":"second"}}}`)
	framework.Eventually(t, 3*time.Minute, "the database moved to cluster second", func() error {
		cluster := jsonpath(t, ns, "odoo/shop", "{.status.database.cluster}")
		phase := jsonpath(t, ns, "odoo/shop", "{.status.database.move.phase}")
		if cluster != "second" || phase != "Succeeded" {
			return fmt.Errorf("cluster %q, move %q: %s", cluster, phase, jsonpath(t, ns, "odoo/shop", "{.status.database.move.message}"))
		}
		return nil
	})
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odoo/shop", "--timeout=2m")

	if after := checksumsAt(t, target, db); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the target's tables differ from the source's:\n%v\n%v", after, before)
	}
	if kept := checksumsAt(t, framework.SandboxPostgres(t), db); fmt.Sprint(kept) != fmt.Sprint(before) {
		t.Errorf("the source database was not kept as it was: %v", kept)
	}
	for _, kind := range []string{"dbmove-dump", "dbmove-load"} {
		jobs := strings.Fields(framework.Kubectl(t, "get", "jobs", "-n", ns, "-l", "bemade.org/job="+kind, "-o", "jsonpath={.items[*].metadata.name}"))
		if len(jobs) != 1 {
			t.Errorf("%s Jobs: %v, want one", kind, jobs)
		}
	}
	// Odoo is configured for the target.
	conf := framework.Kubectl(t, "get", "secret", "shop-odoo-conf", "-n", ns, "-o", "jsonpath={.data.odoo\\.conf}")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(conf))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(target)
	if !strings.Contains(string(raw), "db_port = "+u.Port()) {
		t.Errorf("odoo.conf does not name the target's port %s", u.Port())
	}
	events := framework.Kubectl(t, "get", "events", "-n", ns, "-o", "jsonpath={.items[*].reason}")
	for _, want := range []string{"DatabaseMoveStarted", "DatabaseMoveSucceeded"} {
		if !strings.Contains(events, want) {
			t.Errorf("no %s event in %s", want, events)
		}
	}
}
