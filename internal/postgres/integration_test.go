package postgres

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
)

func TestScramVerifierAgainstServer(t *testing.T) {
	s := sharedServer(t)
	conn := adminConn(t, s)
	role, _ := names(t, "")
	pw := "pencil-" + randomHex(8)

	// The server's own verifier (plaintext sent once, by this test only) is
	// reproduced exactly from its salt and iteration count.
	mustExec(t, conn, "SET password_encryption = 'scram-sha-256'")
	mustExec(t, conn, "CREATE ROLE "+ident(role)+" LOGIN PASSWORD "+quoteLiteral(pw))
	var stored string
	if err := conn.QueryRow(testCtx(t), "SELECT rolpassword FROM pg_authid WHERE rolname = $1", role).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	iterations, salt, _, _, ok := parseScramVerifier(stored)
	if !ok {
		t.Fatalf("server verifier %q not parsed", stored)
	}
	mine, err := ScramSHA256Verifier(pw, salt, iterations)
	if err != nil {
		t.Fatal(err)
	}
	if mine != stored {
		t.Fatalf("verifier differs from PostgreSQL's:\n got %s\nwant %s (salt %s)", mine, stored, base64.StdEncoding.EncodeToString(salt))
	}
	if !VerifierMatches(stored, pw) || VerifierMatches(stored, pw+"x") {
		t.Fatal("VerifierMatches disagrees with the server's verifier")
	}

	// A verifier computed in Go logs the role in through SCRAM; a wrong
	// password is refused.
	pw2 := randomPassword()
	v, err := NewScramVerifier(pw2)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, conn, "ALTER ROLE "+ident(role)+" PASSWORD "+quoteLiteral(v))
	mustLogin(t, s, role, pw2, "postgres")
	mustNotLogin(t, s, role, pw, "postgres")
	mustNotLogin(t, s, role, pw2+"x", "postgres")
}

func TestEnsureCreatesRoleAndDatabase(t *testing.T) {
	s := sharedServer(t)
	conn := adminConn(t, s)
	m := newTestManager(t, ManagerOptions{})
	c := clusterFor(s, "main")
	roleName, dbName := names(t, "")
	role := DesiredRole{Name: roleName, Password: randomPassword()}

	mustEnsure(t, m, c, role, DesiredDatabase{Name: dbName, Owner: roleName}, "CreateRole,CreateDatabase")
	mustLogin(t, s, roleName, role.Password, dbName)
	mustNotLogin(t, s, roleName, "wrong", dbName)

	var owner, encoding, collate string
	var super, createdb, createrole, canLogin bool
	if err := conn.QueryRow(testCtx(t), `SELECT pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate,
		r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolcanlogin
		FROM pg_database d, pg_roles r WHERE d.datname = $1 AND r.rolname = $2`, dbName, roleName).
		Scan(&owner, &encoding, &collate, &super, &createdb, &createrole, &canLogin); err != nil {
		t.Fatal(err)
	}
	if owner != roleName || encoding != "UTF8" || collate != "C" || super || createdb || createrole || !canLogin {
		t.Fatalf("owner=%s encoding=%s collate=%s super=%v createdb=%v createrole=%v login=%v",
			owner, encoding, collate, super, createdb, createrole, canLogin)
	}
	log := logUntilMarker(t, s, conn)
	if want := "CREATE DATABASE " + ident(dbName) + " WITH OWNER " + ident(roleName) + " TEMPLATE template0"; !strings.Contains(log, want) {
		t.Fatalf("log has no %q", want)
	}
	if ok, err := m.DatabaseExists(testCtx(t), c, dbName); err != nil || !ok {
		t.Fatalf("DatabaseExists = %v, %v", ok, err)
	}
	if ok, err := m.DatabaseExists(testCtx(t), c, dbName+"_nope"); err != nil || ok {
		t.Fatalf("DatabaseExists(missing) = %v, %v", ok, err)
	}
	if v, err := m.ServerMajorVersion(testCtx(t), c); err != nil || v < 13 {
		t.Fatalf("ServerMajorVersion = %d, %v", v, err)
	}
}

