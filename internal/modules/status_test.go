package modules

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
)

func TestSummarize(t *testing.T) {
	g := NewWithT(t)
	now := metav1.Now()
	mods := []dbtools.Module{
		{Name: "sale", State: "to upgrade", LatestVersion: "18.0.1.1"},
		{Name: "base", State: "installed", LatestVersion: "18.0.1.3"},
		{Name: "crm", State: "installed", LatestVersion: "18.0.1.0"},
		{Name: "web", State: "installed", LatestVersion: "18.0.1.0"},
		{Name: "mail", State: "installed", LatestVersion: "18.0.1.2"},
		{Name: "stock", State: "uninstalled"},
		{Name: "hr", State: "to install"},
		{Name: "old", State: "to remove", LatestVersion: "18.0.0.9"},
	}
	shipped := map[string]string{"base": "18.0.1.3", "crm": "18.0.1.1", "web": "18.0.1.0", "mail": "18.0.1.1"}
	st := Summarize(mods, []string{"crm", "website"}, shipped, now)
	g.Expect(st.Installed).To(BeEquivalentTo(4))
	g.Expect(st.Uninstalled).To(BeEquivalentTo(1))
	g.Expect(st.ToUpgrade).To(BeEquivalentTo(1))
	g.Expect(st.ToInstall).To(BeEquivalentTo(1))
	g.Expect(st.ToRemove).To(BeEquivalentTo(1))
	// 3 in a "to" state + crm, whose image ships a newer version; mail's
	// image version is lower: listed, not pending.
	g.Expect(st.Pending).To(BeEquivalentTo(4))
	g.Expect(st.List).To(Equal([]odoov1alpha2.ModuleStatus{
		{Name: "hr", State: "to install"},
		{Name: "old", State: "to remove", InstalledVersion: "18.0.0.9"},
		{Name: "sale", State: "to upgrade", InstalledVersion: "18.0.1.1"},
		{Name: "crm", State: "installed", InstalledVersion: "18.0.1.0", ImageVersion: "18.0.1.1"},
		{Name: "mail", State: "installed", InstalledVersion: "18.0.1.2", ImageVersion: "18.0.1.1"},
		{Name: "website", State: "absent"},
	}))
	g.Expect(st.Omitted).To(BeZero())
	g.Expect(Series(mods)).To(Equal("18.0"))
}

func TestSummarizeUnknownImage(t *testing.T) {
	g := NewWithT(t)
	st := Summarize([]dbtools.Module{{Name: "base", State: "installed", LatestVersion: "18.0.1.3"}}, []string{"base"}, nil, metav1.Now())
	g.Expect(st.List).To(Equal([]odoov1alpha2.ModuleStatus{{Name: "base", State: "installed", InstalledVersion: "18.0.1.3"}}))
	g.Expect(st.Pending).To(BeZero())
}

// TestSummarizeBounded: 400 installed modules and 100 pending ones give a
// list of ModulesListMax, the rest counted in omitted.
func TestSummarizeBounded(t *testing.T) {
	g := NewWithT(t)
	var mods []dbtools.Module
	for i := range 400 {
		mods = append(mods, dbtools.Module{Name: fmt.Sprintf("m%03d", i), State: "installed", LatestVersion: "18.0.1.0"})
	}
	for i := range 100 {
		mods = append(mods, dbtools.Module{Name: fmt.Sprintf("p%03d", i), State: "to upgrade", LatestVersion: "18.0.1.0"})
	}
	st := Summarize(mods, nil, nil, metav1.Now())
	g.Expect(st.Installed).To(BeEquivalentTo(400))
	g.Expect(st.Pending).To(BeEquivalentTo(100))
	g.Expect(st.List).To(HaveLen(odoov1alpha2.ModulesListMax))
	g.Expect(st.Omitted).To(BeEquivalentTo(100 - odoov1alpha2.ModulesListMax))
	g.Expect(st.List[0].Name).To(Equal("p000"))
}

func TestCompareVersions(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"18.0.1.3", "18.0.1.3", 0},
		{"18.0.1.10", "18.0.1.9", 1},
		{"18.0.1.0", "18.0.2.0", -1},
		{"17.0.1.0", "18.0.1.0", -1},
		{"18.0.1", "18.0.1.0", -1},
		{"18.0.1.0a", "18.0.1.0", 1},
		{"18.0.1.0", "18.0.1.b", -1},
	} {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSeriesOf(t *testing.T) {
	for in, want := range map[string]string{
		"18.0.1.3": "18.0", "17.0": "17.0", "1": "", "": "", "saas~18.1.1.0": "saas~18.1",
		"a.b.c": "", strings.Repeat("9", 40) + ".0.1": "", "18.0'; DROP": "",
	} {
		if got := SeriesOf(in); got != want {
			t.Errorf("SeriesOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSummarizeClipsTheTenantsValues: ir_module_module is the tenant's, so
// its names, states and versions can be of any length; status.modules keeps
// each within the CRD's bounds (a longer one would make the status update
// fail), cut on a character boundary.
func TestSummarizeClipsTheTenantsValues(t *testing.T) {
	g := NewWithT(t)
	long := strings.Repeat("é", 200)
	mods := []dbtools.Module{{Name: "m_" + long, State: "to upgrade" + long, LatestVersion: "18.0." + long}}
	st := Summarize(mods, nil, map[string]string{"m_" + long: "18.0." + long}, metav1.Now())
	g.Expect(st.List).To(HaveLen(1))
	m := st.List[0]
	g.Expect(len(m.Name)).To(BeNumerically("<=", maxName))
	g.Expect(len(m.State)).To(BeNumerically("<=", maxState))
	g.Expect(len(m.InstalledVersion)).To(BeNumerically("<=", maxVersion))
	g.Expect(len(m.ImageVersion)).To(BeNumerically("<=", maxVersion))
	for _, s := range []string{m.Name, m.State, m.InstalledVersion, m.ImageVersion} {
		g.Expect(utf8.ValidString(s)).To(BeTrue(), "%q", s)
		g.Expect(s).To(HaveSuffix("..."))
	}
	g.Expect(m.Name).To(HavePrefix("m_é"))
}

func TestMissing(t *testing.T) {
	g := NewWithT(t)
	mods := []dbtools.Module{
		{Name: "base", State: "installed"}, {Name: "crm", State: "uninstalled"}, {Name: "sale", State: "to upgrade"},
		{Name: "hr", State: "to install"}, {Name: "old", State: "to remove"},
	}
	g.Expect(Missing(mods, []string{"sale", "crm", "website", "base", "hr", "crm", "old"})).To(Equal([]string{"crm", "hr", "website"}))
	g.Expect(Missing(mods, nil)).To(BeEmpty())
}
