package postgres

import (
	"fmt"
	"strconv"
)

// The read-only login of an instance (spec.readOnlySqlAccess): a role
// <instance role>_ro that can log in, connect to the instance's database and
// SELECT its tables, for BI tools. Its life has two halves, each planned by a
// pure function and applied by the Manager:
//
//   - the role itself (create, password, connection limit, drop): DDL on
//     shared catalogs, as the admin, in the maintenance database, touching
//     nothing a tenant can create;
//   - its privileges inside the instance's database (GRANT ... TO it): as the
//     instance's own role, never as the admin. The tenant owns that database
//     and every object in it, so it can grant SELECT on them itself, and
//     whatever its objects might run (a trigger, a function, an operator)
//     runs with the tenant's rights only.

// DefaultReadOnlyConnectionLimit is the read-only role's connection limit
// when none is given, as in the reference operator.
const DefaultReadOnlyConnectionLimit = 5

// ReadOnlySuffix ends the read-only role's name.
const ReadOnlySuffix = "_ro"

// DesiredReadOnlyRole is the read-only login: its name, password and
// connection limit (-1: none).
type DesiredReadOnlyRole struct {
	Name            string
	Password        string
	ConnectionLimit int32
}

// String omits the password.
func (r DesiredReadOnlyRole) String() string { return fmt.Sprintf("read-only role %q", r.Name) }

// GoString omits the password.
func (r DesiredReadOnlyRole) GoString() string { return r.String() }

// ObservedReadOnlyRole is what the server says about the read-only role.
type ObservedReadOnlyRole struct {
	ObservedRole
	// ConnectionLimit is pg_roles.rolconnlimit.
	ConnectionLimit int32
	// MemberOf is true when the role is a member of any other role: it would
	// have that role's privileges, more than read-only.
	MemberOf bool
	// CreateDB: the role may create databases.
	CreateDB bool
	// ReadOnlyDefault: default_transaction_read_only is on for the role.
	ReadOnlyDefault bool
}

// SetRoleConnectionLimit sets the role's CONNECTION LIMIT.
type SetRoleConnectionLimit struct {
	Role  string
	Limit int32
}

func (a SetRoleConnectionLimit) String() string {
	return fmt.Sprintf("set connection limit of role %q to %d", a.Role, a.Limit)
}
func (a SetRoleConnectionLimit) sql(string) string {
	return "ALTER ROLE " + ident(a.Role) + " WITH CONNECTION LIMIT " + strconv.Itoa(int(a.Limit))
}
func (SetRoleConnectionLimit) needsVerifier() bool { return false }

// CreateReadOnlyRole creates the read-only login: no privilege beyond
// logging in, read-only transactions by default, its connection limit.
type CreateReadOnlyRole struct {
	Role  string
	Limit int32
}

func (a CreateReadOnlyRole) String() string { return fmt.Sprintf("create read-only role %q", a.Role) }
func (a CreateReadOnlyRole) sql(verifier string) string {
	return "CREATE ROLE " + ident(a.Role) +
		" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT CONNECTION LIMIT " +
		strconv.Itoa(int(a.Limit)) + " PASSWORD " + quoteLiteral(verifier)
}
func (CreateReadOnlyRole) needsVerifier() bool { return true }

// SetReadOnlyDefault makes the role's transactions read-only by default, a
// second fence behind its privileges.
type SetReadOnlyDefault struct{ Role string }

func (a SetReadOnlyDefault) String() string {
	return fmt.Sprintf("make transactions of role %q read-only by default", a.Role)
}
func (a SetReadOnlyDefault) sql(string) string {
	return "ALTER ROLE " + ident(a.Role) + " SET default_transaction_read_only = on"
}
func (SetReadOnlyDefault) needsVerifier() bool { return false }

// ReadOnlyRoleName is the read-only role of an instance's role.
func ReadOnlyRoleName(role string) string { return role + ReadOnlySuffix }

