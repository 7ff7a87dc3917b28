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
	// when there is one; at most MaxErrorLineBytes long. When the upgrade
	// failed and that record has neither (Odoo 18 logs "Failed to load
	// registry" bare, the traceback follows with "Failed to initialize
	// database"), the exception line comes from the first error record up
	// to the end of the failure's burst of error records that has one: the
	// exception that failed a migration, say.
	ErrorLine string
	// Category is Classify's verdict on the record ErrorLine comes from.
	Category Category
	// Errors counts the ERROR and CRITICAL records.
	Errors int
	// StatesReset is true when Odoo logged "Transient module states were
	// reset": after a failed load, Odoo 18 sets the modules it had marked
	// 'to upgrade' or 'to remove' back to 'installed' and 'to install' back
	// to 'uninstalled', so only the versions show what the run committed.
	StatesReset bool
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
		cause    Record // first of them with an exception or SQL error line, up to the failure's burst
		loading  string // module of the last progress line before the failure
		named    string // module named by an error record up to the failure
		traced   string // module from the traceback of first or the failure
		hasFirst bool
		hasCause bool
		burst    bool // still in the error records that follow the failure
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
		if strings.Contains(rec.Message, "Transient module states were reset") {
			v.StatesReset = true
		}
		if v.Failed {
			// Odoo 18 logs "Failed to load registry" bare and the traceback
			// with the CRITICAL "Failed to initialize database" right after:
			// the exception belongs to the failure.
			burst = burst && isErr
			if burst && !hasCause && hasDetail(rec) {
				cause, hasCause = rec, true
			}
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
			if !hasCause && hasDetail(rec) {
				cause, hasCause = rec, true
			}
		}
		v.Failed = isFailure(rec)
		burst = v.Failed
	}
	v.Err = p.Err()
	if hasFirst {
		v.ErrorLine = errorLine(first, first)
		v.Category = Classify(first)
		// A failure whose first error says nothing of the cause (Odoo 18's
		// bare "Failed to load registry") is reported with the exception
		// at the end of the traceback that follows.
		if v.Failed && hasCause && !hasDetail(first) {
			v.ErrorLine = errorLine(first, cause)
			if c := Classify(cause); c != Other {
				v.Category = c
			}
		}
	}
	if v.Failed {
		v.Module = firstNonEmpty(loading, named, traced)
	}
	return v
}

// hasDetail reports whether rec carries the line that says what went wrong:
// a traceback's exception line or psycopg's ERROR: line.
func hasDetail(rec Record) bool {
	if isBadQuery(rec) {
		return sqlError(rec) != ""
	}
	return exceptionLine(rec) != ""
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
// mentions one: the directory holding a migrations/ script, else a path
// ".../addons/<name>/..." (which also matches "extra-addons/<name>/"), or a
// Python module ("odoo.addons.<name>", "openerp.addons.<name>"). The
// migrations rule comes first because add-ons directories are often nested
// (".../addons/<repository>/<name>/migrations/...").
func tracebackModule(rec Record) string {
	for i := len(rec.Continuation) - 1; i >= 0; i-- {
		l := rec.Continuation[i]
		if j := strings.LastIndex(l, "/migrations/"); j >= 0 {
			if k := strings.LastIndexByte(l[:j], '/'); k >= 0 {
				if m := moduleName(l[k+1:j], ""); m != "" && len(m) == j-k-1 {
					return m
				}
			}
		}
		for _, pkg := range [...]string{"odoo.addons.", "openerp.addons."} {
			if j := strings.LastIndex(l, pkg); j >= 0 {
				if m := moduleName(l[j+len(pkg):], ""); m != "" {
					return m
				}
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

// errorLine renders rec for UpgradeLogVerdict.ErrorLine with the detail
// line of cause (rec itself, or the record with the traceback of rec's
// failure), keeping room for the detail, which usually says more than a
// long message.
func errorLine(rec, cause Record) string {
	head := rec.Message
	if rec.Logger != "" {
		head = rec.Logger + ": " + rec.Message
	}
	detail := exceptionLine(cause)
	if isBadQuery(cause) {
		detail = sqlError(cause)
	}
	if detail == "" {
		return truncate(head, MaxErrorLineBytes)
	}
	const sep = " | "
	// The detail says what went wrong: it gets two thirds of the room.
	detail = truncate(detail, MaxErrorLineBytes*2/3)
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
