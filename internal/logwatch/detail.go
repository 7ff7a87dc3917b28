package logwatch

import "strings"

// Python prints these lines between the tracebacks of chained exceptions.
const (
	tracebackStart = "Traceback (most recent call last):"
	chainedCause   = "The above exception was the direct cause of the following exception:"
	chainedContext = "During handling of the above exception, another exception occurred:"
)

// isBadQuery reports whether rec is odoo.sql_db's "bad query:" record, whose
// message is the SQL text and whose continuation holds psycopg's error.
func isBadQuery(rec Record) bool { return strings.HasPrefix(rec.Message, "bad query:") }

// sqlError returns psycopg's "ERROR: ..." line from the continuation of a
// bad query record, or "".
func sqlError(rec Record) string {
	for _, l := range rec.Continuation {
		if strings.HasPrefix(l, "ERROR:") {
			return l
		}
	}
	return ""
}

// exceptionLine returns the exception line of a record's traceback, such as
// "ValueError: load_module arg#2 should be a file or None", or "". It is the
// last unindented line after the first "Traceback" line, not counting
// Python's chaining lines, so it is found even when a chained traceback was
// cut off by the reporter or by the continuation cap.
func exceptionLine(rec Record) string {
	found, in := "", false
	for _, l := range rec.Continuation {
		switch {
		case l == tracebackStart:
			in = true
		case !in || l == "" || l[0] == ' ' || l[0] == '\t' || l == chainedCause || l == chainedContext:
		default:
			found = l
		}
	}
	return found
}
