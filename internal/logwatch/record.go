package logwatch

import "time"

// Level is an Odoo log level as printed in the log line.
type Level string

// The levels Odoo prints. Its custom level 25 is printed as INFO.
const (
	LevelDebug    Level = "DEBUG"
	LevelInfo     Level = "INFO"
	LevelWarning  Level = "WARNING"
	LevelError    Level = "ERROR"
	LevelCritical Level = "CRITICAL"
)

// Limits that bound what one Parser holds in memory, whatever it reads.
const (
	// MaxLineBytes is the longest line kept; the rest of a longer line is
	// discarded. A `bad query:` line carries the whole SQL statement, so real
	// lines of several KiB exist, but nothing useful lies past 16 KiB.
	MaxLineBytes = 16 << 10
	// MaxContinuationLines and MaxContinuationBytes cap the continuation
	// lines kept per record. A RecursionError traceback runs to thousands of
	// lines; the first and the last lines are kept, since the last one names
	// the exception.
	MaxContinuationLines = 200
	MaxContinuationBytes = 64 << 10
)

// Record is one Odoo log record: a line with Odoo's prefix and the
// unprefixed lines that follow it.
//
// Lines read before the first prefixed line (a log fetched from the middle of
// a traceback, or the official image's wait-for-psql.py output) are not
// dropped: they form a record with an empty Level whose Message is the first
// such line. Classify still works on it.
type Record struct {
	// Time is the record's timestamp, in UTC: Odoo prints no zone and the
	// official image runs in UTC. The zero Time when Level is empty.
	Time time.Time
	// PID is the process that logged the record; with workers > 0 it tells
	// the prefork workers apart.
	PID int
	// Level is empty for lines read before the first prefixed line.
	Level Level
	// Database is the database the thread served; empty for Odoo's "?"
	// (no database) and for an empty field.
	Database string
	// Logger is the Python logger name, e.g. "odoo.modules.loading".
	Logger string
	// Message is the rest of the first line, trailing blanks trimmed (Odoo
	// appends an empty perf_info field after a space).
	Message string
	// Continuation holds the unprefixed lines that follow: traceback lines,
	// psycopg's ERROR:/LINE 1:/HINT: lines, the rest of a multi-line
	// message. Trailing blanks are trimmed; leading indentation is kept.
	Continuation []string
	// Dropped counts continuation lines not kept because of the
	// MaxContinuationLines and MaxContinuationBytes caps; they are taken
	// from the middle, between the first and the last lines.
	Dropped int
}
