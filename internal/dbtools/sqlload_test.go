package dbtools_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
)

// What pg_dump writes, including the corners (semicolons and backslashes
// in function bodies and strings, a BEGIN ATOMIC body, COPY escapes, CRLF
// line ends, pg_dump's \restrict lines), loads as psql would load it.
func TestLoadSQL(t *testing.T) {
	s := dbtoolstest.Server(t)
	db := dbtoolstest.Name(t, "load")
	dbtoolstest.CreateEmpty(t, s, db)
	dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, db)
	script := strings.ReplaceAll(`\restrict k3y
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE FUNCTION public.squash(x text) RETURNS text LANGUAGE plpgsql IMMUTABLE
    AS $_$ BEGIN RETURN regexp_replace(x, '\s+', ' ', 'g'); END; $_$;
CREATE FUNCTION public.one() RETURNS integer LANGUAGE sql
    BEGIN ATOMIC
     SELECT 1;
    END;
CREATE TABLE public.note (id integer, body text, "we;ird" text DEFAULT 'a;b\c');
COMMENT ON TABLE public.note IS E'it\'s; a note';
COPY public.note (id, body, "we;ird") FROM stdin;
1	tab\there	x
2	\N	back\\slash; \! not a command
\.
SELECT 1; SELECT 2;
\unrestrict k3y
`, "\n", "\r\n")
	var stderr bytes.Buffer
	if err := dbtools.LoadSQL(dbtoolstest.Ctx(t), db, strings.NewReader(script), dbtools.LoadSQLOptions{Name: "dump.sql", Stderr: &stderr}); err != nil {
		t.Fatalf("LoadSQL: %v\n%s", err, stderr.String())
	}
	conn := dbtoolstest.Connect(t, s, db)
	var body, weird, squashed, comment string
	var one int
	if err := conn.QueryRow(dbtoolstest.Ctx(t), `SELECT (SELECT body FROM public.note WHERE id = 1), (SELECT "we;ird" FROM public.note WHERE id = 2),
		public.squash('a  b'), public.one(), obj_description('public.note'::regclass)`).Scan(&body, &weird, &squashed, &one, &comment); err != nil {
		t.Fatal(err)
	}
	// COPY's text format reads \\ as \ and \! as !.
	if body != "tab\there" || weird != `back\slash; ! not a command` || squashed != "a b" || one != 1 || comment != "it's; a note" {
		t.Fatalf("loaded %q %q %q %d %q", body, weird, squashed, one, comment)
	}
}

// The first failing statement stops the load, names its line and rolls
// back everything before it; so does a meta-command.
func TestLoadSQLStopsAndRollsBack(t *testing.T) {
	s := dbtoolstest.Server(t)
	for _, tc := range []struct{ name, script, want string }{
		{"server error", "CREATE TABLE public.a (x int);\n\nSELECT no_such_column FROM public.a;\nCREATE TABLE public.b (x int);\n", "dump.sql line 3: ERROR: column \"no_such_column\" does not exist"},
		{"meta-command", "CREATE TABLE public.a (x int);\nSELECT 1; \\! id\n", "dump.sql line 2:"},
		{"bad COPY data", "CREATE TABLE public.a (x int);\nCOPY public.a (x) FROM stdin;\nnot a number\n\\.\n", "dump.sql line 2: ERROR: invalid input syntax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := dbtoolstest.Name(t, "stop")
			dbtoolstest.CreateEmpty(t, s, db)
			dbtoolstest.SetPGEnv(t, s, s.AdminUser, s.AdminPassword, db)
			err := dbtools.LoadSQL(dbtoolstest.Ctx(t), db, strings.NewReader(tc.script), dbtools.LoadSQLOptions{Name: "dump.sql"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadSQL: %v, want %q", err, tc.want)
			}
			if tc.name == "meta-command" && !errors.Is(err, dbtools.ErrMetaCommand) {
				t.Errorf("%v is not ErrMetaCommand", err)
			}
			if n := dbtoolstest.RelationCount(t, s, db); n != 0 {
				t.Fatalf("the failed load left %d relations", n)
			}
		})
	}
}
