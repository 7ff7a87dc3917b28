package logwatch

import (
	"io"
	"strings"
)

// MaxErrorLineBytes bounds UpgradeLogVerdict.ErrorLine, which ends up in a
// status field and an event.
const MaxErrorLineBytes = 300

// failureMarkers are the messages that mean `odoo -u` did not complete
// (docs B.3). The last two still exit 0, which is why the log is read at all.
var failureMarkers = [...]string{
	"Failed to initialize database",
	"Failed to load registry",
	"Some modules have inconsistent states",
	"Some modules are not loaded",
}

// UpgradeLogVerdict is what the log of `odoo -u ... --stop-after-init` says.
type UpgradeLogVerdict struct {
	// Failed is true if a record is CRITICAL or reports one of Odoo's
	// failure messages ("Failed to initialize database", "Failed to load
	// registry", "Some modules have inconsistent states", "Some modules are
	// not loaded").
	Failed bool
	// Module is the module being loaded when the upgrade failed, or "" if
	// it cannot be told or the upgrade did not fail.
	Module string
	// ErrorLine is the first ERROR or CRITICAL record as "logger: message",
	// followed by psycopg's ERROR: line or the traceback's exception line
	// when there is one; at most MaxErrorLineBytes long.
	ErrorLine string
	// Category is Classify's verdict on the record ErrorLine comes from.
	Category Category
	// Errors counts the ERROR and CRITICAL records.
	Errors int
	// Err is the read error that cut the log short, if any; the verdict
	// then covers what was read.
	Err error
}

// JudgeUpgradeLog reads the log of an upgrade Job and reports whether it
// failed, on which module, and with which error. Odoo commits after every
// module and exits 0 on some failures (docs B.3), so the exit code alone
// does not tell. The log is streamed; memory stays bounded.
func JudgeUpgradeLog(r io.Reader) UpgradeLogVerdict {
	var (
		v        UpgradeLogVerdict
		first    Record // first ERROR or CRITICAL record
		loading  string // module of the last progress line before the failure
		named    string // module named by an error record up to the failure
		traced   string // module from the traceback of first or the failure
		hasFirst bool
	)
	p := NewParser(r)
	for rec, ok := p.Next(); ok; rec, ok = p.Next() {
		isErr := rec.Level == LevelError || rec.Level == LevelCritical
		if isErr {
			v.Errors++
			if !hasFirst {
				first, hasFirst = rec, true
			}
		}
		if v.Failed {
			continue
		}
		if m := progressModule(rec); m != "" {
			loading = m
		}
		if isErr {
			if named == "" {
				named = namedModule(rec)
			}
			if traced == "" {
				traced = tracebackModule(rec)
			}
		}
		v.Failed = isFailure(rec)
	}
	v.Err = p.Err()
	if hasFirst {
		v.ErrorLine = errorLine(first)
		v.Category = Classify(first)
	}
	if v.Failed {
		v.Module = firstNonEmpty(loading, named, traced)
	}
	return v
}

func isFailure(rec Record) bool {
	if rec.Level == LevelCritical {
		return true
	}
	if rec.Level != LevelError {
		return false
	}
	for _, m := range failureMarkers {
		if strings.Contains(rec.Message, m) {
			return true
		}
	}
	return false
}

// progressModule returns the module a record of odoo.modules.* says is being
// processed: "loading module <name> (n/m)" (DEBUG; "Loading" in some
// versions), "module <name>: ..." (graph, migration) or "loading
// <name>/<data file>" (INFO, Odoo 13 and later).
func progressModule(rec Record) string {
	if !strings.HasPrefix(rec.Logger, "odoo.modules.") && !strings.HasPrefix(rec.Logger, "openerp.modules.") {
		return ""
	}
	msg := rec.Message
	for _, prefix := range [...]string{"loading module ", "Loading module "} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			return moduleName(rest, " ")
		}
	}
	if rest, ok := strings.CutPrefix(msg, "module "); ok {
		return moduleName(rest, ":")
	}
	if rest, ok := strings.CutPrefix(msg, "loading "); ok {
		return moduleName(rest, "/")
	}
	return ""
}

// namedModule returns the module an error message names outright.
func namedModule(rec Record) string {
	if _, rest, ok := strings.Cut(rec.Message, "Couldn't load module "); ok {
		return moduleName(rest, "")
	}
	if _, rest, ok := strings.Cut(rec.Message, "Failed to load server-wide module `"); ok {
		return moduleName(rest, "`")
	}
	return ""
}

// tracebackModule returns the addon of the innermost traceback line that
// mentions one, as a path (".../addons/<name>/...", which also matches
// "extra-addons/<name>/") or a Python module ("odoo.addons.<name>").
func tracebackModule(rec Record) string {
	for i := len(rec.Continuation) - 1; i >= 0; i-- {
		l := rec.Continuation[i]
		if j := strings.LastIndex(l, "odoo.addons."); j >= 0 {
			if m := moduleName(l[j+len("odoo.addons."):], ""); m != "" {
				return m
			}
		}
		if j := strings.LastIndex(l, "addons/"); j >= 0 {
			if m := moduleName(l[j+len("addons/"):], "/"); m != "" {
				return m
			}
		}
	}
	return ""
}

// moduleName returns the technical module name ([A-Za-z0-9_]+) at the start
// of s if end follows it, else "".
func moduleName(s, end string) string {
	i := 0
	for i < len(s) && isWordByte(s[i]) {
		i++
	}
	if i == 0 || !strings.HasPrefix(s[i:], end) {
		return ""
	}
	return s[:i]
}

// errorLine renders rec for UpgradeLogVerdict.ErrorLine, keeping room for
// the detail line, which usually says more than a long message.
func errorLine(rec Record) string {
	head := rec.Message
	if rec.Logger != "" {
		head = rec.Logger + ": " + rec.Message
	}
	detail := exceptionLine(rec)
	if isBadQuery(rec) {
		detail = sqlError(rec)
	}
	if detail == "" {
		return truncate(head, MaxErrorLineBytes)
	}
	const sep = " | "
	detail = truncate(detail, MaxErrorLineBytes/2)
	return truncate(head, MaxErrorLineBytes-len(sep)-len(detail)) + sep + detail
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
