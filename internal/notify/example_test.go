package notify_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/odoo-operator/odoo-operator/internal/notify"
)

// A receiver checks the signature on the raw body before decoding it, and
// deduplicates on the delivery id.
func ExampleVerify() {
	key := []byte("value of the Secret key named by spec.webhook.secretRef")
	seen := map[string]bool{}
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || !notify.Verify(body, r.Header.Get(notify.HeaderSignature), key) {
			http.Error(w, "bad signature", http.StatusUnauthorized) // 4xx: not retried
			return
		}
		id := r.Header.Get(notify.HeaderDelivery)
		if !seen[id] {
			seen[id] = true
			var ev notify.Event
			_ = json.Unmarshal(body, &ev)
			fmt.Println(ev.Type, ev.Instance.Name, ev.PreviousPhase, "->", ev.Phase)
		}
		w.WriteHeader(http.StatusNoContent)
	})

	body := `{"id":"1","type":"PhaseChanged","instance":{"namespace":"shop","name":"odoo","uid":"u"},` +
		`"time":"2026-03-01T12:00:00.000Z","phase":"Running","previousPhase":"Upgrading"}`
	for range 2 { // the same delivery twice, as a retry would send it
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
		req.Header.Set(notify.HeaderDelivery, "1")
		req.Header.Set(notify.HeaderSignature, notify.Sign([]byte(body), key))
		rec := httptest.NewRecorder()
		receiver.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// PhaseChanged odoo Upgrading -> Running
	// 204
	// 204
}
