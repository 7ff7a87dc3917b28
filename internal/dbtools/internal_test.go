package dbtools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
