package dbtools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTailBufferKeepsTheEndAndTheDiagnostics(t *testing.T) {
	tb := &tailBuffer{max: 64}
	for range 100 {
		_, _ = tb.Write([]byte("pg_restore: processing item\n"))
	}
	if len(tb.buf) > 64 {
		t.Fatalf("tail holds %d bytes", len(tb.buf))
	}
	if got := tb.lastLines(3); got != "pg_restore: processing item | pg_restore: processing item" {
		t.Fatalf("lastLines = %q", got)
	}
	tb = &tailBuffer{max: 4096}
	_, _ = tb.Write([]byte("pg_restore: error: could not execute query: ERROR:  boom\nCommand was: CREATE TABLE x (\n  a int\n);\n"))
	if got := tb.lastLines(3); got != "pg_restore: error: could not execute query: ERROR:  boom" {
		t.Fatalf("lastLines = %q", got)
	}
}

func TestConninfoDBName(t *testing.T) {
	for in, want := range map[string]string{
		"odoo":          `dbname='odoo'`,
		`it's=\x`:       `dbname='it\'s=\\x'`,
		"postgres://h/": `dbname='postgres://h/'`,
	} {
		if got := conninfoDBName(in); got != want {
			t.Errorf("conninfoDBName(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestReadChecksumAcceptsSha256sumOutput(t *testing.T) {
	dir := t.TempDir()
	sum := strings.Repeat("AB", 32)
	for _, line := range []string{sum + "  x.dump\n", sum + " *x.dump\n", sum} {
		p := filepath.Join(dir, "x.sha256")
		if err := os.WriteFile(p, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := readChecksum(p); err != nil || got != strings.ToLower(sum) {
			t.Fatalf("readChecksum(%q) = %q, %v", line, got, err)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{{"short", 10, "short"}, {"abcdef", 5, "ab…"}, {"→→→", 7, "→…"}, {"abc", 2, ""}} {
		if got := truncate(c.in, c.n); got != c.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
