package pgtool

import "testing"

func TestTailKeepsTheEndAndTheDiagnostics(t *testing.T) {
	tb := &Tail{max: 64}
	for range 100 {
		_, _ = tb.Write([]byte("pg_restore: processing item\n"))
	}
	if len(tb.buf) > 64 {
		t.Fatalf("tail holds %d bytes", len(tb.buf))
	}
	if got := tb.LastLines(3); got != "pg_restore: processing item | pg_restore: processing item" {
		t.Fatalf("LastLines = %q", got)
	}
	tb = &Tail{max: 4096}
	_, _ = tb.Write([]byte("pg_restore: error: could not execute query: ERROR:  boom\nCommand was: CREATE TABLE x (\n  a int\n);\n"))
	if got := tb.LastLines(3); got != "pg_restore: error: could not execute query: ERROR:  boom" {
		t.Fatalf("LastLines = %q", got)
	}
}

func TestConninfoDBName(t *testing.T) {
	for in, want := range map[string]string{
		"odoo":          `dbname='odoo'`,
		`it's=\x`:       `dbname='it\'s=\\x'`,
		"postgres://h/": `dbname='postgres://h/'`,
	} {
		if got := ConninfoDBName(in); got != want {
			t.Errorf("ConninfoDBName(%q) = %s, want %s", in, got, want)
		}
	}
}
