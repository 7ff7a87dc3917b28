package postgres

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// MaxIdentifierLen is PostgreSQL's identifier limit (NAMEDATALEN-1 bytes).
// Longer names are refused, never truncated.
const MaxIdentifierLen = 63

// DesiredRole is the login role of an instance and its password.
type DesiredRole struct {
	Name     string
	Password string
}

// String omits the password.
func (r DesiredRole) String() string { return fmt.Sprintf("role %q", r.Name) }

// GoString omits the password.
func (r DesiredRole) GoString() string { return r.String() }

// DesiredDatabase is the database of an instance. Owner must be the
// instance's role (empty means the role).
type DesiredDatabase struct {
	Name  string
	Owner string
}

// ObservedRole is what the server says about the role.
type ObservedRole struct {
	Exists   bool
	CanLogin bool
	// Privileged: superuser, CREATEROLE, REPLICATION or BYPASSRLS. Such a role
	// is never managed (nor dropped) by the Manager.
	Privileged bool
	// Verifier is pg_authid.rolpassword ("" for NULL); meaningful only when
	// VerifierKnown.
	Verifier string
	// VerifierKnown is false when the admin cannot read pg_authid (it is not
	// a superuser).
	VerifierKnown bool
	// PasswordRecorded is set by the executor when its in-memory record says
	// it set (or checked) exactly the desired password on this role before.
	// It only matters when !VerifierKnown: the password is then set unless
	// PasswordRecorded.
	PasswordRecorded bool
	// AdminCanUse is true when the admin has the privileges of the role and
	// can SET ROLE to it: it is a superuser (then true even when the role does
	// not exist yet) or a member of the role. A non-superuser admin needs
	// that to create, hand over or drop the role's database.
	AdminCanUse bool
}

// ObservedDatabase is what the server says about the database.
type ObservedDatabase struct {
	Exists     bool
	Owner      string
	IsTemplate bool
}

// Action is one change to apply, in order. String never contains a password
// or a verifier, so it is safe for logs and events.
type Action interface {
	fmt.Stringer
	// sql returns the statement; verifier is the new SCRAM verifier for the
	// actions that set a password.
	sql(verifier string) string
	needsVerifier() bool
}

// CreateRole creates the login role with a password.
type CreateRole struct{ Role string }

// GrantRoleToAdmin makes a non-superuser admin a member of the role, which
// PostgreSQL requires to create, hand over or drop a database it owns.
type GrantRoleToAdmin struct{ Role string }

// SetRolePassword sets the role's password (as a SCRAM verifier).
type SetRolePassword struct {
	Role   string
	Reason string
}

// SetRoleLogin gives the role LOGIN.
type SetRoleLogin struct{ Role string }

// CreateDatabase creates the database the way Odoo does (template0, UTF8,
// LC_COLLATE 'C'), owned by the role.
type CreateDatabase struct{ Database, Owner string }

// DropDatabase drops the database, closing its connections (WITH (FORCE)).
type DropDatabase struct{ Database string }

// DropRole drops the role.
type DropRole struct{ Role string }

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func (a CreateRole) String() string { return fmt.Sprintf("create role %q", a.Role) }
func (a CreateRole) sql(verifier string) string {
	return "CREATE ROLE " + ident(a.Role) +
		" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD " + quoteLiteral(verifier)
}
func (CreateRole) needsVerifier() bool { return true }

func (a GrantRoleToAdmin) String() string {
	return fmt.Sprintf("grant role %q to the admin", a.Role)
}
func (a GrantRoleToAdmin) sql(string) string { return "GRANT " + ident(a.Role) + " TO CURRENT_USER" }
func (GrantRoleToAdmin) needsVerifier() bool { return false }

func (a SetRolePassword) String() string {
	if a.Reason == "" {
		return fmt.Sprintf("set password of role %q", a.Role)
	}
	return fmt.Sprintf("set password of role %q (%s)", a.Role, a.Reason)
}
func (a SetRolePassword) sql(verifier string) string {
	return "ALTER ROLE " + ident(a.Role) + " WITH PASSWORD " + quoteLiteral(verifier)
}
func (SetRolePassword) needsVerifier() bool { return true }

