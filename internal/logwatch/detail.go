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
// first unindented line after the last stack frame, so it is found even when
// a chained traceback was cut off by the reporter or by the continuation cap,
// when the "Traceback" line is missing (a log read from the middle of a
// record), and when the exception's message runs over several lines (psycopg
// appends "LINE 1: ..." to its errors).
func exceptionLine(rec Record) string {
	found, in, framed := "", false, false
	for _, l := range rec.Continuation {
		switch {
		case l == tracebackStart:
			in, framed = true, true
		case strings.HasPrefix(l, framePrefix):
			in, framed = true, true
		case !in || l == "" || l == chainedCause || l == chainedContext:
		case l[0] == ' ' || l[0] == '\t':
			framed = framed || in
		case framed:
			found, framed = l, false
		}
	}
	return found
}

// framePrefix starts a stack frame line of a Python traceback.
const framePrefix = `  File "`
