// Package modules holds the pure decisions about an instance's Odoo modules:
// the bounded status.modules summary, and the preflight comparison of what a
// new image ships with what the database has installed.
package modules

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
)

// Odoo's module states.
const (
	StateInstalled   = "installed"
	StateUninstalled = "uninstalled"
	StateToUpgrade   = "to upgrade"
	StateToInstall   = "to install"
	StateToRemove    = "to remove"
)

// Summarize turns the rows of ir_module_module into status.modules: counts
// by state over every module, and a list of at most
// odoov1alpha2.ModulesListMax modules worth a look (pending ones first, then
// those whose shipped version differs, then the declared ones). shipped maps
// a module to the version the running image ships; nil when unknown. The
// result does not depend on the order of mods.
func Summarize(mods []dbtools.Module, declared []string, shipped map[string]string, now metav1.Time) *odoov1alpha2.ModulesStatus {
	st := &odoov1alpha2.ModulesStatus{ObservedTime: &now}
	byName := make(map[string]dbtools.Module, len(mods))
	var pending, differs []string
	for _, m := range mods {
		byName[m.Name] = m
		switch m.State {
		case StateInstalled:
			st.Installed++
		case StateUninstalled:
			st.Uninstalled++
		case StateToUpgrade:
			st.ToUpgrade++
		case StateToInstall:
			st.ToInstall++
		case StateToRemove:
			st.ToRemove++
		}
		switch {
		case strings.HasPrefix(m.State, "to "):
			pending = append(pending, m.Name)
		case m.State == StateInstalled && shipped != nil:
			if v, ok := shipped[m.Name]; ok && v != m.LatestVersion {
				differs = append(differs, m.Name)
			}
		}
	}
	st.Pending = int32(len(pending)) //nolint:gosec // bounded by the module count
	for _, name := range differs {
		if CompareVersions(shipped[name], byName[name].LatestVersion) > 0 {
			st.Pending++
		}
	}
	slices.Sort(pending)
	slices.Sort(differs)
	seen := map[string]bool{}
	var names []string
	for _, group := range [][]string{pending, differs, sortedCopy(declared)} {
		for _, n := range group {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	if len(names) > odoov1alpha2.ModulesListMax {
		st.Omitted = int32(len(names) - odoov1alpha2.ModulesListMax) //nolint:gosec // bounded by the module count
		names = names[:odoov1alpha2.ModulesListMax]
	}
	for _, n := range names {
		m, ok := byName[n]
		// The rows are the tenant's: a value longer than the CRD allows
		// would make the whole status update fail, so each is cut to its
		// bound (a cut value ends in "...").
		ms := odoov1alpha2.ModuleStatus{
			Name:             clip(n, maxName),
			State:            clip(m.State, maxState),
			InstalledVersion: clip(m.LatestVersion, maxVersion),
		}
		if !ok {
			ms.State = "absent"
		}
		if shipped != nil {
			ms.ImageVersion = clip(shipped[n], maxVersion)
		}
		st.List = append(st.List, ms)
	}
	return st
}

// The bounds of ModuleStatus's fields in the CRD.
const (
	maxName    = 128
	maxState   = 32
	maxVersion = 64
)

// clip cuts s to at most n bytes, on a character boundary, ending in "..."
// when cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// Series is the Odoo series (e.g. "18.0") of a database, from its base
// module's installed version ("18.0.1.3"); "" when unknown.
func Series(mods []dbtools.Module) string {
	for _, m := range mods {
		if m.Name == "base" {
			return SeriesOf(m.LatestVersion)
		}
	}
	return ""
}

// seriesPattern is what an Odoo series looks like ("18.0", "saas~17.4");
// anything else in a tenant's base version is not reported.
var seriesPattern = regexp.MustCompile(`^(saas~)?[0-9]{1,3}\.[0-9]{1,2}$`)

// SeriesOf is the series of an Odoo module version: its first two parts
// ("18.0.1.3" → "18.0"); "" when it has fewer than two or they do not look
// like a series.
func SeriesOf(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	if s := parts[0] + "." + parts[1]; seriesPattern.MatchString(s) {
		return s
	}
	return ""
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// Missing are the declared modules the database has not installed (nor
// left "to upgrade"/"to remove", which means installed), sorted, without
// duplicates.
func Missing(mods []dbtools.Module, declared []string) []string {
	in := make(map[string]bool, len(mods))
	for _, m := range mods {
		switch m.State {
		case StateInstalled, StateToUpgrade, StateToRemove:
			in[m.Name] = true
		}
	}
	var out []string
	for _, n := range sortedCopy(declared) {
		if !in[n] && (len(out) == 0 || out[len(out)-1] != n) {
			out = append(out, n)
		}
	}
	return out
}