func TestEnsureNeverLogsPasswords(t *testing.T) {
	s := sharedServer(t)
	conn := adminConn(t, s)
	// An admin whose name and password are hard to put in a connection string.
	adminPw := `adm1n p@ss'w"rd\=` + randomHex(8)
	c := createAdmin(t, s, conn, "ops admin "+randomHex(3), "SUPERUSER", adminPw)
	m := newTestManager(t, ManagerOptions{})
	roleName, dbName := names(t, "")
	pw1, pw2 := randomPassword(), randomPassword()
	db := DesiredDatabase{Name: dbName}

	mustEnsure(t, m, c, DesiredRole{Name: roleName, Password: pw1}, db, "CreateRole,CreateDatabase")
	mustLogin(t, s, roleName, pw1, dbName)
	afterCreate := logUntilMarker(t, s, conn)

	res := mustEnsure(t, m, c, DesiredRole{Name: roleName, Password: pw2}, db, "SetRolePassword")
	mustLogin(t, s, roleName, pw2, dbName)
	mustNotLogin(t, s, roleName, pw1, dbName)
	afterRepair := logUntilMarker(t, s, conn)

	for _, l := range []string{afterCreate, afterRepair} {
		assertNoSecret(t, l, pw1)
		assertNoSecret(t, l, pw2)
		assertNoSecret(t, l, adminPw)
	}
	if !strings.Contains(afterRepair, "ALTER ROLE "+ident(roleName)+" WITH PASSWORD 'SCRAM-SHA-256$4096:") {
		t.Fatal("the repair did not send a SCRAM verifier")
	}
	for _, a := range res.Actions {
		assertNoSecret(t, a.String(), pw2)
	}
}

func TestEnsureSteadyStateIsNoOp(t *testing.T) {
	s := sharedServer(t)
	conn := adminConn(t, s)
	m := newTestManager(t, ManagerOptions{})
	c := clusterFor(s, "main")
	roleName, dbName := names(t, "")
	role, db := DesiredRole{Name: roleName, Password: randomPassword()}, DesiredDatabase{Name: dbName}
	mustEnsure(t, m, c, role, db, "CreateRole,CreateDatabase")

	before := logUntilMarker(t, s, conn)
	for range 100 {
		res := mustEnsure(t, m, c, role, db, "")
		if !res.Cached {
			t.Fatal("steady-state Ensure was not served from the record")
		}
	}
	after := logUntilMarker(t, s, conn)
	if n := strings.Count(after, roleName) - strings.Count(before, roleName); n != 0 {
		t.Fatalf("100 steady-state Ensure calls logged %d statements naming the role", n)
	}
	if n := strings.Count(after, "execute ") - strings.Count(before, "execute "); n != 0 {
		t.Fatalf("100 steady-state Ensure calls ran %d statements", n)
	}

	// Without the record (a fresh Manager, or the recheck interval passed)
	// Ensure only observes: one query, nothing changed.
	m2 := newTestManager(t, ManagerOptions{RecheckInterval: time.Nanosecond})
	for range 3 {
		if res := mustEnsure(t, m2, c, role, db, ""); res.Cached {
			t.Fatal("Ensure trusted a record older than RecheckInterval")
		}
	}
	after2 := logUntilMarker(t, s, conn)
	delta := after2[len(after):]
	if strings.Contains(delta, "CREATE ") || strings.Contains(delta, "ALTER ") {
		t.Fatalf("a no-op Ensure changed something:\n%s", delta)
	}
	if n := strings.Count(delta, "FROM (VALUES (1)) AS v(x)"); n != 3 {
		t.Fatalf("3 rechecks ran %d observe queries, want 3:\n%s", n, delta)
	}
}

