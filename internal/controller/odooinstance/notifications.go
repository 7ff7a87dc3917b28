package odooinstance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/notify"
)

// notificationsFor returns the notifications the status change from before
// to after calls for: phase changes, upgrade results and rollbacks. It is
// pure. Each event's ID is derived from what it reports, so a change noticed
// twice is delivered under one ID that receivers deduplicate on.
func notificationsFor(before, after *odoov1alpha2.OdooInstance) []notify.Event {
	inst := notify.InstanceOf(after)
	var events []notify.Event
	add := func(t notify.EventType, key string, ev notify.Event) {
		sum := sha256.Sum256([]byte(string(after.UID) + "\x00" + string(t) + "\x00" + key))
		ev.ID, ev.Type, ev.Instance, ev.Phase = hex.EncodeToString(sum[:16]), t, inst, string(after.Status.Phase)
		events = append(events, ev)
	}
	if before.Status.Phase != after.Status.Phase && after.Status.Phase != "" {
		add(notify.EventPhaseChanged, string(before.Status.Phase)+">"+string(after.Status.Phase)+"@"+fmt.Sprint(after.Generation), notify.Event{
			PreviousPhase: string(before.Status.Phase), Image: after.Status.Deployment.CurrentImage,
		})
	}
	if up := after.Status.Upgrade; up != nil && (before.Status.Upgrade == nil || before.Status.Upgrade.Phase != up.Phase) {
		key := up.ImageAttempted + "@" + up.JobName
		switch up.Phase {
		case odoov1alpha2.UpgradeSuccess:
			add(notify.EventUpgradeSucceeded, key, notify.Event{Image: up.ImageAttempted, PreviousImage: up.FromImage, Message: up.Message})
		case odoov1alpha2.UpgradeFailed:
			add(notify.EventUpgradeFailed, key, notify.Event{Image: up.FromImage, PreviousImage: up.ImageAttempted, Message: up.Message})
		}
	}
	if rb := after.Status.Deployment.Rollback; rb != nil && before.Status.Deployment.Rollback == nil {
		add(notify.EventRolledBack, rb.FromImage+">"+rb.ToImage, notify.Event{Image: rb.ToImage, PreviousImage: rb.FromImage, Message: rb.Message})
	}
	return events
}

func isDNSError(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

// notify sends the notifications of a stored status change to
// spec.webhook. It never blocks: the notifier queues and retries.
func (r *Reconciler) notify(ctx context.Context, before, after *odoov1alpha2.OdooInstance) {
	wh := after.Spec.Webhook
	if r.Notifier == nil || wh == nil || wh.URL == "" {
		return
	}
	events := notificationsFor(before, after)
	if len(events) == 0 {
		return
	}
	// The notifier refuses the connection anyway; this says why, on the
	// instance. A name that does not resolve now is left to the notifier,
	// which retries.
	if err := r.Egress.ResolveURL(ctx, nil, wh.URL, false); err != nil && !isDNSError(err) {
		r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, odoov1alpha2.EventNotificationRefused, "Notify",
			"spec.webhook.url: %s; no notification is sent there", err.Error())
		return
	}
	target := notify.Target{URL: wh.URL}
	if ref := wh.SecretRef; ref != nil {
		secret := &corev1.Secret{}
		err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: after.Namespace, Name: ref.Name}, secret)
		if err != nil || len(secret.Data[ref.Key]) == 0 {
			// Never send unsigned what the user asked to be signed.
			r.Recorder.Eventf(after, nil, corev1.EventTypeWarning, "NotificationNotSent", "Notify",
				"spec.webhook.secretRef: Secret %q key %q is missing or empty; create it to receive signed notifications", ref.Name, ref.Key)
			return
		}
		target.Key = secret.Data[ref.Key]
	}
	for _, ev := range events {
		r.Notifier.Send(target, ev)
	}
}
