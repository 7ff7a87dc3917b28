package notify

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEventJSON(t *testing.T) {
	ev := Event{
		ID:       "abc",
		Type:     EventUpgradeSucceeded,
		Instance: Instance{Namespace: "ns", Name: "odoo", UID: "u-1"},
		Time:     time.Date(2026, 3, 1, 13, 4, 5, 678_900_000, time.FixedZone("CET", 3600)),
		Phase:    "Running",
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"abc","type":"UpgradeSucceeded","instance":{"namespace":"ns","name":"odoo","uid":"u-1"},` +
		`"time":"2026-03-01T12:04:05.678Z","phase":"Running"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	// A receiver written in Go can decode it back.
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Time.Equal(ev.Time.Truncate(time.Millisecond)) || back.Instance != ev.Instance {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestTruncateMessage(t *testing.T) {
	short := "upgrade failed"
	if got := truncateMessage(short); got != short {
		t.Errorf("short message changed: %q", got)
	}
	long := strings.Repeat("é", maxMessageBytes) // 2 bytes per rune
	got := truncateMessage(long)
	if len(got) > maxMessageBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("truncated to %d bytes, valid UTF-8 %v, suffix %q", len(got), utf8.ValidString(got), got[len(got)-3:])
	}
}

func TestInstanceOf(t *testing.T) {
	obj := &metav1.ObjectMeta{Namespace: "ns", Name: "odoo", UID: "u-1"}
	if got, want := InstanceOf(obj), (Instance{Namespace: "ns", Name: "odoo", UID: "u-1"}); got != want {
		t.Errorf("InstanceOf = %+v, want %+v", got, want)
	}
}

// TestEventFieldsAllEncoded fails when a field is added to Event but not to
// MarshalJSON's wire struct, and when a field name looks like a credential:
// the payload goes to a URL anybody who edits the instance chooses.
func TestEventFieldsAllEncoded(t *testing.T) {
	var ev Event
	v := reflect.ValueOf(&ev).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Struct:
			if f.Type() == reflect.TypeFor[Instance]() {
				f.Set(reflect.ValueOf(Instance{Namespace: "x", Name: "x", UID: "x"}))
			}
		default:
		}
	}
	ev.Time = time.Now()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != v.NumField() {
		t.Errorf("payload has %d keys, Event has %d fields: %s", len(m), v.NumField(), b)
	}
	for i := range v.NumField() {
		tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if _, ok := m[tag]; !ok {
			t.Errorf("field %s (%q) missing from the payload", v.Type().Field(i).Name, tag)
		}
	}
	for k := range m {
		lk := strings.ToLower(k)
		for _, bad := range []string{"secret", "password", "token", "key", "credential", "auth"} {
			if strings.Contains(lk, bad) {
				t.Errorf("payload key %q looks like a credential", k)
			}
		}
	}
}
