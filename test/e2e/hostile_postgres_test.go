//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgattack"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// The tenant boundary in PostgreSQL (docs/security.md): whatever a namespace
// can write (its Secrets, its spec, its own database's tables and functions)
// never reaches another tenant's role or database, nor the server's
// privileges. Each test performs the attack from a tenant namespace with
// kubectl and, for the database, with the tenant's own login.

// simImage is simulated by KWOK (conventions: odoo-sim for tests that do not
// test real Odoo).
const simImage = "odoo-sim:18.0"

// simInstance is instanceManifest (on the simulated image), extra appended
// to its spec.
func simInstance(name, extra string) string {
	return instanceManifest(name) + extra
}

// tenantPassword is the password of the instance shop's shop-odoo-user
// Secret, which anyone allowed to read Secrets in its namespace can read.
func tenantPassword(t *testing.T, ns string) string {
	t.Helper()
	b64 := framework.Kubectl(t, "get", "secret", "-n", ns, "shop-odoo-user", "-o", "jsonpath={.data.password}")
	pw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(pw) == 0 {
		t.Fatalf("Secret %s/shop-odoo-user password: %v", ns, err)
	}
	return string(pw)
}

// roleConn connects to db of the sandbox's PostgreSQL as role with password.
func roleConn(t *testing.T, role, password, db string) (*pgx.Conn, error) {
	t.Helper()
	u, err := url.Parse(framework.SandboxDatabase(t, db))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return pgx.Connect(ctx, u.String())
}

