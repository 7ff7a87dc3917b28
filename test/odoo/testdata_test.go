package odoo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/testutil/odooharness"
)

// tempDir matches the per-test data directories given to Odoo.
var tempDir = regexp.MustCompile(`/tmp/Test[^/ ']*/[0-9]+`)

// realDir is where ODOO_LOGS_UPDATE=1 writes the runs' material.
func realDir() string {
	return filepath.Join(odooharness.RepoRoot(), "internal", "logwatch", "testdata", "real")
}

func updating() bool { return os.Getenv("ODOO_LOGS_UPDATE") == "1" }

// saveLog writes a run's log as testdata, with the machine's paths replaced
// by stable ones (/opt/odoo for Odoo, /src/odoo-operator for this
// repository) so the files do not change with the checkout.
func saveLog(t *testing.T, name string, log []byte) {
	t.Helper()
	if !updating() {
		return
	}
	o := odooharness.Find(t)
	s := strings.ReplaceAll(string(log), o.Root, "/opt/odoo/odoo-18.0")
	s = strings.ReplaceAll(s, odooharness.RepoRoot(), "/src/odoo-operator")
	s = tempDir.ReplaceAllString(s, "/var/lib/odoo")
	write(t, name+".log", []byte(s))
}

// saveModules writes ir_module_module's installed rows as testdata.
func saveModules(t *testing.T, name string, mods []dbtools.Module) {
	t.Helper()
	if !updating() {
		return
	}
	b, err := json.MarshalIndent(mods, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	write(t, "modules-"+name+".json", append(b, '\n'))
}

func write(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(realDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(realDir(), name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
