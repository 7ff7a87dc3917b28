package odooinstance

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/notify"
)

func TestNotificationsFor(t *testing.T) {
	inst := func(f func(*odoov1alpha2.OdooInstance)) *odoov1alpha2.OdooInstance {
		o := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "ns", UID: "uid-1", Generation: 3}}
		o.Status.Phase = odoov1alpha2.PhaseRunning
		f(o)
		return o
	}
	same := func(*odoov1alpha2.OdooInstance) {}
	tests := []struct {
		name   string
		before *odoov1alpha2.OdooInstance
		after  *odoov1alpha2.OdooInstance
		want   []notify.EventType
	}{
		{"nothing changed", inst(same), inst(same), nil},
		{"phase changed", inst(same), inst(func(o *odoov1alpha2.OdooInstance) { o.Status.Phase = odoov1alpha2.PhaseDegraded }),
			[]notify.EventType{notify.EventPhaseChanged}},
		{"upgrade succeeded", inst(func(o *odoov1alpha2.OdooInstance) {
			o.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeRunning}
		}), inst(func(o *odoov1alpha2.OdooInstance) {
			o.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeSuccess, ImageAttempted: "b", FromImage: "a"}
		}), []notify.EventType{notify.EventUpgradeSucceeded}},
		{"upgrade failed", inst(func(o *odoov1alpha2.OdooInstance) {
			o.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeRunning}
		}), inst(func(o *odoov1alpha2.OdooInstance) {
			o.Status.Phase = odoov1alpha2.PhaseDegraded
			o.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeFailed, ImageAttempted: "b", FromImage: "a"}
		}), []notify.EventType{notify.EventPhaseChanged, notify.EventUpgradeFailed}},
		{"upgrade still running", inst(func(o *odoov1alpha2.OdooInstance) {
			o.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeRunning, Step: odoov1alpha2.UpgradeStepSnapshot}
		}), inst(func(o *odoov1alpha2.OdooInstance) {
			o.Status.Upgrade = &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeRunning, Step: odoov1alpha2.UpgradeStepUpgrade}
		}), nil},
		{"rolled back", inst(same), inst(func(o *odoov1alpha2.OdooInstance) {
			o.Status.Deployment.Rollback = &odoov1alpha2.RollbackStatus{FromImage: "b", ToImage: "a", Message: "crash loop"}
		}), []notify.EventType{notify.EventRolledBack}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := notificationsFor(tt.before, tt.after)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %v", got, tt.want)
			}
			for i, ev := range got {
				if ev.Type != tt.want[i] || ev.Instance.UID != "uid-1" || ev.ID == "" {
					t.Errorf("event %d = %+v, want type %s", i, ev, tt.want[i])
				}
			}
			again := notificationsFor(tt.before, tt.after)
			for i := range got {
				if again[i].ID != got[i].ID {
					t.Errorf("the same change gave two IDs: %s, %s", got[i].ID, again[i].ID)
				}
			}
		})
	}
}
