package restorejob

import (
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
)

func TestImageSeries(t *testing.T) {
	for image, want := range map[string]string{
		"odoo:18.0":                        "18.0",
		"odoo:18.0-20260101":               "18.0",
		"registry:5000/odoo:17.0@sha256:x": "17.0",
		"registry:5000/odoo":               "",
		"odoo:latest":                      "",
		"odoo@sha256:abc":                  "",
		"ghcr.io/x/odoo:saas~17.1":         "saas~17.1",
		"odoo:18.00":                       "18.00",
		"odoo:180":                         "",
	} {
		if got := ImageSeries(image); got != want {
			t.Errorf("ImageSeries(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestCheckModules(t *testing.T) {
	base := func(state, version string) []dbtools.Module {
		return []dbtools.Module{{Name: "base", State: state, LatestVersion: version}, {Name: "sale", State: "installed"}}
	}
	if msg := CheckModules(base("installed", "18.0.1.3"), "odoo:18.0-20260101"); msg != "" {
		t.Errorf("same series refused: %s", msg)
	}
	if msg := CheckModules(base("installed", "17.0.1.3"), "odoo:18.0"); msg != "backup is from Odoo series 17.0, the instance runs 18.0" {
		t.Errorf("other series: %q", msg)
	}
	if msg := CheckModules(base("installed", "17.0.1.3"), "odoo:latest"); msg != "" {
		t.Errorf("unknown image series refused: %s", msg)
	}
	if msg := CheckModules(base("uninstalled", "18.0.1.3"), "odoo:18.0"); msg == "" {
		t.Error("base not installed accepted")
	}
	if msg := CheckModules(nil, "odoo:18.0"); msg == "" {
		t.Error("no modules accepted")
	}
}