func (a SetRoleLogin) String() string        { return fmt.Sprintf("allow login for role %q", a.Role) }
func (a SetRoleLogin) sql(string) string     { return "ALTER ROLE " + ident(a.Role) + " WITH LOGIN" }
func (SetRoleLogin) needsVerifier() bool     { return false }
func (a CreateDatabase) needsVerifier() bool { return false }
func (a CreateDatabase) String() string {
	return fmt.Sprintf("create database %q owned by %q", a.Database, a.Owner)
}
func (a CreateDatabase) sql(string) string {
	return "CREATE DATABASE " + ident(a.Database) + " WITH OWNER " + ident(a.Owner) +
		" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C'"
}

func (a DropDatabase) String() string { return fmt.Sprintf("drop database %q", a.Database) }
func (a DropDatabase) sql(string) string {
	return "DROP DATABASE IF EXISTS " + ident(a.Database) + " WITH (FORCE)"
}
func (DropDatabase) needsVerifier() bool { return false }

func (a DropRole) String() string    { return fmt.Sprintf("drop role %q", a.Role) }
func (a DropRole) sql(string) string { return "DROP ROLE IF EXISTS " + ident(a.Role) }
func (DropRole) needsVerifier() bool { return false }

// quoteLiteral quotes s as an SQL string literal, like libpq's
// PQescapeLiteral: quotes are doubled, and backslashes are doubled inside an
// E” literal so the result means the same whatever
// standard_conforming_strings is.
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return " E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}

// ErrConflict is returned when the role or the database exists but may not
// be managed: a privileged role, a database owned by another role, a
// template or system database.
var ErrConflict = errors.New("postgres object conflict")

// ErrInvalid is returned for names or passwords PostgreSQL cannot take as
// given (too long, empty, reserved).
var ErrInvalid = errors.New("invalid postgres request")

// systemDatabases are never created, altered or dropped.
var systemDatabases = []string{"postgres", "template0", "template1"}

// ValidateRoleName checks a role name: non-empty, at most 63 bytes, no NUL,
// not reserved (pg_*, public, none, current_user, session_user,
// current_role, postgres).
func ValidateRoleName(name string) error {
	if err := validateIdentifier("role", name); err != nil {
		return err
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "pg_") || slices.Contains(
		[]string{"public", "none", "current_user", "session_user", "current_role", "postgres"}, lower) {
		return fmt.Errorf("%w: role name %q is reserved", ErrInvalid, name)
	}
	return nil
}

// ValidateDatabaseName checks a database name: non-empty, at most 63 bytes,
// no NUL, not postgres, template0 or template1.
func ValidateDatabaseName(name string) error {
	if err := validateIdentifier("database", name); err != nil {
		return err
	}
	if slices.Contains(systemDatabases, strings.ToLower(name)) {
		return fmt.Errorf("%w: database %q is a system database", ErrInvalid, name)
	}
	return nil
}

func validateIdentifier(kind, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: %s name is empty", ErrInvalid, kind)
	case len(name) > MaxIdentifierLen:
		return fmt.Errorf("%w: %s name %q is %d bytes, PostgreSQL allows %d", ErrInvalid, kind, name, len(name), MaxIdentifierLen)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("%w: %s name contains a NUL character", ErrInvalid, kind)
	}
	return nil
}

