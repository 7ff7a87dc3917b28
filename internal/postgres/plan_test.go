package postgres

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestPlanEnsure(t *testing.T) {
	const pw = "correct horse battery staple"
	good, err := NewScramVerifier(pw)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewScramVerifier("something else entirely")
	role := DesiredRole{Name: "odoo.ns.shop", Password: pw}
	db := DesiredDatabase{Name: "ns_shop", Owner: "odoo.ns.shop"}
	okRole := ObservedRole{Exists: true, CanLogin: true, Verifier: good, VerifierKnown: true, AdminCanUse: true}
	okDB := ObservedDatabase{Exists: true, Owner: "odoo.ns.shop"}
	superuserMissing := ObservedRole{AdminCanUse: true} // what the executor reports for a missing role and a superuser admin

	tests := []struct {
		name    string
		role    DesiredRole
		db      DesiredDatabase
		or      ObservedRole
		od      ObservedDatabase
		want    []Action
		wantErr error
	}{
		{name: "all in place", role: role, db: db, or: okRole, od: okDB, want: nil},
		{
			name: "nothing exists (superuser admin)", role: role, db: db, or: superuserMissing,
			want: []Action{CreateRole{Role: role.Name}, CreateDatabase{Database: db.Name, Owner: role.Name}},
		},
		{
			name: "nothing exists (non-superuser admin)", role: role, db: db,
			want: []Action{CreateRole{Role: role.Name}, GrantRoleToAdmin{Role: role.Name}, CreateDatabase{Database: db.Name, Owner: role.Name}},
		},
		{
			name: "database missing", role: role, db: db, or: okRole,
			want: []Action{CreateDatabase{Database: db.Name, Owner: role.Name}},
		},
		{
			name: "owner defaults to the role", role: role, db: DesiredDatabase{Name: db.Name}, or: okRole,
			want: []Action{CreateDatabase{Database: db.Name, Owner: role.Name}},
		},
		{
			name: "verifier differs", role: role, db: db, or: with(okRole, func(o *ObservedRole) { o.Verifier = other }), od: okDB,
			want: []Action{SetRolePassword{Role: role.Name, Reason: "stored password differs"}},
		},
		{
			name: "md5 password", role: role, db: db, or: with(okRole, func(o *ObservedRole) { o.Verifier = "md5" + strings.Repeat("a", 32) }), od: okDB,
			want: []Action{SetRolePassword{Role: role.Name, Reason: "stored password is not SCRAM-SHA-256"}},
		},
		{
			name: "no password", role: role, db: db, or: with(okRole, func(o *ObservedRole) { o.Verifier = "" }), od: okDB,
			want: []Action{SetRolePassword{Role: role.Name, Reason: "no password set"}},
		},
		{
			name: "verifier unknown, not recorded", role: role, db: db,
			or: with(okRole, func(o *ObservedRole) { o.Verifier, o.VerifierKnown = "", false }), od: okDB,
			want: []Action{SetRolePassword{Role: role.Name, Reason: "stored password cannot be read"}},
		},
		{
			name: "verifier unknown, recorded", role: role, db: db,
			or: with(okRole, func(o *ObservedRole) { o.Verifier, o.VerifierKnown, o.PasswordRecorded = "", false, true }), od: okDB,
			want: nil,
		},
		{
			name: "verifier known and right: the record does not matter", role: role, db: db,
			or: with(okRole, func(o *ObservedRole) { o.Verifier = other; o.PasswordRecorded = true }), od: okDB,
			want: []Action{SetRolePassword{Role: role.Name, Reason: "stored password differs"}},
		},
		{
			name: "NOLOGIN", role: role, db: db, or: with(okRole, func(o *ObservedRole) { o.CanLogin = false }), od: okDB,
			want: []Action{SetRoleLogin{Role: role.Name}},
		},
		{
			name: "wrong password and NOLOGIN and no database", role: role, db: db,
			or: with(okRole, func(o *ObservedRole) { o.CanLogin = false; o.Verifier = other }),
			want: []Action{
				SetRolePassword{Role: role.Name, Reason: "stored password differs"}, SetRoleLogin{Role: role.Name},
				CreateDatabase{Database: db.Name, Owner: role.Name},
			},
		},
		{
			// Another application's database (keycloak) made by the admin.
			name: "database owned by the admin is never taken over", role: role, db: db, or: okRole,
			od: ObservedDatabase{Exists: true, Owner: "postgres"}, wantErr: ErrConflict,
		},
		{
			name: "database owned by a superuser is never taken over", role: role, db: db, or: okRole,
			od: ObservedDatabase{Exists: true, Owner: "dba"}, wantErr: ErrConflict,
		},
		{
			name: "non-superuser admin: database owned by the admin itself is never taken over", role: role, db: db,
			or: with(okRole, func(o *ObservedRole) { o.AdminCanUse = false; o.VerifierKnown = false; o.PasswordRecorded = true }),
			od: ObservedDatabase{Exists: true, Owner: "ops"}, wantErr: ErrConflict,
		},
		{
			// Created by the operator, by the reference operator's Odoo as
			// the role, or handed over by a PostgreSQL administrator.
			name: "database already owned by the role is adopted as is", role: role, db: db,
			or:   with(okRole, func(o *ObservedRole) { o.Verifier = other }),
			od:   ObservedDatabase{Exists: true, Owner: role.Name},
			want: []Action{SetRolePassword{Role: role.Name, Reason: "stored password differs"}},
		},
		{
			name: "non-superuser admin: no grant needed to adopt an owned database", role: role, db: db,
			or:   with(okRole, func(o *ObservedRole) { o.AdminCanUse = false; o.VerifierKnown = false; o.PasswordRecorded = true }),
			od:   okDB,
			want: nil,
		},
		{
			name: "database owned by another ordinary role", role: role, db: db, or: okRole,
			od: ObservedDatabase{Exists: true, Owner: "odoo.other.shop"}, wantErr: ErrConflict,
		},
		{
			name: "template database", role: role, db: db, or: okRole,
			od: ObservedDatabase{Exists: true, Owner: role.Name, IsTemplate: true}, wantErr: ErrConflict,
		},
		{
			name: "privileged role", role: role, db: db, or: with(okRole, func(o *ObservedRole) { o.Privileged = true }), od: okDB,
			wantErr: ErrConflict,
		},
		{name: "role name too long", role: DesiredRole{Name: strings.Repeat("r", 64), Password: pw}, db: db, wantErr: ErrInvalid},
		{name: "role name 63 bytes is fine", role: DesiredRole{Name: strings.Repeat("é", 31) + "r", Password: pw}, db: DesiredDatabase{Name: "d"},
			or: superuserMissing, want: []Action{CreateRole{Role: strings.Repeat("é", 31) + "r"}, CreateDatabase{Database: "d", Owner: strings.Repeat("é", 31) + "r"}}},
		{name: "role name reserved", role: DesiredRole{Name: "pg_monitor", Password: pw}, db: db, wantErr: ErrInvalid},
		{name: "role name empty", role: DesiredRole{Password: pw}, db: db, wantErr: ErrInvalid},
		{name: "database name too long", role: role, db: DesiredDatabase{Name: strings.Repeat("d", 64)}, wantErr: ErrInvalid},
		{name: "system database", role: role, db: DesiredDatabase{Name: "postgres"}, wantErr: ErrInvalid},
		{name: "template1", role: role, db: DesiredDatabase{Name: "Template1"}, wantErr: ErrInvalid},
		{name: "owner is another role", role: role, db: DesiredDatabase{Name: "d", Owner: "x"}, wantErr: ErrInvalid},
		{name: "empty password", role: DesiredRole{Name: role.Name}, db: db, wantErr: ErrUnsupportedPassword},
		{name: "non-ASCII password", role: DesiredRole{Name: role.Name, Password: "pässwört"}, db: db, wantErr: ErrUnsupportedPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanEnsure(tt.role, tt.db, tt.or, tt.od)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				assertNoSecret(t, err.Error(), pw)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("plan\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func with(o ObservedRole, f func(*ObservedRole)) ObservedRole {
	f(&o)
	return o
}

func TestPlanDrop(t *testing.T) {
	const r, d = "odoo.ns.shop", "ns_shop"
	role := ObservedRole{Exists: true, CanLogin: true, AdminCanUse: true}
	db := ObservedDatabase{Exists: true, Owner: r}
	tests := []struct {
		name     string
		roleName string
		dbName   string
		or       ObservedRole
		od       ObservedDatabase
		want     []Action
		wantErr  error
	}{
		{name: "both", roleName: r, dbName: d, or: role, od: db, want: []Action{DropDatabase{Database: d}, DropRole{Role: r}}},
		{name: "role only exists", roleName: r, dbName: d, or: role, want: []Action{DropRole{Role: r}}},
		{name: "nothing exists", roleName: r, dbName: d},
		{name: "no database asked", roleName: r, or: role, want: []Action{DropRole{Role: r}}},
		{
			name: "non-superuser admin joins the role first", roleName: r, dbName: d,
			or: with(role, func(o *ObservedRole) { o.AdminCanUse = false }), od: db,
			want: []Action{GrantRoleToAdmin{Role: r}, DropDatabase{Database: d}, DropRole{Role: r}},
		},
		{name: "database owned by someone else", roleName: r, dbName: d, or: role, od: ObservedDatabase{Exists: true, Owner: "postgres"}, wantErr: ErrConflict},
		{name: "database without role", dbName: d, od: db, wantErr: ErrConflict},
		{name: "template", roleName: r, dbName: d, or: role, od: ObservedDatabase{Exists: true, Owner: r, IsTemplate: true}, wantErr: ErrConflict},
		{name: "privileged role", roleName: r, dbName: d, or: with(role, func(o *ObservedRole) { o.Privileged = true }), wantErr: ErrConflict},
		{name: "system database", roleName: r, dbName: "template0", wantErr: ErrInvalid},
		{name: "reserved role", roleName: "postgres", dbName: d, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanDrop(tt.roleName, tt.dbName, tt.or, tt.od)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("plan\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestActionSQLAndString(t *testing.T) {
	const verifier = "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$AAAA:BBBB"
	weird := `odoo."x"; DROP ROLE postgres; --`
	tests := []struct {
		a       Action
		sql     string
		str     string
		needsPw bool
	}{
		{CreateRole{Role: "odoo.ns.a"},
			`CREATE ROLE "odoo.ns.a" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD '` + verifier + `'`,
			`create role "odoo.ns.a"`, true},
		{SetRolePassword{Role: weird, Reason: "stored password differs"},
			`ALTER ROLE "odoo.""x""; DROP ROLE postgres; --" WITH PASSWORD '` + verifier + `'`,
			`set password of role "odoo.\"x\"; DROP ROLE postgres; --" (stored password differs)`, true},
		{SetRoleLogin{Role: "r"}, `ALTER ROLE "r" WITH LOGIN`, `allow login for role "r"`, false},
		{GrantRoleToAdmin{Role: "r"}, `GRANT "r" TO CURRENT_USER`, `grant role "r" to the admin`, false},
		{CreateDatabase{Database: "ns_a", Owner: "odoo.ns.a"},
			`CREATE DATABASE "ns_a" WITH OWNER "odoo.ns.a" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C'`,
			`create database "ns_a" owned by "odoo.ns.a"`, false},
		{DropDatabase{Database: "d"}, `DROP DATABASE IF EXISTS "d" WITH (FORCE)`, `drop database "d"`, false},
		{DropRole{Role: "r"}, `DROP ROLE IF EXISTS "r"`, `drop role "r"`, false},
	}
	for _, tt := range tests {
		if got := tt.a.sql(verifier); got != tt.sql {
			t.Errorf("%T sql\n got %s\nwant %s", tt.a, got, tt.sql)
		}
		for _, s := range []string{tt.a.String(), fmt.Sprint(tt.a), fmt.Sprintf("%v", []Action{tt.a})} {
			if s != tt.str && s != "["+tt.str+"]" {
				t.Errorf("%T String() = %s, want %s", tt.a, s, tt.str)
			}
			if strings.Contains(s, "SCRAM") {
				t.Errorf("%T String() contains the verifier", tt.a)
			}
		}
		if tt.a.needsVerifier() != tt.needsPw {
			t.Errorf("%T needsVerifier = %v", tt.a, tt.a.needsVerifier())
		}
	}
}

func TestQuoteLiteral(t *testing.T) {
	for in, want := range map[string]string{
		"abc":        `'abc'`,
		"it's":       `'it''s'`,
		`back\slash`: ` E'back\\slash'`,
		`'\`:         ` E'''\\'`,
	} {
		if got := quoteLiteral(in); got != want {
			t.Errorf("quoteLiteral(%q) = %s, want %s", in, got, want)
		}
	}
}
