package resources

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestDerivedDatabaseOf(t *testing.T) {
	rj := &odoov1alpha2.OdooRestoreJob{ObjectMeta: metav1.ObjectMeta{UID: "u1"}}
	st := &odoov1alpha2.UpgradeStatus{ImageAttempted: "odoo:18.0-v2"}
	long := strings.Repeat("l", 60)
	tests := []struct {
		live, name string
		want       bool
	}{
		{"prod_shop", RestoreTargetDatabaseName("prod_shop", rj), true},
		{"prod_shop", PreRestoreDatabaseName("prod_shop", rj), true},
		{"prod_shop", RestoreDatabaseName("prod_shop", st), true},
		{"prod_shop", KeptDatabaseName("prod_shop", st), true},
		{long, RestoreTargetDatabaseName(long, rj), true},
		{long, PreRestoreDatabaseName(long, rj), true},
		{"prod_shop", "prod_shop", false},
		{"prod_shop", "prod_shop_accounting", false},
		{"prod_shop", "prod_shop2_restore_0123abcd", false},
		{"prod_shop", "prod_sho_restore_0123abcd", false},
		{"prod_shop", "prod_shop_restore_0123abcdz", false},
		{"prod_shop", "prod_shop_restore_XYZ", false},
		{"prod", "prod_shop_restore_0123abcd", false},
	}
	for _, tt := range tests {
		if got := DerivedDatabaseOf(tt.live, tt.name); got != tt.want {
			t.Errorf("DerivedDatabaseOf(%q, %q) = %v, want %v", tt.live, tt.name, got, tt.want)
		}
	}
}
