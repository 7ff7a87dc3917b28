package logwatch

import "strings"

// Category is the kind of problem a log record reports, chosen so that each
// one points to a different fix.
type Category string

// The categories Classify returns.
const (
	// DatabaseSchema: the code expects tables or columns the database does
	// not have, i.e. new code runs on a database that was not upgraded.
	DatabaseSchema Category = "DatabaseSchema"
	// ModuleLoading: an addon could not be found, imported, installed or
	// upgraded, or the registry could not be built.
	ModuleLoading Category = "ModuleLoading"
	// DatabaseConnection: PostgreSQL could not be reached or refused the
	// login.
	DatabaseConnection Category = "DatabaseConnection"
	// Permission: Odoo's access rules, PostgreSQL privileges or file
	// permissions denied an operation.
	Permission Category = "Permission"
	// Serialization: concurrent transactions collided (serialization
	// failures, deadlocks, lock timeouts); usually transient.
	Serialization Category = "Serialization"
	// Resource: a memory, CPU or time limit was hit, a worker was killed, or
	// the disk is full.
	Resource Category = "Resource"
	// Other: nothing above was recognised.
	Other Category = "Other"
)

// rule matches a record when one of its lines contains substr (and also,
// when set). Matching is case-sensitive: the texts are fixed strings from
// Odoo, psycopg, PostgreSQL and Python, and case folding would cost more
// than the rest of the parsing.
type rule struct {
	substr, also string
	cat          Category
}

// rules are ordered from most to least specific. When a record's lines match
// several rules the first one wins, so a root cause in a traceback (lost
// connection, lock timeout, missing column) beats the generic "Failed to
// load registry" message on top of it.
var rules = [...]rule{
	// libpq and psycopg connection errors; "FATAL:" is how PostgreSQL
	// reports failures at connection time (unknown database or role,
	// authentication, shutdown).
	{substr: "could not connect to server", cat: DatabaseConnection},
	{substr: "connection to server at", cat: DatabaseConnection},
	{substr: "Connection to the database failed", cat: DatabaseConnection},
	{substr: "Database connection failure", cat: DatabaseConnection},
	{substr: "password authentication failed", cat: DatabaseConnection},
	{substr: "no pg_hba.conf entry", cat: DatabaseConnection},
	{substr: "server closed the connection unexpectedly", cat: DatabaseConnection},
	{substr: "could not translate host name", cat: DatabaseConnection},
	{substr: "the database system is", cat: DatabaseConnection},
	{substr: "terminating connection due to administrator command", cat: DatabaseConnection},
	{substr: "too many clients already", cat: DatabaseConnection},
	{substr: "remaining connection slots are reserved", cat: DatabaseConnection},
	{substr: "The Connection Pool Is Full", cat: DatabaseConnection},
	{substr: "FATAL:", cat: DatabaseConnection},

	{substr: "could not serialize access", cat: Serialization},
	{substr: "SERIALIZATION_FAILURE", cat: Serialization},
	{substr: "SerializationFailure", cat: Serialization},
	{substr: "deadlock detected", cat: Serialization},
	{substr: "DeadlockDetected", cat: Serialization},
	{substr: "LockNotAvailable", cat: Serialization},
	{substr: "lock timeout", cat: Serialization},
	{substr: "could not obtain lock", cat: Serialization},
	{substr: "TransactionRollbackError", cat: Serialization},

	// Not a bare "does not exist": Odoo's MissingError says "Record does
	// not exist or has been deleted", which is about data, not schema.
	{substr: "column ", also: " does not exist", cat: DatabaseSchema},
	{substr: "relation ", also: " does not exist", cat: DatabaseSchema},
	{substr: "UndefinedColumn", cat: DatabaseSchema},
	{substr: "UndefinedTable", cat: DatabaseSchema},

	{substr: "AccessError", cat: Permission},
	{substr: "AccessDenied", cat: Permission},
	{substr: "Access Denied", cat: Permission},
	{substr: "access rights", cat: Permission},
	{substr: "You are not allowed to access", cat: Permission},
	{substr: "permission denied", cat: Permission},
	{substr: "Permission denied", cat: Permission},
	{substr: "InsufficientPrivilege", cat: Permission},
	{substr: "must be owner of", cat: Permission},

	// odoo/service/server.py: "Worker (%d) virtual memory limit (%s)
	// reached.", "Worker (%d) CPU time limit (%s) reached.", "Thread %s
	// virtual real time limit (%d/%ds) reached.", "%s (%s) timeout after
	// %ss" (the watchdog's SIGKILL).
	{substr: "virtual memory limit", cat: Resource},
	{substr: "CPU time limit", cat: Resource},
	{substr: "real time limit", cat: Resource},
	{substr: ") timeout after ", cat: Resource},
	{substr: "statement timeout", cat: Resource},
	{substr: "MemoryError", cat: Resource},
	{substr: "out of memory", cat: Resource},
	{substr: "Out of memory", cat: Resource},
	{substr: "OOMKilled", cat: Resource},
	{substr: "Cannot allocate memory", cat: Resource},
	{substr: "No space left on device", cat: Resource},
	{substr: "DiskFull", cat: Resource},

	// odoo/modules/{module,graph,loading,registry}.py and service/server.py.
	{substr: "Couldn't load module", cat: ModuleLoading},
	{substr: "Failed to load server-wide module", cat: ModuleLoading},
	{substr: "Failed to load registry", cat: ModuleLoading},
	{substr: "Failed to initialize database", cat: ModuleLoading},
	{substr: "inconsistent states", cat: ModuleLoading},
	{substr: "Some modules are not loaded", cat: ModuleLoading},
	{substr: "not installable, skipped", cat: ModuleLoading},
	{substr: "Unmet dependencies", cat: ModuleLoading},
	{substr: "Transient module states were reset", cat: ModuleLoading},
	{substr: "module base cannot be loaded", cat: ModuleLoading},
	{substr: "invalid module names", cat: ModuleLoading},
	{substr: "is declared but cannot be loaded", cat: ModuleLoading},
	{substr: "ModuleNotFoundError", cat: ModuleLoading},
	{substr: "No module named", cat: ModuleLoading},
	{substr: "ImportError", cat: ModuleLoading},
	{substr: "ParseError", cat: ModuleLoading},

	// Last: an addon calling an HTTP API can be refused too, so this only
	// counts when nothing more specific matched.
	{substr: "Connection refused", cat: DatabaseConnection},
}

// Classify returns the category of a record, from its message and
// continuation lines. It is cheap enough to run on every record.
func Classify(rec Record) Category {
	// Request lines carry the client's URL, which must not be mistaken for
	// an error text; werkzeug's errors are logged at ERROR.
	if rec.Logger == "werkzeug" && (rec.Level == LevelInfo || rec.Level == LevelDebug) {
		return Other
	}
	best := firstRule(rec.Message, len(rules))
	for _, l := range rec.Continuation {
		if best == 0 {
			break
		}
		best = firstRule(l, best)
	}
	if best == len(rules) {
		return Other
	}
	return rules[best].cat
}

// firstRule returns the index of the first rule before limit that matches s,
// or limit.
func firstRule(s string, limit int) int {
	for i := 0; i < limit; i++ {
		r := &rules[i]
		if strings.Contains(s, r.substr) && (r.also == "" || strings.Contains(s, r.also)) {
			return i
		}
	}
	return limit
}
