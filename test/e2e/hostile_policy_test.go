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
	// The webhook's cache sees the new policy within moments: wait for it
	// with server-side dry runs, which create nothing.
	refused := func() error {
		if _, err := framework.KubectlStdin(attack, "apply", "--dry-run=server", "-n", ns, "-f", "-"); err == nil {
			return fmt.Errorf("accepted")
		}
		return nil
	}
	if err := pollFor(20*time.Second, refused); err != nil {
		t.Errorf("the policy does not refuse the instance after 20s")
	}
	_, refusal := framework.KubectlStdin(attack, "apply", "-n", ns, "-f", "-")
	if refusal != nil {
		if want := `spec.database.cluster: Unsupported value: "sandbox": supported values: "tenants"`; !strings.Contains(refusal.Error(), want) {
			t.Errorf("refusal does not say %q: %v", want, refusal)
		}
	}

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, framework.SandboxDatabase(t, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	damage := func() error {
		var databases, roles int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, db).Scan(&databases); err != nil {
			return err
		}
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname LIKE $1`, "%squatter%").Scan(&roles); err != nil {
			return err
		}
		if databases != 0 || roles != 0 {
			return fmt.Errorf("the administrators' cluster got %d database(s) %q and %d role(s) for the tenant", databases, db, roles)
		}
		return nil
	}
	if refusal == nil {
		t.Errorf("the instance was accepted")
		// Give the operator the time to act on it, so the check below sees
		// the damage.
		_ = pollFor(wait, func() error {
			if damage() == nil {
				return fmt.Errorf("nothing created yet")
			}
			return nil
		})
	}
	if err := damage(); err != nil {
		t.Error(err)
	}
}

// pollFor polls check until it returns nil or timeout passes, and returns
// its last error.
func pollFor(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(250 * time.Millisecond)
	}
}
