package dbtools

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

type scanned struct {
	sql  string
	line int
	copy bool
	data string
}

func scanAll(t testing.TB, script string) ([]scanned, error) {
	t.Helper()
	sc := NewSQLScanner(strings.NewReader(script))
	var out []scanned
	for {
		it, err := sc.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		s := scanned{sql: it.SQL, line: it.Line, copy: it.Copy}
		if it.Data != nil {
			b, err := io.ReadAll(it.Data)
			if err != nil {
				return out, err
			}
			s.data = string(b)
		}
		out = append(out, s)
	}
}

// What pg_dump writes is split as psql splits it.
func TestSQLScannerSplitsADump(t *testing.T) {
	script := `--
-- PostgreSQL database dump
--
\restrict Ab12Cd34

SET statement_timeout = 0;
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE FUNCTION public.f(x text) RETURNS text
    LANGUAGE plpgsql
    AS $_$ BEGIN RETURN regexp_replace(x, '\s+;', ' '); END; $_$;

CREATE FUNCTION public.g() RETURNS integer
    LANGUAGE sql
    BEGIN ATOMIC
     SELECT 1;
     SELECT CASE WHEN true THEN 2 END;
    END;

CREATE TABLE public.res_partner (
    id integer NOT NULL,
    name character varying, -- comment; with a semicolon
    "we;ird" text DEFAULT 'it''s; \n' /* nested /* ; */ ; */
);

COMMENT ON TABLE public.res_partner IS E'line\';two';

COPY public.res_partner (id, name, "we;ird") FROM stdin;
1	Azure\tInterior	\N
2	\\! not a command;	x
\.

SELECT pg_catalog.setval('public.res_partner_id_seq', 2, true); SELECT 1;

\unrestrict Ab12Cd34
`
	got, err := scanAll(t, script)
	if err != nil {
		t.Fatal(err)
	}
	want := []scanned{
		{sql: "SET statement_timeout = 0;", line: 6},
		{sql: "SET standard_conforming_strings = on;", line: 7},
		{sql: "SELECT pg_catalog.set_config('search_path', '', false);", line: 8},
		{sql: "CREATE FUNCTION public.f(x text) RETURNS text\n    LANGUAGE plpgsql\n    AS $_$ BEGIN RETURN regexp_replace(x, '\\s+;', ' '); END; $_$;", line: 10},
		{sql: "CREATE FUNCTION public.g() RETURNS integer\n    LANGUAGE sql\n    BEGIN ATOMIC\n     SELECT 1;\n     SELECT CASE WHEN true THEN 2 END;\n    END;", line: 14},
		{sql: "CREATE TABLE public.res_partner (\n    id integer NOT NULL,\n    name character varying, -- comment; with a semicolon\n    \"we;ird\" text DEFAULT 'it''s; \\n' /* nested /* ; */ ; */\n);", line: 21},
		{sql: "COMMENT ON TABLE public.res_partner IS E'line\\';two';", line: 27},
		{sql: "COPY public.res_partner (id, name, \"we;ird\") FROM stdin;", line: 29, copy: true, data: "1\tAzure\\tInterior\t\\N\n2\t\\\\! not a command;\tx\n"},
		{sql: "SELECT pg_catalog.setval('public.res_partner_id_seq', 2, true);", line: 34},
		{sql: "SELECT 1;", line: 34},
	}
	if len(got) != len(want) {
		t.Fatalf("%d items, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// Every way psql runs a meta-command is refused, naming the line, and
// nothing after it is returned.
func TestSQLScannerRefusesMetaCommands(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		line         int
	}{
		{"shell", "SELECT 1;\n\\! touch /tmp/pwned\n", 2},
		{"pipe output", "\\o |sh -c id\nSELECT 1;\n", 1},
		{"copy to program", "\\copy (select 1) to program 'touch /tmp/pwned'\n", 1},
		{"after a semicolon", "SELECT 1; \\! touch /tmp/pwned\n", 1},
		{"inside a statement", "SELECT 1 \\! touch /tmp/pwned\n;\n", 1},
		{"statement separator", "SELECT 1 \\; SELECT 2;\n", 1},
		{"include a file", "\\i /etc/passwd\n", 1},
		{"set a variable", "\\set x 1\n", 1},
		{"connect elsewhere", "\\connect postgres\n", 1},
		{"restrict with a command after", "\\restrict k \\! id\n", 1},
		{"after COPY data ends", "COPY t (a) FROM stdin;\n1\n\\.\n\\! id\n", 4},
		{"end marker without a COPY", "SELECT 1;\n\\.\n", 2},
		{"after a closed string", "SELECT 'a'\\! id\n", 1},
		{"after a closed dollar quote", "SELECT $$x$$ \\! id;\n", 1},
		{"after a block comment", "/* x */ \\! id\n", 1},
		{"at the end without newline", "SELECT 1;\n\\! id", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scanAll(t, tc.script)
			if !errors.Is(err, ErrMetaCommand) {
				t.Fatalf("err = %v, want ErrMetaCommand (items %+v)", err, got)
			}
			if want := "line " + string(rune('0'+tc.line)) + ":"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
			for _, it := range got {
				if strings.Contains(it.sql, `\`) {
					t.Errorf("a statement with a backslash was returned: %q", it.sql)
				}
			}
		})
	}
}

// Text after a COPY FROM STDIN statement on its line would be run by psql
// after the data: refused.
func TestSQLScannerRefusesTextAfterCopy(t *testing.T) {
	if _, err := scanAll(t, "COPY t (a) FROM stdin; SELECT 1;\n1\n\\.\n"); err == nil || !strings.Contains(err.Error(), "after a COPY") {
		t.Fatalf("err = %v", err)
	}
}

func TestSQLScannerUnterminated(t *testing.T) {
	got, err := scanAll(t, "SELECT 1;\nSELECT 2")
	if err != nil || len(got) != 2 || got[1].sql != "SELECT 2" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := scanAll(t, "SELECT 'open\n"); err == nil {
		t.Fatal("an unterminated string was accepted")
	}
}

// FuzzSQLScanner: whatever the script, the scanner does not panic, and no
// backslash outside a quoted string, a comment or COPY data reaches a
// statement: a statement's backslashes are inside quotes or comments,
// which the server (not psql) reads. Reassembled, the items are the input
// minus what the scanner may drop (blank space between statements, leading
// comments, restrict lines, COPY end markers).
func FuzzSQLScanner(f *testing.F) {
	for _, s := range []string{
		"SELECT 1;\n", "\\! id\n", "COPY t FROM stdin;\n1\n\\.\n", "SELECT 'a\\'; \\! id';\n",
		"SELECT E'a\\'; \\! id';\n", "SELECT $a$ \\! $a$; \\! id\n", "/* /* */ \\! */ \\! id\n",
		"CREATE FUNCTION f() BEGIN ATOMIC SELECT 1; END; \\! id\n", "SELECT \"a\\\" \\! id\";\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		sc := NewSQLScanner(strings.NewReader(script))
		for range 10000 {
			it, err := sc.Next()
			if err != nil {
				return
			}
			if it.Data != nil {
				if _, err := io.Copy(io.Discard, it.Data); err != nil {
					return
				}
			}
			if !bytes.Contains([]byte(script), []byte(strings.TrimSpace(it.SQL))) && !strings.Contains(it.SQL, "\n") {
				t.Fatalf("statement %q is not from the script", it.SQL)
			}
			if i := unquotedBackslash(it.SQL); i >= 0 {
				t.Fatalf("statement %q has a backslash outside quotes at %d", it.SQL, i)
			}
		}
	})
}

// unquotedBackslash is an independent, simple check: the index of a
// backslash outside '...', E'...', "...", $tag$...$tag$ and comments, -1
// if none. It is deliberately written apart from the scanner.
func unquotedBackslash(s string) int {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			return i
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return -1
			}
			i += j
		case strings.HasPrefix(s[i:], "/*"):
			depth := 1
			i += 2
			for ; i < len(s) && depth > 0; i++ {
				switch {
				case strings.HasPrefix(s[i:], "/*"):
					depth++
					i++
				case strings.HasPrefix(s[i:], "*/"):
					depth--
					i++
				}
			}
			i--
		case s[i] == '\'' || s[i] == '"':
			q := s[i]
			escapes := q == '\'' && i > 0 && (s[i-1] == 'E' || s[i-1] == 'e')
			for i++; i < len(s); i++ {
				if escapes && s[i] == '\\' {
					i++
					continue
				}
				if s[i] == q {
					if i+1 < len(s) && s[i+1] == q {
						i++
						continue
					}
					break
				}
			}
		case s[i] == '$':
			if tag := dollarTag([]byte(s[i:])); tag != nil && (i == 0 || !identByte(s[i-1])) {
				end := strings.Index(s[i+len(tag):], string(tag))
				if end < 0 {
					return -1
				}
				i += len(tag) + end + len(tag) - 1
			}
		}
	}
	return -1
}
