package modules

import (
	"fmt"
	"testing"

	. "github.com/onsi/gomega"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
)

// v1DB is a database initialised on the sandbox's odoo:18.0-v1 (the test
// add-ons installed with base).
var v1DB = []dbtools.Module{
	{Name: "base", State: "installed", LatestVersion: "18.0.1.3"},
	{Name: "web", State: "installed", LatestVersion: "18.0.1.0"},
	{Name: "odoo_operator_shop", State: "installed", LatestVersion: "18.0.1.0.0"},
	{Name: "odoo_operator_shop_report", State: "installed", LatestVersion: "18.0.1.0.0"},
	{Name: "sale", State: "uninstalled"},
}

func image(series, shop, report string) []Shipped {
	out := []Shipped{
		{Name: "base", Version: series + ".1.3", Installable: true},
		{Name: "web", Version: series + ".1.0", Depends: []string{"base"}, Installable: true},
	}
	if shop != "" {
		out = append(out, Shipped{Name: "odoo_operator_shop", Version: shop, Depends: []string{"base"}, Installable: true})
	}
	if report != "" {
		out = append(out, Shipped{Name: "odoo_operator_shop_report", Version: report, Depends: []string{"odoo_operator_shop"}, Installable: true})
	}
	return out
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name        string
		db          []dbtools.Module
		img         []Shipped
		allowSeries bool
		want        []Problem // Message compared by substring
	}{
		{name: "same image", db: v1DB, img: image("18.0", "18.0.1.0.0", "18.0.1.0.0")},
		{name: "newer versions (v1 to v2)", db: v1DB, img: image("18.0", "18.0.2.0.0", "18.0.2.0.0")},
		{name: "an uninstalled module need not be shipped", db: v1DB, img: image("18.0", "18.0.1.0.0", "18.0.1.0.0")},
		{name: "an extra module in the image is fine", db: v1DB,
			img: append(image("18.0", "18.0.1.0.0", "18.0.1.0.0"), Shipped{Name: "crm", Version: "18.0.1.0", Installable: true})},
		{name: "installed module absent (variant missing)", db: v1DB, img: image("18.0", "18.0.1.0.0", ""), want: []Problem{
			{Reason: odoov1alpha2.ReasonPreflightModulesMissing, Message: "missing from the new image (or not installable in it): odoo_operator_shop_report; add them to the image, or uninstall them first"},
		}},
		{name: "installed module not installable in the image", db: v1DB, img: func() []Shipped {
			img := image("18.0", "18.0.1.0.0", "18.0.1.0.0")
			img[3].Installable = false
			return img
		}(), want: []Problem{{Reason: odoov1alpha2.ReasonPreflightModulesMissing, Message: ": odoo_operator_shop_report;"}}},
		{name: "a module in 'to upgrade' counts as installed", db: append(v1DB[:4:4], dbtools.Module{Name: "stock", State: "to upgrade", LatestVersion: "18.0.1.1"}),
			img: image("18.0", "18.0.1.0.0", "18.0.1.0.0"), want: []Problem{{Reason: odoov1alpha2.ReasonPreflightModulesMissing, Message: ": stock;"}}},
		{name: "version goes down (v2 database, v1 image)", db: []dbtools.Module{
			{Name: "base", State: "installed", LatestVersion: "18.0.1.3"},
			{Name: "odoo_operator_shop", State: "installed", LatestVersion: "18.0.2.0.0"},
			{Name: "odoo_operator_shop_report", State: "installed", LatestVersion: "18.0.2.0.0"},
		}, img: image("18.0", "18.0.1.0.0", "18.0.2.0.0"), want: []Problem{
			{Reason: odoov1alpha2.ReasonPreflightVersionDown, Message: "lower versions than the database has installed: odoo_operator_shop 18.0.2.0.0 → 18.0.1.0.0; Odoo does not downgrade"},
		}},
		{name: "numeric, not textual, version order", db: []dbtools.Module{{Name: "base", State: "installed", LatestVersion: "18.0.1.9"}},
			img: []Shipped{{Name: "base", Version: "18.0.1.10", Installable: true}}},
		{name: "series change 17.0 to 18.0", db: []dbtools.Module{
			{Name: "base", State: "installed", LatestVersion: "17.0.1.3"},
			{Name: "odoo_operator_shop", State: "installed", LatestVersion: "17.0.1.0.0"},
		}, img: image("18.0", "", ""), want: []Problem{
			{Reason: odoov1alpha2.ReasonPreflightSeriesChange, Message: "the database is Odoo 17.0 and the new image is Odoo 18.0: a change of series needs a migration"},
		}},
		{name: "series change overridden: the other checks still run", db: []dbtools.Module{
			{Name: "base", State: "installed", LatestVersion: "17.0.1.3"},
			{Name: "odoo_operator_shop", State: "installed", LatestVersion: "17.0.1.0.0"},
		}, img: image("18.0", "", ""), allowSeries: true, want: []Problem{
			{Reason: odoov1alpha2.ReasonPreflightModulesMissing, Message: ": odoo_operator_shop;"},
		}},
		{name: "downgrade of the series is a series change", db: v1DB, img: image("17.0", "17.0.1.0.0", "17.0.1.0.0"), want: []Problem{
			{Reason: odoov1alpha2.ReasonPreflightSeriesChange, Message: "the database is Odoo 18.0 and the new image is Odoo 17.0"},
		}},
		{name: "dependency missing from the image", db: v1DB, img: func() []Shipped {
			img := image("18.0", "18.0.1.0.0", "18.0.1.0.0")
			img[3].Depends = []string{"odoo_operator_shop", "product", "account"}
			return img
		}(), want: []Problem{
			{Reason: odoov1alpha2.ReasonPreflightDependenciesMissing, Message: "odoo_operator_shop_report needs account, product; add the dependencies"},
		}},
		{name: "dependency shipped but not installable", db: v1DB, img: func() []Shipped {
			img := image("18.0", "18.0.1.0.0", "18.0.1.0.0")
			img[3].Depends = []string{"odoo_operator_shop", "legacy"}
			return append(img, Shipped{Name: "legacy", Version: "18.0.1.0", Installable: false})
		}(), want: []Problem{{Reason: odoov1alpha2.ReasonPreflightDependenciesMissing, Message: "odoo_operator_shop_report needs legacy;"}}},
		{name: "every problem at once, most fundamental first", db: []dbtools.Module{
			{Name: "base", State: "installed", LatestVersion: "18.0.1.3"},
			{Name: "gone", State: "installed", LatestVersion: "18.0.1.0"},
			{Name: "odoo_operator_shop", State: "installed", LatestVersion: "18.0.3.0.0"},
			{Name: "odoo_operator_shop_report", State: "installed", LatestVersion: "18.0.1.0.0"},
		}, img: func() []Shipped {
			img := image("18.0", "18.0.2.0.0", "18.0.1.0.0")
			img[3].Depends = []string{"nowhere"}
			return img
		}(), want: []Problem{
			{Reason: odoov1alpha2.ReasonPreflightModulesMissing, Message: ": gone;"},
			{Reason: odoov1alpha2.ReasonPreflightVersionDown, Message: "odoo_operator_shop 18.0.3.0.0 → 18.0.2.0.0"},
			{Reason: odoov1alpha2.ReasonPreflightDependenciesMissing, Message: "odoo_operator_shop_report needs nowhere"},
		}},
		{name: "no base row: no series check, the versions still are", db: []dbtools.Module{{Name: "web", State: "installed", LatestVersion: "18.0.1.0"}},
			img: image("17.0", "", ""), want: []Problem{{Reason: odoov1alpha2.ReasonPreflightVersionDown, Message: "web 18.0.1.0 → 17.0.1.0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got := Compare(tt.db, tt.img, tt.allowSeries)
			g.Expect(got).To(HaveLen(len(tt.want)), "%+v", got)
			for i, w := range tt.want {
				g.Expect(got[i].Reason).To(Equal(w.Reason))
				g.Expect(got[i].Message).To(ContainSubstring(w.Message))
			}
		})
	}
}

// TestCompareNamesAtMostTen: 400 missing modules are named ten at a time,
// the rest counted, so the status and the event stay small.
func TestCompareNamesAtMostTen(t *testing.T) {
	g := NewWithT(t)
	db := []dbtools.Module{{Name: "base", State: "installed", LatestVersion: "18.0.1.3"}}
	for i := range 400 {
		db = append(db, dbtools.Module{Name: fmt.Sprintf("m%03d", i), State: "installed", LatestVersion: "18.0.1.0"})
	}
	got := Compare(db, image("18.0", "", ""), false)
	g.Expect(got).To(HaveLen(1))
	g.Expect(got[0].Message).To(ContainSubstring(": m000, m001, m002, m003, m004, m005, m006, m007, m008, m009 and 390 more;"))
	g.Expect(len(got[0].Message)).To(BeNumerically("<", 400))
}
