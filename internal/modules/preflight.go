package modules

import (
	"fmt"
	"slices"
	"strings"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
)

// Shipped is one module a new image ships, as its preflight lists it:
// Version is the manifest version as Odoo adapts it ("1.0" in an 18.0
// image is "18.0.1.0"); Installable is the manifest's installable.
type Shipped struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Depends     []string `json:"depends,omitempty"`
	Installable bool     `json:"installable"`
}

// Problem is one reason to refuse a new image.
type Problem struct {
	// Reason is one of the api's ReasonPreflight* constants.
	Reason string
	// Message names the modules and says what to do.
	Message string
}

// maxNamed bounds the modules a message names; the rest are counted.
const maxNamed = 10

// Compare decides whether a database (the rows of its ir_module_module)
// can be upgraded to an image shipping shipped. It returns every problem,
// most fundamental first (a series change explains every other
// difference); none means the upgrade may start. allowSeriesChange is the
// manual override of the series check. Modules only "uninstalled" in the
// database are not looked at: the image need not ship them.
func Compare(installed []dbtools.Module, shipped []Shipped, allowSeriesChange bool) []Problem {
	img := make(map[string]Shipped, len(shipped))
	for _, s := range shipped {
		img[s.Name] = s
	}
	var problems []Problem
	dbSeries := Series(installed)
	imgSeries := ""
	if base, ok := img["base"]; ok {
		imgSeries = SeriesOf(base.Version)
	}
	if dbSeries != "" && imgSeries != "" && dbSeries != imgSeries && !allowSeriesChange {
		problems = append(problems, Problem{Reason: odoov1alpha2.ReasonPreflightSeriesChange, Message: fmt.Sprintf(
			"the database is Odoo %s and the new image is Odoo %s: a change of series needs a migration of the database (e.g. OpenUpgrade or Odoo's upgrade service), not `-u all`; migrate a copy, restore it, then set the image; if the database is already migrated, annotate the instance %s=<the new image>",
			dbSeries, imgSeries, odoov1alpha2.AnnotationAllowSeriesChange)})
		// Every version differs across series: the other checks would
		// only repeat this one.
		return problems
	}
	var missing, down, deps []string
	for _, m := range installed {
		if !inDatabase(m.State) {
			continue
		}
		s, ok := img[m.Name]
		if !ok || !s.Installable {
			missing = append(missing, m.Name)
			continue
		}
		if m.LatestVersion != "" && s.Version != "" && CompareVersions(s.Version, m.LatestVersion) < 0 {
			down = append(down, fmt.Sprintf("%s %s → %s", m.Name, m.LatestVersion, s.Version))
		}
		var lacking []string
		for _, d := range s.Depends {
			if dep, ok := img[d]; !ok || !dep.Installable {
				lacking = append(lacking, d)
			}
		}
		if len(lacking) > 0 {
			slices.Sort(lacking)
			deps = append(deps, fmt.Sprintf("%s needs %s", m.Name, strings.Join(lacking, ", ")))
		}
	}
	if len(missing) > 0 {
		problems = append(problems, Problem{Reason: odoov1alpha2.ReasonPreflightModulesMissing, Message: fmt.Sprintf(
			"modules installed in the database are missing from the new image (or not installable in it): %s; add them to the image, or uninstall them first",
			named(missing))})
	}
	if len(down) > 0 {
		problems = append(problems, Problem{Reason: odoov1alpha2.ReasonPreflightVersionDown, Message: fmt.Sprintf(
			"the new image ships lower versions than the database has installed: %s; Odoo does not downgrade modules: use an image with these versions or newer",
			named(down))})
	}
	if len(deps) > 0 {
		problems = append(problems, Problem{Reason: odoov1alpha2.ReasonPreflightDependenciesMissing, Message: fmt.Sprintf(
			"installed modules depend on modules the new image lacks or cannot install: %s; add the dependencies to the image",
			named(deps))})
	}
	return problems
}

// inDatabase: the module's tables and data are in the database.
func inDatabase(state string) bool {
	return state == StateInstalled || state == StateToUpgrade || state == StateToRemove
}

// named lists at most maxNamed items, sorted, and counts the rest.
func named(items []string) string {
	items = sortedCopy(items)
	if len(items) <= maxNamed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxNamed], ", "), len(items)-maxNamed)
}
