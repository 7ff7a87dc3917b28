// Package dbtoolstest is the test fixture of the dbtools package and of
// the `odoo-operator data` command: a shared throwaway PostgreSQL server
// and an Odoo-like database (ir_module_module and a few business tables
// with bytea, NULLs and awkward names) created in it.
package dbtoolstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

var shared struct {
	once sync.Once
	srv  *pgharness.Server
	err  error
}

// Server returns the server shared by the tests of the package (started on
// first use). Tests use distinct database names.
func Server(t testing.TB) *pgharness.Server {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = pgharness.StartMain() })
	if shared.err != nil {
		t.Fatalf("pgharness: %v", shared.err)
	}
	return shared.srv
}

// CloseServer stops the shared server, if it was started; call it from
// TestMain.
func CloseServer() {
	if shared.srv != nil {
		_ = shared.srv.Close()
	}
}

// Ctx is a context bounded to a minute, cancelled at the end of the test.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Connect connects to db as the superuser, closing the connection at the
// end of the test.
func Connect(t testing.TB, s *pgharness.Server, db string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(Ctx(t), s.ConnStringFor(db))
	if err != nil {
		t.Fatalf("connecting to %q: %v", db, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// Exec runs statements, failing the test on the first error.
func Exec(t testing.TB, conn *pgx.Conn, stmts ...string) {
	t.Helper()
	for _, sql := range stmts {
		if _, err := conn.Exec(Ctx(t), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// Name returns a database or role name unique to the test.
func Name(t testing.TB, suffix string) string {
	base := unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(base) > 30 {
		base = base[len(base)-30:]
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return strings.Trim("t_"+base+"_"+suffix, "_") + "_" + hex.EncodeToString(b)
}

// SetPGEnv points the libpq environment of the test process at the server,
// as user with password, database db.
func SetPGEnv(t testing.TB, s *pgharness.Server, user, password, db string) {
	t.Setenv("PGHOST", s.Host)
	t.Setenv("PGPORT", strconv.Itoa(s.Port))
	t.Setenv("PGUSER", user)
	t.Setenv("PGPASSWORD", password)
	t.Setenv("PGDATABASE", db)
	t.Setenv("PGSSLMODE", "disable")
	t.Setenv("PGCONNECT_TIMEOUT", "10")
}

// CreateEmpty creates the empty database name, owned by the superuser.
func CreateEmpty(t testing.TB, s *pgharness.Server, name string) {
	t.Helper()
	if err := dbtools.CreateEmptyDatabase(Ctx(t), Connect(t, s, "postgres"), name, s.AdminUser); err != nil {
		t.Fatal(err)
	}
}

// Checksums returns dbtools.TableChecksums of db.
func Checksums(t testing.TB, s *pgharness.Server, db string) map[string]string {
	t.Helper()
	conn := Connect(t, s, db)
	defer func() { _ = conn.Close(context.Background()) }()
	sums, err := dbtools.TableChecksums(Ctx(t), conn)
	if err != nil {
		t.Fatalf("TableChecksums(%s): %v", db, err)
	}
	return sums
}

// AssertUntouched checks that no session ever ran a statement in db (the
// server logs every statement with user@database) and that it is empty.
func AssertUntouched(t testing.TB, s *pgharness.Server, db string) {
	t.Helper()
	admin := Connect(t, s, "postgres")
	marker := "marker_" + strings.ReplaceAll(Name(t, ""), "-", "_")
	Exec(t, admin, "SELECT '"+marker+"'")
	if err := s.WaitForLog(marker, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	log, err := s.ReadLog()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log, "@"+db+" ") {
		t.Fatalf("something ran in database %s:\n%s", db, log)
	}
	if n := RelationCount(t, s, db); n != 0 {
		t.Fatalf("database %s holds %d relations", db, n)
	}
}

// RelationCount counts the relations of schema public in db.
func RelationCount(t testing.TB, s *pgharness.Server, db string) int {
	t.Helper()
	var n int
	if err := Connect(t, s, db).QueryRow(Ctx(t),
		"SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// FixtureModules are the modules of the fixture as ReadModules returns
// them: sorted, without the uninstallable l10n_zz.
var FixtureModules = []dbtools.Module{
	{Name: "account", State: "installed", LatestVersion: "18.0.1.2"},
	{Name: "base", State: "installed", LatestVersion: "18.0.1.3"},
	{Name: "sale", State: "installed", LatestVersion: "18.0.1.0"},
	{Name: "sale_stock", State: "installed", LatestVersion: "18.0.1.0"},
	{Name: "stock", State: "installed", LatestVersion: "18.0.1.1"},
	{Name: "web", State: "installed", LatestVersion: "18.0.1.0"},
	{Name: "website", State: "uninstalled", LatestVersion: ""},
}

// FixtureTables are the tables of schema public in the fixture.
var FixtureTables = []string{"Weird \"Table\" Name", "ir_attachment", "ir_config_parameter", "ir_module_module", "res_partner"}

// FixtureSQL builds an Odoo-like schema with data in the current database.
const FixtureSQL = `
CREATE TABLE ir_module_module (
  id serial PRIMARY KEY,
  name varchar NOT NULL UNIQUE,
  state varchar(16),
  latest_version varchar,
  auto_install boolean DEFAULT false,
  demo boolean DEFAULT false
);
INSERT INTO ir_module_module (name, state, latest_version) VALUES
  ('base', 'installed', '18.0.1.3'),
  ('web', 'installed', '18.0.1.0'),
  ('sale', 'installed', '18.0.1.0'),
  ('stock', 'installed', '18.0.1.1'),
  ('sale_stock', 'installed', '18.0.1.0'),
  ('account', 'installed', '18.0.1.2'),
  ('website', 'uninstalled', NULL),
  ('l10n_zz', 'uninstallable', NULL);

CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar NOT NULL UNIQUE, value text NOT NULL);
INSERT INTO ir_config_parameter (key, value) VALUES
  ('database.uuid', '6a1f5c1e-0000-4000-8000-000000000001'),
  ('web.base.url', 'https://odoo.example.com');

CREATE TABLE res_partner (
  id serial PRIMARY KEY,
  name varchar NOT NULL,
  email varchar,
  active boolean,
  credit numeric(16,2),
  ratio double precision,
  write_date timestamp,
  create_date timestamptz,
  comment text,
  image_1920 bytea
);
CREATE INDEX res_partner_email_idx ON res_partner (email);
INSERT INTO res_partner (name, email, active, credit, ratio, write_date, create_date, comment, image_1920) VALUES
  ('Azure Interior', 'azure@example.com', true, 1234.50, 0.1, '2024-01-02 03:04:05', '2024-01-02 03:04:05+02',
   E'multi\nline "quoted" it''s \\ back', '\x89504e470d0a1a0a0000ff'::bytea),
  ('Élodie Ünïcode ✓', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  ('Empty strings', '', false, 0, -1e-300, 'infinity', '1999-12-31 23:59:59.999999+00', '', ''::bytea);
SELECT setval('res_partner_id_seq', 41);

CREATE TABLE ir_attachment (
  id serial PRIMARY KEY,
  name varchar,
  res_model varchar,
  res_id integer REFERENCES res_partner (id) ON DELETE SET NULL,
  mimetype varchar,
  db_datas bytea
);
INSERT INTO ir_attachment (name, res_model, res_id, mimetype, db_datas) VALUES
  ('big.bin', 'res.partner', 1, 'application/octet-stream',
   (SELECT string_agg(decode(md5(i::text), 'hex'), ''::bytea) FROM generate_series(1, 20000) AS i)),
  ('empty.txt', 'res.partner', 2, 'text/plain', NULL);

CREATE TABLE "Weird ""Table"" Name" (t integer, "x y" text);
INSERT INTO "Weird ""Table"" Name" VALUES (1, 'a'), (2, NULL), (2, NULL);

CREATE VIEW res_partner_active AS SELECT id, name FROM res_partner WHERE active;
`

// CreateFixture creates database db (owned by owner, the superuser when
// empty) and fills it with FixtureSQL, run as owner; no session on it is
// left open.
func CreateFixture(t testing.TB, s *pgharness.Server, db, owner string) {
	t.Helper()
	admin := Connect(t, s, "postgres")
	create := "CREATE DATABASE " + pgx.Identifier{db}.Sanitize() + " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C'"
	if owner != "" {
		create += " OWNER " + pgx.Identifier{owner}.Sanitize()
	}
	Exec(t, admin, create)
	_ = admin.Close(context.Background())
	conn := Connect(t, s, db)
	if owner != "" {
		Exec(t, conn, "SET ROLE "+pgx.Identifier{owner}.Sanitize())
	}
	Exec(t, conn, FixtureSQL)
	_ = conn.Close(context.Background())
}
