package notify

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EventType names what happened. It is the payload's "type" and the
// X-Odoo-Operator-Event header, so receivers can route without parsing.
type EventType string

// Event types the operator sends.
const (
	// EventPhaseChanged reports a change of status.phase.
	EventPhaseChanged EventType = "PhaseChanged"
	// EventUpgradeSucceeded reports a module upgrade that completed.
	EventUpgradeSucceeded EventType = "UpgradeSucceeded"
	// EventUpgradeFailed reports a module upgrade that failed.
	EventUpgradeFailed EventType = "UpgradeFailed"
	// EventRolledBack reports that the operator reverted to the previous image.
	EventRolledBack EventType = "RolledBack"
)

// maxMessageBytes bounds Event.Message: messages often quote Odoo or Job
// output, and a receiver should not get a log file in a notification.
const maxMessageBytes = 2048

// timeFormat is RFC 3339 in UTC with fixed millisecond precision: sortable as
// text, and fine enough to order a PhaseChanged and an UpgradeSucceeded
// emitted in the same second.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Instance identifies the OdooInstance an event is about. The UID tells a
// receiver apart two instances that had the same name at different times.
type Instance struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid"`
}

// InstanceOf returns the Instance of a Kubernetes object.
func InstanceOf(obj metav1.Object) Instance {
	return Instance{Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: string(obj.GetUID())}
}

// Event is the JSON body of a notification. It deliberately has no field
// for credentials, Secret names or connection strings: it is sent to a URL
// anybody who can edit the instance chooses. Message must not carry secrets
// either; it is cut to 2 KiB.
type Event struct {
	// ID identifies the delivery and is the same across its retries, so a
	// receiver can use it as an idempotency key. Send fills it with a random
	// value when empty; a caller that may send the same fact twice (e.g. a
	// reconcile retried before its status update landed) can set a
	// deterministic one instead.
	ID string `json:"id"`
	// Type is what happened.
	Type EventType `json:"type"`
	// Instance is the OdooInstance concerned.
	Instance Instance `json:"instance"`
	// Time is when it happened; Send uses the current time when zero. It is
	// encoded as RFC 3339 in UTC with milliseconds.
	Time time.Time `json:"time"`
	// Phase is the instance's phase after the event.
	Phase string `json:"phase,omitempty"`
	// PreviousPhase is the phase before a PhaseChanged.
	PreviousPhase string `json:"previousPhase,omitempty"`
	// Image is the Odoo image running, or being upgraded to.
	Image string `json:"image,omitempty"`
	// PreviousImage is the image an upgrade replaced, or the image a
	// rollback moved away from (Image then being the one restored).
	PreviousImage string `json:"previousImage,omitempty"`
	// Message is a human-readable explanation, e.g. a condition message.
	Message string `json:"message,omitempty"`
}

// MarshalJSON encodes Time in a fixed RFC 3339 format (see timeFormat)
// rather than time.Time's variable-length nanoseconds.
func (e Event) MarshalJSON() ([]byte, error) {
	// An explicit wire struct, rather than embedding Event, keeps "time" in
	// its place after "instance" for people reading the payload.
	return json.Marshal(struct {
		ID            string    `json:"id"`
		Type          EventType `json:"type"`
		Instance      Instance  `json:"instance"`
		Time          string    `json:"time"`
		Phase         string    `json:"phase,omitempty"`
		PreviousPhase string    `json:"previousPhase,omitempty"`
		Image         string    `json:"image,omitempty"`
		PreviousImage string    `json:"previousImage,omitempty"`
		Message       string    `json:"message,omitempty"`
	}{
		ID: e.ID, Type: e.Type, Instance: e.Instance, Time: e.Time.UTC().Format(timeFormat),
		Phase: e.Phase, PreviousPhase: e.PreviousPhase,
		Image: e.Image, PreviousImage: e.PreviousImage, Message: e.Message,
	})
}

// truncateMessage cuts s to maxMessageBytes on a rune boundary, marking the cut.
func truncateMessage(s string) string {
	if len(s) <= maxMessageBytes {
		return s
	}
	const ellipsis = "…"
	i := maxMessageBytes - len(ellipsis)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + ellipsis
}
