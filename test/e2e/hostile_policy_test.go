//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestHostileTenantUsesTheAdministratorsCluster: a tenant whose policy
// allows only the tenants' PostgreSQL cluster leaves spec.database.cluster
// empty (the default entry of the clusters Secret, here the administrators'
// "sandbox" cluster) and names the database it wants there. The instance
// must be refused, and the administrators' cluster must get no role and no
// database for it, even after the operator had time to reconcile.
func TestHostileTenantUsesTheAdministratorsCluster(t *testing.T) {
	ns := framework.Namespace(t, "e2e-hostile-cluster")
	framework.Kubectl(t, "label", "namespace", ns, "e2e.bemade.org/tenant="+ns)
	policy := "e2e-" + ns
	framework.Apply(t, "", fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooTenantPolicy
metadata:
  name: %s
spec:
  namespaceSelector:
    matchLabels:
      e2e.bemade.org/tenant: %s
  databaseClusters: [tenants]
`, policy, ns))
	t.Cleanup(func() { _, _ = framework.KubectlE("delete", "odootenantpolicy", policy, "--ignore-not-found") })

	const db = "e2e_hostile_admin_cluster"
	attack := fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: squatter
spec:
  image: odoo-sim:18.0
  adminPassword: x
  database: {name: %s}
`, db)
	var refusal error
	framework.Eventually(t, wait, "the policy refuses the instance", func() error {
		_, refusal = framework.KubectlStdin(attack, "apply", "-n", ns, "-f", "-")
		if refusal == nil {
			return fmt.Errorf("accepted")
		}
		return nil
	})
	if want := `spec.database.cluster: Unsupported value: "sandbox": supported values: "tenants"`; !strings.Contains(refusal.Error(), want) {
		t.Errorf("refusal does not say %q: %v", want, refusal)
	}

	// Give an accepted instance the time to get its role and database, then
	// look at the administrators' cluster.
	time.Sleep(3 * time.Second)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, framework.SandboxDatabase(t, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var databases, roles int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, db).Scan(&databases); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname LIKE $1`, "%squatter%").Scan(&roles); err != nil {
		t.Fatal(err)
	}
	if databases != 0 || roles != 0 {
		t.Errorf("the administrators' cluster got %d database(s) %q and %d role(s) for the tenant", databases, db, roles)
	}
}