func TestEnsureRepairsDrift(t *testing.T) {
	s := sharedServer(t)
	conn := adminConn(t, s)
	const interval = 300 * time.Millisecond
	m := newTestManager(t, ManagerOptions{RecheckInterval: interval})
	c := clusterFor(s, "main")
	roleName, dbName := names(t, "")
	role, db := DesiredRole{Name: roleName, Password: randomPassword()}, DesiredDatabase{Name: dbName}
	mustEnsure(t, m, c, role, db, "CreateRole,CreateDatabase")

	// A password changed behind the operator's back...
	mustExec(t, conn, "ALTER ROLE "+ident(roleName)+" PASSWORD 'changed-behind-our-back'")
	// ...is trusted to be right until the recheck interval has passed,
	if res := mustEnsure(t, m, c, role, db, ""); !res.Cached {
		t.Fatal("record not used")
	}
	time.Sleep(interval + 50*time.Millisecond)
	// ...then repaired.
	res := mustEnsure(t, m, c, role, db, "SetRolePassword")
	if got := res.Actions[0].String(); !strings.Contains(got, "stored password differs") {
		t.Fatalf("action %q", got)
	}
	mustLogin(t, s, roleName, role.Password, dbName)
	mustNotLogin(t, s, roleName, "changed-behind-our-back", dbName)

	// md5 password and NOLOGIN.
	mustExec(t, conn, "SET password_encryption = 'md5'")
	mustExec(t, conn, "ALTER ROLE "+ident(roleName)+" NOLOGIN PASSWORD 'md5-behind-our-back'")
	mustExec(t, conn, "RESET password_encryption")
	m.Invalidate(c.Name, roleName, dbName)
	res = mustEnsure(t, m, c, role, db, "SetRolePassword,SetRoleLogin")
	if got := res.Actions[0].String(); !strings.Contains(got, "not SCRAM-SHA-256") {
		t.Fatalf("action %q", got)
	}
	mustLogin(t, s, roleName, role.Password, dbName)

	// A dropped database is re-created.
	mustExec(t, conn, "DROP DATABASE "+ident(dbName))
	m.Invalidate(c.Name, roleName, dbName)
	mustEnsure(t, m, c, role, db, "CreateDatabase")
	mustLogin(t, s, roleName, role.Password, dbName)
}

func TestEnsureDatabaseOwnership(t *testing.T) {
	s := sharedServer(t)
	conn := adminConn(t, s)
	m := newTestManager(t, ManagerOptions{})
	c := clusterFor(s, "main")
	pw := randomPassword()

	// A database the admin made (another application's, e.g. keycloak) is
	// never taken over, not even by a role created for it.
	roleName, dbName := names(t, "adopt")
	mustExec(t, conn, "CREATE DATABASE "+ident(dbName))
	res, err := m.Ensure(testCtx(t), c, DesiredRole{Name: roleName, Password: pw}, DesiredDatabase{Name: dbName})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Ensure on the admin's database: %v (actions %v)", err, res.Actions)
	}
	var owner string
	if err := conn.QueryRow(testCtx(t), "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", dbName).Scan(&owner); err != nil || owner != c.AdminUser {
		t.Fatalf("owner of the admin's database = %q, %v; want it unchanged (%q)", owner, err, c.AdminUser)
	}
	// The opt-in of a migrating cluster: an administrator hands the database
	// to the instance's role; then it is adopted as is.
	mustExec(t, conn, "CREATE ROLE "+ident(roleName)+" LOGIN")
	mustExec(t, conn, "ALTER DATABASE "+ident(dbName)+" OWNER TO "+ident(roleName))
	mustEnsure(t, m, c, DesiredRole{Name: roleName, Password: pw}, DesiredDatabase{Name: dbName}, "SetRolePassword")
	mustLogin(t, s, roleName, pw, dbName)

	// Another tenant's database is never taken over.
	otherRole, otherDB := names(t, "other")
	mustEnsure(t, m, c, DesiredRole{Name: otherRole, Password: pw}, DesiredDatabase{Name: otherDB}, "CreateRole,CreateDatabase")
	_, err = m.Ensure(testCtx(t), c, DesiredRole{Name: roleName, Password: pw}, DesiredDatabase{Name: otherDB})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Ensure on another role's database: %v", err)
	}
	t.Logf("refused: %v", err)
	if err := conn.QueryRow(testCtx(t), "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", otherDB).Scan(&owner); err != nil || owner != otherRole {
		t.Fatalf("owner of the other database = %q, %v", owner, err)
	}

	// A privileged role of the same name is never managed.
	privRole, privDB := names(t, "priv")
	mustExec(t, conn, "CREATE ROLE "+ident(privRole)+" LOGIN CREATEROLE PASSWORD 'unchanged-pw'")
	_, err = m.Ensure(testCtx(t), c, DesiredRole{Name: privRole, Password: pw}, DesiredDatabase{Name: privDB})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Ensure on a CREATEROLE role: %v", err)
	}
	mustLogin(t, s, privRole, "unchanged-pw", "postgres")
	if _, err := m.Drop(testCtx(t), c, privRole, ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("Drop of a CREATEROLE role: %v", err)
	}

	// The admin itself and system databases are refused before any query.
	for _, bad := range []struct{ role, db string }{{c.AdminUser, "x"}, {roleName, "postgres"}, {roleName, "template1"}, {strings.Repeat("r", 64), "x"}} {
		_, err := m.Ensure(testCtx(t), c, DesiredRole{Name: bad.role, Password: pw}, DesiredDatabase{Name: bad.db})
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("Ensure(%q, %q): %v", bad.role, bad.db, err)
		}
	}
}

