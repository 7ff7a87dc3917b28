package plugin

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

// TestPsqlScriptConnectsWithTheConfCredentials runs the script `kubectl odoo
// psql` execs in the web pod against a real PostgreSQL, reading an odoo.conf
// rendered by the operator's own renderer: psql connects as the instance's
// role to its database, with a password full of shell and conf
// metacharacters, and the password is nowhere on the command line. A
// configOptions key that starts like an owned one (db_host_x) does not
// redirect the connection.
func TestPsqlScriptConnectsWithTheConfCredentials(t *testing.T) {
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatalf("psql is not installed (hack/postgres.sh install): %v", err)
	}
	pg := pgharness.Start(t)
	ctx := context.Background()
	const role, db, password = "shop_user", "shop_db", `p@ss w'rd = $HOME "x" $(id) ;`
	conn, err := pgx.Connect(ctx, pg.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, sql := range []string{
		"CREATE ROLE " + role + " LOGIN PASSWORD '" + strings.ReplaceAll(password, "'", "''") + "'",
		"CREATE DATABASE " + db + " OWNER " + role,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	inst := &odoov1alpha2.OdooInstance{}
	inst.Name = "shop"
	inst.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"db_host_x": "192.0.2.1", "db_user_x": "postgres"}
	conf := resources.RenderOdooConf(resources.ConfInputs{
		Instance: inst, AdminPassword: "admin-secret",
		Database: resources.DatabaseConnection{Host: pg.Host, Port: int32(pg.Port), Name: db, User: role, Password: password},
	})
	rc := filepath.Join(t.TempDir(), "odoo.conf")
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}

	args := []string{"-c", psqlScript, "psql", "-XtA", "-c", "select current_user || ' ' || current_database()"}
	for _, a := range args {
		if strings.Contains(a, "w'rd") {
			t.Fatalf("the password is on the command line: %q", a)
		}
	}
	cmd := exec.Command("sh", args...)
	cmd.Env = []string{"ODOO_RC=" + rc, "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql script: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != role+" "+db {
		t.Errorf("psql connected as %q, want %q", got, role+" "+db)
	}
}
