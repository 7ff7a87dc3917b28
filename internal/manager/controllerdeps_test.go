package manager

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/odoo-operator/odoo-operator/"

// TestNoControllerImportsAnother: no package under internal/controller
// depends, directly or through other packages of the module, on another
// one: what controllers share lives below them (internal/operation,
// internal/datajob, internal/tiers, internal/postgres). It is `go list
// -deps` restricted to the module, read with go/build (no compilation).
func TestNoControllerImportsAnother(t *testing.T) {
	root := filepath.Join("..", "..")
	entries, err := os.ReadDir(filepath.Join(root, "internal", "controller"))
	if err != nil {
		t.Fatal(err)
	}
	controllers := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		controllers++
		self := module + "internal/controller/" + e.Name()
		for dep := range moduleDeps(t, root, self) {
			if strings.HasPrefix(dep, module+"internal/controller/") && dep != self {
				t.Errorf("%s depends on %s", self, dep)
			}
		}
	}
	if controllers < 3 {
		t.Fatalf("found %d controller packages under internal/controller, want at least 3", controllers)
	}
}

// moduleDeps is the transitive closure of pkg's non-test imports inside the
// module.
func moduleDeps(t *testing.T, root, pkg string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	queue := []string{pkg}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		bp, err := build.ImportDir(filepath.Join(root, strings.TrimPrefix(p, module)), 0)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, imp := range bp.Imports {
			if strings.HasPrefix(imp, module) && !seen[imp] {
				seen[imp] = true
				queue = append(queue, imp)
			}
		}
	}
	return seen
}
