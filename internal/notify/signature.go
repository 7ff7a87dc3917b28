package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Header names of a notification request.
const (
	// HeaderEvent carries the Event's Type.
	HeaderEvent = "X-Odoo-Operator-Event"
	// HeaderDelivery carries the Event's ID, the receiver's idempotency key.
	HeaderDelivery = "X-Odoo-Operator-Delivery"
	// HeaderSignature carries "sha256=" and the hex HMAC-SHA256 of the exact
	// body, the scheme GitHub uses, so existing receiver code can be reused.
	HeaderSignature = "X-Odoo-Operator-Signature"
)

const signaturePrefix = "sha256="

// Sign returns the HeaderSignature value for body under key.
func Sign(body, key []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether header, a HeaderSignature value, is the signature
// of body under key. Receivers must verify the raw body they read, before any
// JSON decoding. The comparison is constant-time so a forger learns nothing
// from response times. An empty key never verifies: an unsigned request must
// not pass for a signed one.
func Verify(body []byte, header string, key []byte) bool {
	if len(key) == 0 {
		return false
	}
	hexSig, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