// PlanEnsure returns the actions that bring the role and the database to the
// desired state, in order; none when they are already there. It refuses
// (ErrConflict) to manage a privileged role, a template database or a
// database that exists and is not owned by the instance's role, and
// (ErrInvalid) bad names or passwords.
//
// An existing database is adopted only when it is provably the instance's:
// its owner is already the instance's role, which only this instance derives
// (odoo.<namespace>.<name>) and which cannot create databases. It is then
// the database the operator created for it, the one the reference operator's
// Odoo created as that role, or one a PostgreSQL administrator handed over
// on purpose (ALTER DATABASE ... OWNER TO the role: the opt-in for migrating
// clusters). Ownership is never changed by the operator: a database owned by
// the admin, a superuser or any other role (another application's, another
// tenant's) is never taken over.
func PlanEnsure(role DesiredRole, db DesiredDatabase, or ObservedRole, od ObservedDatabase) ([]Action, error) {
	if err := ValidateRoleName(role.Name); err != nil {
		return nil, err
	}
	if err := ValidateDatabaseName(db.Name); err != nil {
		return nil, err
	}
	if db.Owner != "" && db.Owner != role.Name {
		return nil, fmt.Errorf("%w: database %q must be owned by the instance's role %q, not %q", ErrInvalid, db.Name, role.Name, db.Owner)
	}
	if err := checkRolePassword(role.Password); err != nil {
		return nil, fmt.Errorf("role %q: %w", role.Name, err)
	}
	if or.Exists && or.Privileged {
		return nil, fmt.Errorf("%w: role %q exists with superuser, CREATEROLE, REPLICATION or BYPASSRLS; refusing to manage it", ErrConflict, role.Name)
	}
	if od.Exists && od.IsTemplate {
		return nil, fmt.Errorf("%w: database %q is a template database; refusing to manage it", ErrConflict, db.Name)
	}
	if od.Exists && od.Owner != role.Name {
		return nil, fmt.Errorf("%w: database %q already exists and is owned by role %q, not by the instance's role %q; refusing to take it over "+
			"(recreate the instance with another spec.database.name, or, to adopt a database that really is this instance's, have a PostgreSQL administrator run ALTER DATABASE %s OWNER TO %s)",
			ErrConflict, db.Name, od.Owner, role.Name, ident(db.Name), ident(role.Name))
	}

	var actions []Action
	if !or.Exists {
		actions = append(actions, CreateRole{Role: role.Name})
	} else {
		switch {
		case !or.VerifierKnown:
			if !or.PasswordRecorded {
				actions = append(actions, SetRolePassword{Role: role.Name, Reason: "stored password cannot be read"})
			}
		case or.Verifier == "":
			actions = append(actions, SetRolePassword{Role: role.Name, Reason: "no password set"})
		case !IsScramVerifier(or.Verifier):
			actions = append(actions, SetRolePassword{Role: role.Name, Reason: "stored password is not SCRAM-SHA-256"})
		case !VerifierMatches(or.Verifier, role.Password):
			actions = append(actions, SetRolePassword{Role: role.Name, Reason: "stored password differs"})
		}
		if !or.CanLogin {
			actions = append(actions, SetRoleLogin{Role: role.Name})
		}
	}

	if !od.Exists {
		if !or.AdminCanUse {
			actions = append(actions, GrantRoleToAdmin{Role: role.Name})
		}
		actions = append(actions, CreateDatabase{Database: db.Name, Owner: role.Name})
	}
	return actions, nil
}

// PlanDrop returns the actions that drop the database and then the role,
// skipping what does not exist. An empty name skips that object. It refuses
// (ErrConflict) to drop a database not owned by the role, a template or
// system database, or a privileged role.
func PlanDrop(roleName, dbName string, or ObservedRole, od ObservedDatabase) ([]Action, error) {
	if roleName != "" {
		if err := ValidateRoleName(roleName); err != nil {
			return nil, err
		}
	}
	if dbName != "" {
		if err := ValidateDatabaseName(dbName); err != nil {
			return nil, err
		}
	}
	if roleName != "" && or.Exists && or.Privileged {
		return nil, fmt.Errorf("%w: role %q has superuser, CREATEROLE, REPLICATION or BYPASSRLS; refusing to drop it", ErrConflict, roleName)
	}
	var actions []Action
	if dbName != "" && od.Exists {
		switch {
		case od.IsTemplate:
			return nil, fmt.Errorf("%w: database %q is a template database; refusing to drop it", ErrConflict, dbName)
		case roleName == "" || od.Owner != roleName:
			return nil, fmt.Errorf("%w: database %q is owned by %q, not by the instance's role %q; refusing to drop it",
				ErrConflict, dbName, od.Owner, roleName)
		}
		if or.Exists && !or.AdminCanUse {
			actions = append(actions, GrantRoleToAdmin{Role: roleName})
		}
		actions = append(actions, DropDatabase{Database: dbName})
	}
	if roleName != "" && or.Exists {
		actions = append(actions, DropRole{Role: roleName})
	}
	return actions, nil
}