// PlanReadOnlyRole returns the admin's actions that bring the read-only role
// to the desired state. It refuses (ErrConflict) a role of that name that has
// more than a login: superuser, CREATEROLE, REPLICATION, BYPASSRLS, CREATEDB,
// or membership in another role. Such a role is not the operator's, and
// handing its password to the tenant (the Secret) would hand over its
// privileges.
func PlanReadOnlyRole(ro DesiredReadOnlyRole, owner string, o ObservedReadOnlyRole) ([]Action, error) {
	if err := ValidateRoleName(ro.Name); err != nil {
		return nil, err
	}
	if ro.Name != ReadOnlyRoleName(owner) {
		return nil, fmt.Errorf("%w: the read-only role of %q is %q, not %q", ErrInvalid, owner, ReadOnlyRoleName(owner), ro.Name)
	}
	if err := checkRolePassword(ro.Password); err != nil {
		return nil, fmt.Errorf("role %q: %w", ro.Name, err)
	}
	if ro.ConnectionLimit < -1 {
		return nil, fmt.Errorf("%w: connection limit %d of role %q (use -1 for none)", ErrInvalid, ro.ConnectionLimit, ro.Name)
	}
	if !o.Exists {
		return []Action{CreateReadOnlyRole{Role: ro.Name, Limit: ro.ConnectionLimit}, SetReadOnlyDefault{Role: ro.Name}}, nil
	}
	if o.Privileged || o.CreateDB || o.MemberOf {
		return nil, fmt.Errorf("%w: role %q exists with more than a login (superuser, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS or membership in another role); refusing to make it the read-only role", ErrConflict, ro.Name)
	}
	var actions []Action
	switch {
	case !o.VerifierKnown:
		if !o.PasswordRecorded {
			actions = append(actions, SetRolePassword{Role: ro.Name, Reason: "stored password cannot be read"})
		}
	case !VerifierMatches(o.Verifier, ro.Password):
		actions = append(actions, SetRolePassword{Role: ro.Name, Reason: "stored password differs"})
	}
	if !o.CanLogin {
		actions = append(actions, SetRoleLogin{Role: ro.Name})
	}
	if o.ConnectionLimit != ro.ConnectionLimit {
		actions = append(actions, SetRoleConnectionLimit{Role: ro.Name, Limit: ro.ConnectionLimit})
	}
	if !o.ReadOnlyDefault {
		actions = append(actions, SetReadOnlyDefault{Role: ro.Name})
	}
	return actions, nil
}

// Grant is one privilege statement run inside the instance's database as the
// instance's own role.
type Grant struct {
	// SQL is the statement: identifiers quoted, no literal, no password.
	SQL string
}

func (g Grant) String() string { return g.SQL }

// PlanReadOnlyGrants returns the statements, run as the owner inside its
// database, that let the read-only role connect, use the owner's schemas and
// SELECT every table and view in them, including the tables Odoo creates
// later (default privileges of the owner). schemas are the schemas whose
// owner's privileges the owner has (its own and public). Every statement is
// idempotent: the whole list is applied each time.
func PlanReadOnlyGrants(ro, db string, schemas []string) []Grant {
	out := make([]Grant, 0, 1+3*len(schemas))
	out = append(out, Grant{"GRANT CONNECT ON DATABASE " + ident(db) + " TO " + ident(ro)})
	for _, s := range schemas {
		out = append(out,
			Grant{"GRANT USAGE ON SCHEMA " + ident(s) + " TO " + ident(ro)},
			Grant{"GRANT SELECT ON ALL TABLES IN SCHEMA " + ident(s) + " TO " + ident(ro)},
			Grant{"ALTER DEFAULT PRIVILEGES IN SCHEMA " + ident(s) + " GRANT SELECT ON TABLES TO " + ident(ro)},
		)
	}
	return out
}

// PlanReadOnlyRevokes undoes PlanReadOnlyGrants, so the role can be dropped.
func PlanReadOnlyRevokes(ro, db string, schemas []string) []Grant {
	var out []Grant
	for _, s := range schemas {
		out = append(out,
			Grant{"ALTER DEFAULT PRIVILEGES IN SCHEMA " + ident(s) + " REVOKE ALL ON TABLES FROM " + ident(ro)},
			Grant{"REVOKE ALL ON ALL TABLES IN SCHEMA " + ident(s) + " FROM " + ident(ro)},
			Grant{"REVOKE ALL ON SCHEMA " + ident(s) + " FROM " + ident(ro)},
		)
	}
	return append(out, Grant{"REVOKE ALL ON DATABASE " + ident(db) + " FROM " + ident(ro)})
}