// mustRoleConn is roleConn, closed when the test ends.
func mustRoleConn(t *testing.T, role, password, db string) *pgx.Conn {
	t.Helper()
	conn, err := roleConn(t, role, password, db)
	if err != nil {
		t.Fatalf("logging in as %q to %q: %v", role, db, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// catalog snapshots every role's privileges and every database's owner.
func catalog(t *testing.T) pgattack.Catalog {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, framework.SandboxPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	c, err := pgattack.Snapshot(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// untouched fails the test when a role's privileges or a database's owner
// changed since before.
func untouched(t *testing.T, before pgattack.Catalog, when string) {
	t.Helper()
	if d := pgattack.Diff(before, catalog(t)); d != "" {
		t.Fatalf("%s: the server changed: %s", when, d)
	}
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// conditionReason is the reason of the instance's condition when its status
// is True, "" otherwise.
func conditionReason(t *testing.T, ns, name, condition string) string {
	t.Helper()
	out := jsonpath(t, ns, odooRef(name), fmt.Sprintf(`{.status.conditions[?(@.type=="%s")].status} {.status.conditions[?(@.type=="%s")].reason}`, condition, condition))
	status, reason, _ := strings.Cut(strings.TrimSpace(out), " ")
	if status != "True" {
		return ""
	}
	return reason
}

// TestHostileUserSecretNamesAnotherTenantsRole: a tenant pre-creates its
// instance's <name>-odoo-user Secret naming the victim's role with a
// password of its choice, points spec.database.name at the victim's
// database and asks for deletionPolicy Delete. The operator refuses the
// Secret (Stalled, DatabaseCredentialsRefused): the victim's password still
// works, no role or database owner changed, and deleting the attacker's
// instance drops nothing.
func TestHostileUserSecretNamesAnotherTenantsRole(t *testing.T) {
	victimNS := framework.Namespace(t, "e2e-victim-secret")
	framework.Apply(t, victimNS, simInstance("shop", ""))
	framework.Kubectl(t, "wait", "-n", victimNS, "--for=condition=Ready", odooRef("shop"), "--timeout=2m")
	victimDB := jsonpath(t, victimNS, odooRef("shop"), "{.status.database.name}")
	victimRole, victimPassword := "odoo."+victimNS+".shop", tenantPassword(t, victimNS)
	before := catalog(t)

	ns := framework.Namespace(t, "e2e-hostile-secret")
	attackerPassword := "attacker-chosen-" + randomSuffix()
	framework.Kubectl(t, "create", "secret", "generic", "thief-odoo-user", "-n", ns,
		"--from-literal=username="+victimRole, "--from-literal=password="+attackerPassword)
	framework.Apply(t, ns, simInstance("thief", fmt.Sprintf("  deletionPolicy: Delete\n  database:\n    name: %s\n", victimDB)))
	framework.Eventually(t, wait, "the operator looked at the attacker's instance", func() error {
		if jsonpath(t, ns, odooRef("thief"), "{.status.conditions}") == "" {
			return fmt.Errorf("no condition yet")
		}
		return nil
	})
	time.Sleep(2 * time.Second) // a few more reconciles, had the Secret been used

	if _, err := roleConn(t, victimRole, attackerPassword, victimDB); err == nil {
		t.Errorf("the attacker's password logs in as the victim's role %q", victimRole)
	}
	if conn, err := roleConn(t, victimRole, victimPassword, victimDB); err != nil {
		t.Errorf("the victim's own password no longer works: %v", err)
	} else {
		_ = conn.Close(context.Background())
	}
	untouched(t, before, "after the attacker's instance was reconciled")
	if r := conditionReason(t, ns, "thief", "Stalled"); r != "DatabaseCredentialsRefused" {
		t.Errorf("the attacker's instance: Stalled reason %q, want DatabaseCredentialsRefused", r)
	}
	msg := jsonpath(t, ns, odooRef("thief"), `{.status.conditions[?(@.type=="Stalled")].message}`)
	if !strings.Contains(msg, "thief-odoo-user") || strings.Contains(msg, attackerPassword) {
		t.Errorf("the Stalled message should name the Secret and never its password: %s", msg)
	}
	if conf, err := framework.KubectlE("get", "secret", "-n", ns, "thief-odoo-conf", "-o", "jsonpath={.data.odoo\\.conf}"); err == nil {
		b, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(conf))
		if strings.Contains(string(b), victimRole) || strings.Contains(string(b), attackerPassword) {
			t.Errorf("the refused Secret's credentials reached the attacker's odoo.conf")
		}
	}

	// deletionPolicy Delete: the attacker's instance goes, the victim's
	// database and role stay.
	framework.Kubectl(t, "delete", "-n", ns, odooRef("thief"), "--wait=false")
	time.Sleep(3 * time.Second)
	if owner := pgValue(t, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", victimDB); owner != victimRole {
		t.Errorf("after deleting the attacker's instance, database %q owner = %q, want %q", victimDB, owner, victimRole)
	}
	if conn, err := roleConn(t, victimRole, victimPassword, victimDB); err != nil {
		t.Errorf("after deleting the attacker's instance, the victim cannot log in: %v", err)
	} else {
		_ = conn.Close(context.Background())
	}
	untouched(t, before, "after deleting the attacker's instance")
	// Let the namespace go: whatever the deletion waits for, Retain ends it.
	_, _ = framework.KubectlE("patch", "-n", ns, odooRef("thief"), "--type=merge", "-p", `{"spec":{"deletionPolicy":"Retain"}}`)
}

// TestHostileDatabaseFunctionsRunWithTheTenantsRights: the tenant, logged in
// with its own role, hides a function that makes its role a superuser
// behind the tables the operator reads (ir_module_module,
// ir_config_parameter as views calling it, and an overloaded <> on
// varchar), then triggers every read: an upgrade (module snapshot and
// post-check) and a neutralized restore (verification and neutralize
// check). Its role gains nothing, no other role or owner changes, and both
// operations succeed.
func TestHostileDatabaseFunctionsRunWithTheTenantsRights(t *testing.T) {
	ns := framework.Namespace(t, "e2e-hostile-functions")
	framework.Apply(t, ns, simInstance("shop", ""))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=2m")
	db := jsonpath(t, ns, odooRef("shop"), "{.status.database.name}")
	role := "odoo." + ns + ".shop"
	// A database retained by an earlier run still holds its traps.
	framework.SandboxSQL(t, db, `DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION pg_database_owner; GRANT USAGE ON SCHEMA public TO PUBLIC`)
	framework.ModuleFixture(t, db)
	framework.SandboxSQL(t, db, `CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar NOT NULL, value text);
		INSERT INTO ir_config_parameter (key, value) VALUES ('database.is_neutralized', 'true')`)
	framework.GiveTablesToOwner(t, db)

	tenant := mustRoleConn(t, role, tenantPassword(t, ns), db)
	trapped, err := pgattack.Install(context.Background(), tenant, role, pgattack.Variants[0])
	if err != nil || len(trapped) != 2 {
		t.Fatalf("installing the traps as the tenant: %v (trapped %v)", err, trapped)
	}
	before := catalog(t)
	if before.Roles[role].Super {
		t.Fatalf("role %q is a superuser before the attack", role)
	}

	// An upgrade: module snapshot before, post-check after.
	c := framework.NewClients(t)
	const next = "odoo-sim:18.0-next"
	setImage(t, ns, "shop", next)
	st := waitUpgrade(t, c, ns, "shop", odoov1alpha2.UpgradeSuccess, attempted(next))
	untouched(t, before, "after the upgrade read the trapped tables")
	if !strings.Contains(st.Message, "upgraded to "+next) {
		t.Errorf("upgrade message %q", st.Message)
	}

	// A neutralized restore: the restored copy carries the traps too.
	backupToClaim(t, ns, "trapped", "shop/trapped.zip")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", "odoobackupjobs.v1alpha2.bemade.org/trapped", "--timeout=2m")
	trappedKey := jsonpath(t, ns, "odoobackupjobs.v1alpha2.bemade.org/trapped", "{.status.objectKey}")
	framework.Apply(t, ns, `apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: trapped
spec:
  odooInstanceRef: {name: shop}
  source:
    type: pvc
    pvc: {claimName: backups, path: `+trappedKey+`}
`)
	restore := "odoorestorejobs.v1alpha2.bemade.org/trapped"
	if out, err := framework.KubectlE("wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", restore, "--timeout=2m"); err != nil {
		t.Fatalf("the restore did not complete: %v %s\nstatus: %s", err, out, jsonpath(t, ns, restore, "{.status}"))
	}
	if n := jsonpath(t, ns, restore, "{.status.neutralized}"); n != "true" {
		t.Errorf("status.neutralized = %q: the neutralize check did not read the restored copy", n)
	}
	untouched(t, before, "after the restore read the trapped tables")

	// Control: the traps are live, a superuser read springs them.
	admin, err := pgx.Connect(context.Background(), framework.SandboxDatabase(t, db))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(context.Background()) }()
	if _, err := pgattack.Sprung(context.Background(), admin); err != nil {
		t.Fatal(err)
	}
	if !catalog(t).Roles[role].Super {
		t.Fatalf("control: a superuser read of the trapped table did not make %q a superuser; the attack tested nothing", role)
	}
	framework.SandboxSQL(t, "postgres", fmt.Sprintf(`ALTER ROLE %s NOSUPERUSER NOCREATEROLE NOCREATEDB; DROP ROLE IF EXISTS tenant_trap_sprung`,
		pgx.Identifier{role}.Sanitize()))
}

// TestHostileDatabaseNameTakesOverAForeignDatabase: a tenant points
// spec.database.name at another application's database (owned by the
// server's superuser, like keycloak's). It is never taken over: the instance
// is Stalled (DatabaseConflict) and the database keeps its owner.
func TestHostileDatabaseNameTakesOverAForeignDatabase(t *testing.T) {
	ns := framework.Namespace(t, "e2e-hostile-dbname")
	foreign := "keycloak_" + randomSuffix()
	framework.SandboxSQL(t, "postgres", "CREATE DATABASE "+foreign)
	t.Cleanup(func() { framework.SandboxSQL(t, "postgres", "DROP DATABASE IF EXISTS "+foreign+" WITH (FORCE)") })
	before := catalog(t)

	framework.Apply(t, ns, simInstance("grab", fmt.Sprintf("  database:\n    name: %s\n", foreign)))
	framework.Eventually(t, wait, "the operator looked at the instance", func() error {
		if jsonpath(t, ns, odooRef("grab"), "{.status.conditions}") == "" {
			return fmt.Errorf("no condition yet")
		}
		return nil
	})
	time.Sleep(2 * time.Second)
	if owner := pgValue(t, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", foreign); owner != "postgres" {
		t.Fatalf("database %q owner = %q, want it unchanged (postgres)", foreign, owner)
	}
	untouched(t, before, "after the instance was reconciled")
	if r := conditionReason(t, ns, "grab", "Stalled"); r != "DatabaseConflict" {
		t.Errorf("Stalled reason %q, want DatabaseConflict", r)
	}
	if msg := jsonpath(t, ns, odooRef("grab"), `{.status.conditions[?(@.type=="Stalled")].message}`); !strings.Contains(msg, "spec.database.name") {
		t.Errorf("the Stalled message does not name spec.database.name: %s", msg)
	}
	if jobs := framework.Kubectl(t, "get", "jobs", "-n", ns, "-o", "name"); strings.TrimSpace(jobs) != "" {
		t.Errorf("Jobs were created against the foreign database: %s", jobs)
	}
}

// TestHostileDatabaseNameChangedLater: setting spec.database.name on a
// running instance (to another tenant's database, or any other) is refused
// at admission with the field and the fix named; the instance stays Ready
// and initialised.
func TestHostileDatabaseNameChangedLater(t *testing.T) {
	victimNS := framework.Namespace(t, "e2e-victim-dbname")
	framework.Apply(t, victimNS, simInstance("shop", ""))
	ns := framework.Namespace(t, "e2e-hostile-rename")
	framework.Apply(t, ns, simInstance("shop", ""))
	for _, n := range []string{victimNS, ns} {
		framework.Kubectl(t, "wait", "-n", n, "--for=condition=Ready", odooRef("shop"), "--timeout=2m")
	}
	victimDB := jsonpath(t, victimNS, odooRef("shop"), "{.status.database.name}")
	inUse := jsonpath(t, ns, odooRef("shop"), "{.status.database.name}")
	before := catalog(t)

	out, err := framework.KubectlE("patch", "-n", ns, odooRef("shop"), "--type=merge", "-p", fmt.Sprintf(`{"spec":{"database":{"name":%q}}}`, victimDB))
	if err == nil {
		t.Errorf("setting spec.database.name to another database was accepted: %s", out)
	} else {
		for _, want := range []string{"spec.database.name", "set it back to " + fmt.Sprintf("%q", inUse)} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal does not name %q: %v", want, err)
			}
		}
	}
	time.Sleep(2 * time.Second)
	untouched(t, before, "after the attempt")
	if got := jsonpath(t, ns, odooRef("shop"), "{.status.database.name} {.status.database.initialized}"); got != inUse+" true" {
		t.Errorf("status.database name initialized = %q, want %q", got, inUse+" true")
	}
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=30s")
	// Setting it to the name in use is allowed and changes nothing.
	framework.Kubectl(t, "patch", "-n", ns, odooRef("shop"), "--type=merge", "-p", fmt.Sprintf(`{"spec":{"database":{"name":%q}}}`, inUse))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=30s")
}
