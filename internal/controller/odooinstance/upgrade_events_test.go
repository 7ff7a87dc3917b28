package odooinstance

import (
	"strings"
	"testing"
	"unicode/utf8"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestFailureTextHasOnePrefix(t *testing.T) {
	judged := &odoov1alpha2.UpgradeStatus{ImageAttempted: "odoo:b", Message: "upgrade to odoo:b failed: module web: Couldn't load module web"}
	if got := failureText(judged, 900); strings.Count(got, "upgrade to odoo:b failed") != 1 {
		t.Errorf("judged failure: %q", got)
	}
	cancelled := &odoov1alpha2.UpgradeStatus{ImageAttempted: "odoo:b", Message: "cancelled: spec.image changed"}
	if got := failureText(cancelled, 900); got != "upgrade to odoo:b failed: cancelled: spec.image changed" {
		t.Errorf("other failure: %q", got)
	}
}

func TestTruncateKeepsCharactersWhole(t *testing.T) {
	s := strings.Repeat("sale 18.0.1.0 → 18.0.1.1, ", 10)
	for n := 1; n < len(s); n++ {
		got := truncate(s, n)
		if !utf8.ValidString(got) || len(strings.TrimSuffix(got, "…")) > n {
			t.Fatalf("truncate(%d) = %q", n, got)
		}
	}
	if truncate("short", 10) != "short" {
		t.Error("a short string was changed")
	}
}
