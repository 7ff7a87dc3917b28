package odooinstance

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/odoo-operator/odoo-operator/internal/logwatch"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
)

// TestEventNotes: the actions of one step, and the new errors of one
// sample, go into one event note (the events API would fold several events
// of one reason into a series and keep only the first note), bounded.
func TestEventNotes(t *testing.T) {
	if got, want := actionsNote([]postgres.Action{postgres.CreateRole{Role: "odoo.ns.shop"}, postgres.CreateRole{Role: "other"}}),
		`create role "odoo.ns.shop"; create role "other"`; got != want {
		t.Errorf("actionsNote = %q, want %q", got, want)
	}
	entry := func(msg string) logwatch.ErrorEntry {
		return logwatch.ErrorEntry{Category: "DatabaseSchema", Message: msg}
	}
	for _, tc := range []struct {
		name    string
		entries []logwatch.ErrorEntry
		want    string
	}{
		{"one", []logwatch.ErrorEntry{entry("bad query")}, "[DatabaseSchema] bad query"},
		{"three", []logwatch.ErrorEntry{entry("a"), entry("b"), entry("c")}, "[DatabaseSchema] a; [DatabaseSchema] b; [DatabaseSchema] c"},
		{"five: three and how many more", []logwatch.ErrorEntry{entry("a"), entry("b"), entry("c"), entry("d"), entry("e")},
			"[DatabaseSchema] a; [DatabaseSchema] b; [DatabaseSchema] c; and 2 more; see status.health"},
	} {
		if got := errorsNote(tc.entries); got != tc.want {
			t.Errorf("%s: errorsNote = %q, want %q", tc.name, got, tc.want)
		}
	}
	long := errorsNote([]logwatch.ErrorEntry{entry(strings.Repeat("é", 400)), entry(strings.Repeat("é", 400))})
	if len(long) > maxNote || !utf8.ValidString(long) || !strings.HasSuffix(long, "...") {
		t.Errorf("a long note is %d bytes, valid UTF-8 %v: %q", len(long), utf8.ValidString(long), long[len(long)-10:])
	}
}