func TestEnsureLongNames(t *testing.T) {
	s := sharedServer(t)
	conn := adminConn(t, s)
	m := newTestManager(t, ManagerOptions{})
	c := clusterFor(s, "main")
	ns := "ns-" + randomHex(2) + "-" + strings.Repeat("n", 60-8)
	base := strings.Repeat("shop-", 12) // 60 characters
	inst := func(suffix string) *odoov1alpha2.OdooInstance {
		return &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: base[:59] + suffix}}
	}
	a, b := inst("a"), inst("b")
	if len(a.Namespace) != 60 || len(a.Name) != 60 {
		t.Fatalf("lengths %d %d", len(a.Namespace), len(a.Name))
	}
	seen := map[string]bool{}
	for _, in := range []*odoov1alpha2.OdooInstance{a, b} {
		roleName, dbName := resources.RoleName(in), resources.DatabaseName(in)
		if seen[roleName] || seen[dbName] || len(roleName) > MaxIdentifierLen || len(dbName) > MaxIdentifierLen {
			t.Fatalf("role %q / database %q: not distinct or too long", roleName, dbName)
		}
		seen[roleName], seen[dbName] = true, true
		pw := randomPassword()
		mustEnsure(t, m, c, DesiredRole{Name: roleName, Password: pw}, DesiredDatabase{Name: dbName}, "CreateRole,CreateDatabase")
		var got, owner string
		if err := conn.QueryRow(testCtx(t), `SELECT r.rolname, pg_get_userbyid(d.datdba) FROM pg_roles r, pg_database d
			WHERE r.rolname = $1 AND d.datname = $2`, roleName, dbName).Scan(&got, &owner); err != nil {
			t.Fatalf("role %q or database %q not found as named: %v", roleName, dbName, err)
		}
		if got != roleName || owner != roleName {
			t.Fatalf("server has role %q owning the database as %q, Go named it %q", got, owner, roleName)
		}
		mustLogin(t, s, roleName, pw, dbName)
		t.Logf("%s/%s -> role %q (%d bytes), database %q", in.Namespace[:8]+"…", in.Name[len(in.Name)-4:], roleName, len(roleName), dbName)
	}
}

