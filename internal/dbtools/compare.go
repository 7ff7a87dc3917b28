package dbtools

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Module states of ir_module_module that an operation left unfinished.
const (
	StateToUpgrade = "to upgrade"
	StateToInstall = "to install"
	StateToRemove  = "to remove"
)

// ModuleChange is a module whose installed version changed.
type ModuleChange struct {
	Name string
	From string
	To   string
}

// ModuleReport is what happened to the modules between two snapshots.
type ModuleReport struct {
	// Pending names the modules still marked 'to upgrade', 'to install' or
	// 'to remove' afterwards: the operation did not finish them.
	Pending []string
	// PendingStates is the state of each module of Pending.
	PendingStates map[string]string
	// Upgraded are the modules installed before and after whose
	// latest_version changed.
	Upgraded []ModuleChange
	// Installed are the modules not installed before and installed after.
	Installed []string
	// Removed are the modules installed before and not installed (or gone)
	// after.
	Removed []string
	// Unchanged counts the modules installed before and after at the same
	// version.
	Unchanged int
}

// PendingModules returns the modules marked 'to upgrade', 'to install' or
// 'to remove', in the order given.
func PendingModules(mods []Module) []Module {
	var out []Module
	for _, m := range mods {
		if isPending(m.State) {
			out = append(out, m)
		}
	}
	return out
}

func isPending(state string) bool {
	return state == StateToUpgrade || state == StateToInstall || state == StateToRemove
}

// isInstalled reports whether the module's schema and data are in the
// database: installed, or installed and marked for an upgrade or removal.
func isInstalled(state string) bool {
	return state == "installed" || state == StateToUpgrade || state == StateToRemove
}

// CompareModules compares the module snapshots taken before and after an
// operation (an upgrade, a restore). A module missing from a snapshot counts
// as not installed there. All lists are sorted by module name.
func CompareModules(before, after []Module) ModuleReport {
	old := make(map[string]Module, len(before))
	for _, m := range before {
		old[m.Name] = m
	}
	seen := make(map[string]bool, len(after))
	var r ModuleReport
	for _, m := range after {
		seen[m.Name] = true
		if isPending(m.State) {
			r.Pending = append(r.Pending, m.Name)
			if r.PendingStates == nil {
				r.PendingStates = map[string]string{}
			}
			r.PendingStates[m.Name] = m.State
		}
		b, had := old[m.Name]
		wasIn := had && isInstalled(b.State)
		switch isIn := isInstalled(m.State); {
		case wasIn && isIn && b.LatestVersion != m.LatestVersion:
			r.Upgraded = append(r.Upgraded, ModuleChange{Name: m.Name, From: b.LatestVersion, To: m.LatestVersion})
		case wasIn && isIn:
			r.Unchanged++
		case isIn:
			r.Installed = append(r.Installed, m.Name)
		case wasIn:
			r.Removed = append(r.Removed, m.Name)
		}
	}
	for _, b := range before {
		if !seen[b.Name] && isInstalled(b.State) {
			r.Removed = append(r.Removed, b.Name)
		}
	}
	slices.Sort(r.Pending)
	slices.SortFunc(r.Upgraded, func(a, b ModuleChange) int { return strings.Compare(a.Name, b.Name) })
	slices.Sort(r.Installed)
	slices.Sort(r.Removed)
	return r
}

// OK reports whether no module is left pending.
func (r ModuleReport) OK() bool { return len(r.Pending) == 0 }

// MaxSummaryLen bounds the length of Summary in bytes: the length
// Kubernetes allows an Event's message.
const MaxSummaryLen = 1024

// Summary describes the report in one line, e.g. "2 modules upgraded (sale
// 18.0.1.0 → 18.0.1.1, stock 18.0.1.0 → 18.0.1.2); still pending: account
// (to upgrade)". It names at most maxModules modules in all, pending ones
// first, and counts the others ("+N more"); maxModules ≤ 0 gives counts
// only. It is never longer than MaxSummaryLen bytes: when too long, it
// names fewer modules.
func (r ModuleReport) Summary(maxModules int) string {
	secs := r.sections()
	if len(secs) == 0 {
		return "no module changed"
	}
	budget := max(maxModules, 0)
	for _, pending := range []bool{true, false} {
		for i := range secs {
			if s := &secs[i]; (s.lead != "") == pending {
				s.shown = min(len(s.items), budget)
				budget -= s.shown
			}
		}
	}
	// Too long: list fewer modules, the pending ones last.
	for _, pending := range []bool{false, true} {
		for i := len(secs) - 1; i >= 0; i-- {
			for s := &secs[i]; (s.lead != "") == pending && s.shown > 0 && len(renderSections(secs)) > MaxSummaryLen; {
				s.shown--
			}
		}
	}
	return truncate(renderSections(secs), MaxSummaryLen)
}

// section is one part of a summary: a head and a list of items of which the
// first shown are written out.
type section struct {
	head  string // e.g. "2 modules upgraded"
	lead  string // replaces head when items are listed, e.g. "still pending: "
	items []string
	shown int
}

func (s section) render() string {
	if s.shown == 0 {
		return s.head
	}
	list := strings.Join(s.items[:s.shown], ", ")
	if more := len(s.items) - s.shown; more > 0 {
		list += fmt.Sprintf(", +%d more", more)
	}
	if s.lead != "" {
		return s.lead + list
	}
	return s.head + " (" + list + ")"
}

func renderSections(secs []section) string {
	parts := make([]string, len(secs))
	for i, s := range secs {
		parts[i] = s.render()
	}
	return strings.Join(parts, "; ")
}

// sections returns the non-empty parts in display order, pending last.
func (r ModuleReport) sections() []section {
	var secs []section
	if n := len(r.Upgraded); n > 0 {
		items := make([]string, n)
		for i, c := range r.Upgraded {
			items[i] = fmt.Sprintf("%s %s → %s", c.Name, orNone(c.From), orNone(c.To))
		}
		secs = append(secs, section{head: countModules(n) + " upgraded", items: items})
	}
	if n := len(r.Installed); n > 0 {
		secs = append(secs, section{head: countModules(n) + " installed", items: r.Installed})
	}
	if n := len(r.Removed); n > 0 {
		secs = append(secs, section{head: countModules(n) + " removed", items: r.Removed})
	}
	if n := len(r.Pending); n > 0 {
		items := make([]string, n)
		for i, name := range r.Pending {
			items[i] = fmt.Sprintf("%s (%s)", name, r.PendingStates[name])
		}
		secs = append(secs, section{head: countModules(n) + " still pending", lead: "still pending: ", items: items})
	}
	return secs
}

func countModules(n int) string {
	if n == 1 {
		return "1 module"
	}
	return fmt.Sprintf("%d modules", n)
}

func orNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

// truncate cuts s to at most n bytes on a rune boundary, ending in "…" when
// it cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	if n < len(ellipsis) {
		return ""
	}
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
