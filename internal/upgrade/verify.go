package upgrade

import (
	"fmt"
	"strings"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/logwatch"
)

// Judged is what the controller read about a finished upgrade Job.
type Judged struct {
	// JobFailed and JobMessage are the Job's outcome (its exit).
	JobFailed  bool
	JobMessage string
	// Log is the verdict on the Job's log; LogNote says why there is none.
	Log     logwatch.UpgradeLogVerdict
	LogNote string
	// Before and After are ir_module_module before the Job (the snapshot)
	// and now; PostCheckErr is set when After could not be read.
	Before, After []dbtools.Module
	PostCheckErr  error
}

// Judge composes the verdict on a finished upgrade and its message: the
// failing module and its error from the log, and the post-check of the
// module versions against the snapshot.
//
// The versions are what tell a partial upgrade: Odoo commits after each
// module, so a failure at module N leaves modules 1..N-1 at their new
// versions, and Odoo 18 resets the states it marked ('to upgrade' back to
// 'installed', "Transient module states were reset"), so no module is left
// pending. The message lists the modules whose version moved (committed
// before the failure) and the failing module with the version it stayed at.
func Judge(st *odoov1alpha2.UpgradeStatus, j Judged) Verdict {
	report := dbtools.CompareModules(j.Before, j.After)
	var problems []string
	if j.JobFailed {
		problems = append(problems, j.JobMessage)
	}
	lv := j.Log
	if lv.Failed {
		line := lv.ErrorLine
		if lv.Module != "" {
			line = "module " + lv.Module + ": " + line
		}
		problems = append(problems, line)
	}
	if j.PostCheckErr != nil {
		problems = append(problems, "post-check: "+j.PostCheckErr.Error())
	} else if !report.OK() {
		problems = append(problems, "post-check: modules left pending: "+strings.Join(report.Pending, ", "))
	} else if notIn := notInstalled(st, j.After); len(notIn) > 0 {
		// `odoo -i` ignores a name it does not know and exits 0.
		problems = append(problems, "post-check: declared modules not installed (not in the image?): "+strings.Join(notIn, ", "))
	}
	summary := report.Summary(10)
	if len(problems) == 0 {
		msg := "upgraded to " + st.ImageAttempted + ": " + summary
		if j.LogNote != "" {
			msg += " (" + j.LogNote + ")"
		}
		return Verdict{OK: true, Message: msg}
	}
	committed := "already committed: " + summary
	switch {
	case j.PostCheckErr != nil:
		// No module table to compare: the snapshot alone says nothing.
		committed = "what was committed is unknown"
	case len(report.Upgraded)+len(report.Installed)+len(report.Removed) > 0:
		committed = "committed before the failure (versions against the snapshot): " + summary
	}
	if stayed := stayedAt(lv.Module, report, j.Before, j.After); stayed != "" {
		committed += "; " + stayed
	}
	if lv.StatesReset {
		committed += "; Odoo reset the transient module states"
	}
	msg := fmt.Sprintf("upgrade to %s failed: %s; %s; %s keeps serving",
		st.ImageAttempted, strings.Join(problems, "; "), committed, st.FromImage)
	return Verdict{Message: msg}
}

// stayedAt says which version the failing module was left at, when the
// post-check shows it unchanged: "not upgraded: x (still 18.0.1.0.0)".
func stayedAt(module string, report dbtools.ModuleReport, before, after []dbtools.Module) string {
	if module == "" {
		return ""
	}
	for _, c := range report.Upgraded {
		if c.Name == module {
			return ""
		}
	}
	b, okB := findModule(before, module)
	a, okA := findModule(after, module)
	if !okB || !okA || a.LatestVersion == "" || a.LatestVersion != b.LatestVersion {
		return ""
	}
	return fmt.Sprintf("not upgraded: %s (%s, still %s)", module, a.State, a.LatestVersion)
}

func findModule(mods []dbtools.Module, name string) (dbtools.Module, bool) {
	for _, m := range mods {
		if m.Name == name {
			return m, true
		}
	}
	return dbtools.Module{}, false
}

// notInstalled are the modules an install run (trigger Modules) was to
// install that the database does not have installed afterwards.
func notInstalled(st *odoov1alpha2.UpgradeStatus, after []dbtools.Module) []string {
	if st.Trigger != odoov1alpha2.UpgradeTriggerModules {
		return nil
	}
	var out []string
	for _, name := range st.ModulesInstall {
		if m, ok := findModule(after, name); !ok || m.State != "installed" {
			out = append(out, name)
		}
	}
	return out
}
