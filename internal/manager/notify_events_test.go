package manager

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/client-go/tools/events"

	"github.com/odoo-operator/odoo-operator/internal/notify"
)

// A notification that failed for good becomes a Warning event on its
// instance; delivered and dropped ones do not.
func TestNotificationEvents(t *testing.T) {
	rec := events.NewFakeRecorder(10)
	on := notificationEvents(rec)
	inst := notify.Instance{Namespace: "shop", Name: "shop", UID: "u1"}
	on(notify.Result{ID: "d1", Type: notify.EventPhaseChanged, Instance: inst, Outcome: notify.OutcomeDelivered})
	on(notify.Result{ID: "d2", Type: notify.EventPhaseChanged, Instance: inst, Outcome: notify.OutcomeDropped, Err: errors.New("queue full")})
	on(notify.Result{ID: "d3", Type: notify.EventRolledBack, Instance: inst, Outcome: notify.OutcomeFailed,
		Err: errors.New("POST http://localhost:30001: 127.0.0.1:30001 is a loopback address: refused")})
	select {
	case e := <-rec.Events:
		if !strings.HasPrefix(e, "Warning NotificationFailed") || !strings.Contains(e, "d3") || !strings.Contains(e, "loopback") {
			t.Errorf("event %q", e)
		}
	default:
		t.Fatal("no event for the failed notification")
	}
	select {
	case e := <-rec.Events:
		t.Errorf("an event for a delivered or dropped notification: %q", e)
	default:
	}
}
