// Package notify delivers the notifications an OdooInstance asks for with
// spec.webhook.url: a JSON POST for phase changes, upgrade results and
// rollbacks.
//
// A reconcile must never wait on somebody else's HTTP server, so Send only
// validates, encodes, signs and queues the event; a small pool of workers,
// started by the controller-runtime manager (Notifier is a Runnable), does the
// POSTs. The queue is bounded: when it is full the oldest pending delivery is
// dropped and counted, and Send still returns at once.
//
// Delivery is best effort and at least once while the operator runs: a
// delivery is retried with exponential backoff (honouring Retry-After) on
// network errors, 408, 429 and 5xx, and abandoned on any other status. The
// queue lives in memory, so a restart or a change of leader loses what is
// pending. Receivers should therefore:
//
//   - answer 2xx quickly and do the work afterwards;
//   - deduplicate on the "id" field (also sent as X-Odoo-Operator-Delivery),
//     which stays the same across the retries of one delivery;
//   - order events by "time", not by arrival, since retries and several
//     workers can reorder them;
//   - check X-Odoo-Operator-Signature with Verify when the instance names a
//     signing Secret.
//
// Secrets stay out of it: the payload has no credential field, the HMAC key
// is used once in Send to sign the body and is not kept, and logs and Result
// errors show the webhook URL as scheme://host only (the path of Slack-like
// webhook URLs is itself a token, and userinfo and query often carry one).
package notify
