package fsswap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	live   = "shop"
	target = "shop_restore_1a2b3c4d"
	kept   = "shop_pre_restore_1a2b3c4d"
)

// layout creates the named directories under a new dir, each holding a file
// whose content is the directory's origin ("live" or "backup").
func layout(t *testing.T, dirs map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, origin := range dirs {
		if err := os.MkdirAll(filepath.Join(root, name, "ab"), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name, "ab", "file"), []byte(origin), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// contents maps each directory of root to the origin of its file.
func contents(t *testing.T, root string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(root, e.Name(), "ab", "file"))
		if os.IsNotExist(err) {
			b = []byte("empty")
		} else if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSwap: from every state a run can leave (before, after the first
// rename, after both), Swap ends with the backup's filestore under the live
// name and the previous one kept, and running it again changes nothing.
func TestSwap(t *testing.T) {
	done := map[string]string{live: "backup", kept: "live"}
	for _, tc := range []struct {
		name  string
		start map[string]string
		want  map[string]string
		moved bool
	}{
		{"fresh", map[string]string{live: "live", target: "backup"}, done, true},
		{"resumed after the live one was moved aside", map[string]string{kept: "live", target: "backup"}, done, true},
		{"resumed after both renames", done, done, true},
		{"no live filestore yet", map[string]string{target: "backup"}, map[string]string{live: "backup", kept: "empty"}, true},
		{"the backup held no filestore", map[string]string{live: "live"}, map[string]string{live: "live"}, false},
		{"no filestore at all", map[string]string{}, map[string]string{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := layout(t, tc.start)
			for run := 1; run <= 2; run++ {
				moved, err := Swap(root, live, target, kept)
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if moved != tc.moved {
					t.Errorf("run %d: moved = %v, want %v", run, moved, tc.moved)
				}
				if got := contents(t, root); !equal(got, tc.want) {
					t.Fatalf("run %d: directories %v, want %v", run, got, tc.want)
				}
			}
		})
	}
}

// TestSwapRefusesUnknownStates: states no run of Swap leaves are refused
// with the names found, and nothing is moved.
func TestSwapRefusesUnknownStates(t *testing.T) {
	for _, start := range []map[string]string{
		{live: "live", target: "backup", kept: "other"},
		{kept: "live"},
	} {
		root := layout(t, start)
		_, err := Swap(root, live, target, kept)
		if err == nil || !strings.Contains(err.Error(), "nothing was moved") || !strings.Contains(err.Error(), kept) {
			t.Errorf("%v: error %v", start, err)
		}
		if got := contents(t, root); !equal(got, start) {
			t.Errorf("%v: directories changed to %v", start, got)
		}
	}
}

func TestSwapRefusesBadNames(t *testing.T) {
	root := t.TempDir()
	for _, names := range [][3]string{
		{"", target, kept}, {live, "../etc", kept}, {live, target, "a/b"}, {live, live, kept}, {live, target, target}, {"..", target, kept},
	} {
		if _, err := Swap(root, names[0], names[1], names[2]); err == nil {
			t.Errorf("%q accepted", names)
		}
	}
	if err := os.WriteFile(filepath.Join(root, target), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Swap(root, live, target, kept); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file named like the target: %v", err)
	}
}
