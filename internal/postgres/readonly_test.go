package postgres

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestPlanReadOnlyRole(t *testing.T) {
	const pw = "read only password for bi"
	good, err := NewScramVerifier(pw)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewScramVerifier("another password")
	ro := DesiredReadOnlyRole{Name: "odoo.ns.shop_ro", Password: pw, ConnectionLimit: 5}
	ok := ObservedReadOnlyRole{ObservedRole: ObservedRole{Exists: true, CanLogin: true, Verifier: good, VerifierKnown: true},
		ConnectionLimit: 5, ReadOnlyDefault: true}
	mod := func(f func(*ObservedReadOnlyRole)) ObservedReadOnlyRole { o := ok; f(&o); return o }
	tests := []struct {
		name    string
		ro      DesiredReadOnlyRole
		owner   string
		o       ObservedReadOnlyRole
		want    []Action
		wantErr error
	}{
		{name: "in place", ro: ro, owner: "odoo.ns.shop", o: ok},
		{name: "missing", ro: ro, owner: "odoo.ns.shop",
			want: []Action{CreateReadOnlyRole{Role: ro.Name, Limit: 5}, SetReadOnlyDefault{Role: ro.Name}}},
		{name: "password differs", ro: ro, owner: "odoo.ns.shop", o: mod(func(o *ObservedReadOnlyRole) { o.Verifier = other }),
			want: []Action{SetRolePassword{Role: ro.Name, Reason: "stored password differs"}}},
		{name: "limit changed, NOLOGIN, read-write default", ro: ro, owner: "odoo.ns.shop",
			o:    mod(func(o *ObservedReadOnlyRole) { o.ConnectionLimit, o.CanLogin, o.ReadOnlyDefault = -1, false, false }),
			want: []Action{SetRoleLogin{Role: ro.Name}, SetRoleConnectionLimit{Role: ro.Name, Limit: 5}, SetReadOnlyDefault{Role: ro.Name}}},
		{name: "verifier unreadable, recorded", ro: ro, owner: "odoo.ns.shop",
			o: mod(func(o *ObservedReadOnlyRole) { o.Verifier, o.VerifierKnown, o.PasswordRecorded = "", false, true })},
		{name: "superuser of that name", ro: ro, owner: "odoo.ns.shop", o: mod(func(o *ObservedReadOnlyRole) { o.Privileged = true }), wantErr: ErrConflict},
		{name: "CREATEDB role of that name", ro: ro, owner: "odoo.ns.shop", o: mod(func(o *ObservedReadOnlyRole) { o.CreateDB = true }), wantErr: ErrConflict},
		{name: "member of another role", ro: ro, owner: "odoo.ns.shop", o: mod(func(o *ObservedReadOnlyRole) { o.MemberOf = true }), wantErr: ErrConflict},
		{name: "not the owner's _ro", ro: ro, owner: "odoo.ns.other", wantErr: ErrInvalid},
		{name: "empty password", ro: DesiredReadOnlyRole{Name: ro.Name, ConnectionLimit: 5}, owner: "odoo.ns.shop", wantErr: ErrUnsupportedPassword},
		{name: "bad limit", ro: DesiredReadOnlyRole{Name: ro.Name, Password: pw, ConnectionLimit: -2}, owner: "odoo.ns.shop", wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanReadOnlyRole(tt.ro, tt.owner, tt.o)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("actions = %v, want %v", got, tt.want)
			}
			for _, a := range got {
				if strings.Contains(a.String(), pw) || strings.Contains(a.sql("SCRAM-SHA-256$x"), pw) {
					t.Fatalf("%v carries the password", a)
				}
			}
		})
	}
}

func TestPlanReadOnlyGrants(t *testing.T) {
	got := PlanReadOnlyGrants("odoo.ns.shop_ro", "ns_shop", []string{"public", `we"ird`})
	want := []string{
		`GRANT CONNECT ON DATABASE "ns_shop" TO "odoo.ns.shop_ro"`,
		`GRANT USAGE ON SCHEMA "public" TO "odoo.ns.shop_ro"`,
		`GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO "odoo.ns.shop_ro"`,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA "public" GRANT SELECT ON TABLES TO "odoo.ns.shop_ro"`,
		`GRANT USAGE ON SCHEMA "we""ird" TO "odoo.ns.shop_ro"`,
		`GRANT SELECT ON ALL TABLES IN SCHEMA "we""ird" TO "odoo.ns.shop_ro"`,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA "we""ird" GRANT SELECT ON TABLES TO "odoo.ns.shop_ro"`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].SQL != want[i] {
			t.Errorf("statement %d = %s, want %s", i, got[i].SQL, want[i])
		}
	}
	revokes := PlanReadOnlyRevokes("odoo.ns.shop_ro", "ns_shop", []string{"public"})
	if last := revokes[len(revokes)-1].SQL; last != `REVOKE ALL ON DATABASE "ns_shop" FROM "odoo.ns.shop_ro"` {
		t.Errorf("last revoke = %s", last)
	}
}