func TestDrop(t *testing.T) {
	s := sharedServer(t)
	conn := adminConn(t, s)
	m := newTestManager(t, ManagerOptions{})
	c := clusterFor(s, "main")
	roleName, dbName := names(t, "")
	role := DesiredRole{Name: roleName, Password: randomPassword()}
	mustEnsure(t, m, c, role, DesiredDatabase{Name: dbName}, "CreateRole,CreateDatabase")

	// Retain is not calling Drop: a new Manager (an operator restart) finds
	// both and changes nothing.
	m.Close()
	if _, err := m.Ensure(testCtx(t), c, role, DesiredDatabase{Name: dbName}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ensure on a closed Manager: %v", err)
	}
	m = newTestManager(t, ManagerOptions{})
	mustEnsure(t, m, c, role, DesiredDatabase{Name: dbName}, "")

	// Odoo still connected to the database: WITH (FORCE) closes it.
	cfg, _ := pgx.ParseConfig(s.ConnStringFor(dbName))
	cfg.User, cfg.Password = roleName, role.Password
	odoo, err := pgx.ConnectConfig(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = odoo.Close(context.Background()) }()

	actions, err := m.Drop(testCtx(t), c, roleName, dbName)
	if err != nil {
		t.Fatal(err)
	}
	if got := actionNames(actions); got != "DropDatabase,DropRole" {
		t.Fatalf("Drop applied %s", got)
	}
	var n int
	if err := conn.QueryRow(testCtx(t), `SELECT (SELECT count(*) FROM pg_database WHERE datname = $1)
		+ (SELECT count(*) FROM pg_roles WHERE rolname = $2)`, dbName, roleName).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d objects left, %v", n, err)
	}
	log := logUntilMarker(t, s, conn)
	if i, j := strings.Index(log, "DROP DATABASE IF EXISTS "+ident(dbName)+" WITH (FORCE)"), strings.Index(log, "DROP ROLE IF EXISTS "+ident(roleName)); i < 0 || j < i {
		t.Fatalf("DROP DATABASE at %d, DROP ROLE at %d", i, j)
	}
	if err := odoo.Ping(testCtx(t)); err == nil {
		t.Fatal("the open connection survived DROP DATABASE WITH (FORCE)")
	}

	// Again: nothing to do.
	if actions, err := m.Drop(testCtx(t), c, roleName, dbName); err != nil || len(actions) != 0 {
		t.Fatalf("second Drop: %v, %v", actions, err)
	}
	// Ensure after Drop starts over.
	mustEnsure(t, m, c, role, DesiredDatabase{Name: dbName}, "CreateRole,CreateDatabase")

	// A database the role does not own is never dropped.
	foreign := dbName + "_admin"
	mustExec(t, conn, "CREATE DATABASE "+ident(foreign))
	if _, err := m.Drop(testCtx(t), c, roleName, foreign); !errors.Is(err, ErrConflict) {
		t.Fatalf("Drop of a database owned by the admin: %v", err)
	}
	if ok, _ := m.DatabaseExists(testCtx(t), c, foreign); !ok {
		t.Fatal("a database the role does not own was dropped")
	}
}

