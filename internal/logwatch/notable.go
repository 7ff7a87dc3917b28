package logwatch

import "strings"

// limitMarkers are the messages with which Odoo's server reports a process
// or thread past one of its limits. It logs them at INFO (a prefork worker
// past limit_memory_soft or limit_time_cpu, a thread past limit_time_real)
// or WARNING (the threaded and gevent servers' memory limits), yet each
// means a request was cut short or a process recycled, so the log monitor
// counts them with the errors (odoo/service/server.py).
var limitMarkers = [...]string{
	"virtual memory limit",
	"CPU time limit",
	"virtual real time limit",
	"Server memory limit",
}

// Notable reports whether the log monitor counts rec: every ERROR and
// CRITICAL record, the limit hits Odoo's server logs at a lower level, and
// lines without Odoo's prefix that classify as a known problem (the
// official image's entrypoint printing "Database connection failure: ...").
// An unprefixed record that starts indented is the tail of a traceback
// whose head was read before: it is not counted again.
func Notable(rec Record) bool {
	switch rec.Level {
	case LevelError, LevelCritical:
		return true
	case LevelInfo, LevelWarning:
		return isServerLogger(rec.Logger) && containsAny(rec.Message, limitMarkers[:])
	case "":
		return rec.Message != "" && rec.Message[0] != ' ' && rec.Message[0] != '\t' && Classify(rec) != Other
	}
	return false
}

// isServerLogger reports whether logger is Odoo's server module, under its
// name since 10.0 or the openerp.* name of older versions.
func isServerLogger(logger string) bool {
	return logger == "odoo.service.server" || logger == "openerp.service.server"
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