func TestNonSuperuserAdmin(t *testing.T) {
	s := sharedServer(t)
	conn := adminConn(t, s)
	// Like a managed service's admin: CREATEROLE and CREATEDB, no superuser,
	// so pg_authid is unreadable.
	c := createAdmin(t, s, conn, "ops_"+randomHex(3), "CREATEROLE CREATEDB", randomPassword())
	const interval = 200 * time.Millisecond
	m := newTestManager(t, ManagerOptions{RecheckInterval: interval})
	roleName, dbName := names(t, "")
	role, db := DesiredRole{Name: roleName, Password: randomPassword()}, DesiredDatabase{Name: dbName}

	mustEnsure(t, m, c, role, db, "CreateRole,GrantRoleToAdmin,CreateDatabase")
	mustLogin(t, s, roleName, role.Password, dbName)
	time.Sleep(interval + 50*time.Millisecond)
	// The record says this password was set: nothing to do.
	if res := mustEnsure(t, m, c, role, db, ""); res.Cached {
		t.Fatal("not rechecked")
	}

	// After a restart the stored password cannot be checked: set once.
	m2 := newTestManager(t, ManagerOptions{RecheckInterval: interval})
	mustEnsure(t, m2, c, role, db, "SetRolePassword")
	time.Sleep(interval + 50*time.Millisecond)
	mustEnsure(t, m2, c, role, db, "")
	mustLogin(t, s, roleName, role.Password, dbName)

	// A new desired password is set.
	role.Password = randomPassword()
	mustEnsure(t, m2, c, role, db, "SetRolePassword")
	mustLogin(t, s, roleName, role.Password, dbName)

	actions, err := m2.Drop(testCtx(t), c, roleName, dbName)
	if err != nil || actionNames(actions) != "DropDatabase,DropRole" {
		t.Fatalf("Drop: %v, %v", actions, err)
	}

	// A database an admin pre-created is never taken over; once the admin
	// hands it to the role (the opt-in), it is adopted.
	roleName2, dbName2 := names(t, "precreated")
	admin, err := pgx.ConnectConfig(testCtx(t), func() *pgx.ConnConfig {
		cfg, _ := pgx.ParseConfig(s.ConnString())
		cfg.User, cfg.Password = c.AdminUser, c.AdminPassword
		return cfg
	}())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(context.Background()) }()
	mustExec(t, admin, "CREATE DATABASE "+ident(dbName2))
	if _, err := m2.Ensure(testCtx(t), c, DesiredRole{Name: roleName2, Password: role.Password}, DesiredDatabase{Name: dbName2}); !errors.Is(err, ErrConflict) {
		t.Fatalf("Ensure on a database the admin pre-created: %v", err)
	}
	mustExec(t, admin, "CREATE ROLE "+ident(roleName2)+" LOGIN")
	mustExec(t, conn, "ALTER DATABASE "+ident(dbName2)+" OWNER TO "+ident(roleName2))
	mustEnsure(t, m2, c, DesiredRole{Name: roleName2, Password: role.Password}, DesiredDatabase{Name: dbName2}, "SetRolePassword")
	mustLogin(t, s, roleName2, role.Password, dbName2)
	if _, err := m2.Drop(testCtx(t), c, roleName2, dbName2); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureConcurrent(t *testing.T) {
	s := sharedServer(t)
	m := newTestManager(t, ManagerOptions{RecheckInterval: time.Nanosecond})
	c := clusterFor(s, "concurrent")
	const instances, rounds = 12, 4
	var wg sync.WaitGroup
	errs := make(chan error, instances*rounds)
	roles := make([]DesiredRole, instances)
	dbs := make([]string, instances)
	for i := range instances {
		roles[i].Name, dbs[i] = names(t, strconv.Itoa(i))
		roles[i].Password = randomPassword()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				// The same instance from two goroutines at once, too.
				var inner sync.WaitGroup
				for range 2 {
					inner.Add(1)
					go func() {
						defer inner.Done()
						if _, err := m.Ensure(context.Background(), c, roles[i], DesiredDatabase{Name: dbs[i]}); err != nil {
							errs <- err
						}
					}()
				}
				inner.Wait()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := m.Stats()[c.Name]
	if st.TotalConns > DefaultMaxConns || st.NewConns > DefaultMaxConns {
		t.Fatalf("pool grew beyond MaxConns: %+v", st)
	}
	t.Logf("%d Ensure calls on %d instances: %+v", instances*rounds*2, instances, st)
	for i := range instances {
		mustLogin(t, s, roles[i].Name, roles[i].Password, dbs[i])
	}
}

func TestClusterSettingsChangeReplacesPool(t *testing.T) {
	s := sharedServer(t)
	conn := adminConn(t, s)
	adminName := "rotating_" + randomHex(3)
	c1 := createAdmin(t, s, conn, adminName, "SUPERUSER", randomPassword())
	m := newTestManager(t, ManagerOptions{})
	roleName, dbName := names(t, "")
	role, db := DesiredRole{Name: roleName, Password: randomPassword()}, DesiredDatabase{Name: dbName}
	mustEnsure(t, m, c1, role, db, "CreateRole,CreateDatabase")

	// The admin password is rotated: the old pool cannot log in any more,
	// the new settings get a new pool and the record is not trusted.
	c2 := c1
	c2.AdminPassword = randomPassword()
	v, _ := NewScramVerifier(c2.AdminPassword)
	mustExec(t, conn, "ALTER ROLE "+ident(adminName)+" PASSWORD "+quoteLiteral(v))
	before := m.Stats()[c1.Name]
	res := mustEnsure(t, m, c2, role, db, "")
	if res.Cached {
		t.Fatal("a record made with other cluster settings was trusted")
	}
	after := m.Stats()[c1.Name]
	if after.NewConns != 1 || before.NewConns != 1 {
		t.Fatalf("pool not replaced: before %+v after %+v", before, after)
	}
	// The old pool's connection is closed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := conn.QueryRow(testCtx(t), "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", adminName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d admin sessions, want 1", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestErrorsNeverContainPasswords(t *testing.T) {
	s := sharedServer(t)
	m := newTestManager(t, ManagerOptions{})
	rolePw := randomPassword()
	roleName, dbName := names(t, "")
	role, db := DesiredRole{Name: roleName, Password: rolePw}, DesiredDatabase{Name: dbName}

	wrong := clusterFor(s, "wrong-password")
	wrong.AdminPassword = testSecret + " " + randomHex(4)
	_, err := m.Ensure(testCtx(t), wrong, role, db)
	if !errors.Is(err, ErrAuthentication) {
		t.Fatalf("wrong admin password: %v", err)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Code != "28P01" || pe.Transient() {
		t.Fatalf("error %#v", pe)
	}
	t.Logf("authentication: %v", err)
	assertNoSecret(t, err.Error(), wrong.AdminPassword)
	assertNoSecret(t, err.Error(), rolePw)

	unknownUser := clusterFor(s, "unknown-user")
	unknownUser.AdminUser = "nobody_" + randomHex(3)
	unknownUser.AdminPassword = testSecret
	if _, err := m.Ensure(testCtx(t), unknownUser, role, db); !errors.Is(err, ErrAuthentication) {
		t.Fatalf("unknown admin: %v", err)
	} else {
		assertNoSecret(t, err.Error(), testSecret)
	}

	closed := clusterFor(s, "closed-port")
	closed.Port = int32(freeTCPPort(t))
	closed.AdminPassword = testSecret
	start := time.Now()
	_, err = m.Ensure(testCtx(t), closed, role, db)
	if !errors.Is(err, ErrUnreachable) || !errors.As(err, &pe) || !pe.Transient() {
		t.Fatalf("closed port: %v", err)
	}
	t.Logf("unreachable after %v: %v", time.Since(start).Round(time.Millisecond), err)
	assertNoSecret(t, err.Error(), testSecret)
	assertNoSecret(t, err.Error(), rolePw)

	tlsRequired := clusterFor(s, "tls-required")
	tlsRequired.SSLMode = SSLModeRequire
	if _, err := m.Ensure(testCtx(t), tlsRequired, role, db); !errors.Is(err, ErrTLS) {
		t.Fatalf("sslmode=require on a server without TLS: %v", err)
	} else {
		t.Logf("TLS: %v", err)
	}

	// A server that accepts TCP connections but never answers: the deadline
	// expires while connecting, reported as unreachable and as the context's
	// error.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	silent := clusterFor(s, "silent")
	silent.Port = int32(l.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = m.Ensure(ctx, silent, role, db)
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline while connecting: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("deadline of 500ms honoured after %v", d)
	}
	t.Logf("silent server: %v", err)
}

func freeTCPPort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

func TestUnknownClusterAndMissingDefault(t *testing.T) {
	cs, err := ParseClusters([]byte("b:\n  host: h\n  adminUser: u\n  adminPassword: p\na:\n  host: h\n  adminUser: u\n  adminPassword: p\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.Resolve("")
	if !errors.Is(err, ErrNoDefaultCluster) {
		t.Fatalf("missing default: %v", err)
	}
	if want := "no cluster in clusters.yaml has default: true and none was named (known clusters: a, b)"; !strings.Contains(err.Error(), want) {
		t.Fatalf("message %q", err)
	}
	_, err = cs.Resolve("c")
	var u *UnknownClusterError
	if !errors.As(err, &u) || fmt.Sprint(u.Known) != "[a b]" {
		t.Fatalf("unknown cluster: %v", err)
	}
}
