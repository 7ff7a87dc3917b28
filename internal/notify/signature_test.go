package notify

import (
	"strings"
	"testing"
)

func TestSignKnownVector(t *testing.T) {
	// RFC 4231-style check against the well-known HMAC-SHA256 example.
	got := Sign([]byte("The quick brown fox jumps over the lazy dog"), []byte("key"))
	want := "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"x","type":"PhaseChanged"}`)
	key := []byte("k1")
	sig := Sign(body, key)
	tests := []struct {
		name   string
		body   []byte
		header string
		key    []byte
		want   bool
	}{
		{"good", body, sig, key, true},
		{"upper-case hex", body, "sha256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256=")), key, true},
		{"other key", body, sig, []byte("k2"), false},
		{"empty key", body, Sign(body, nil), nil, false},
		{"tampered body", append([]byte(" "), body...), sig, key, false},
		{"missing prefix", body, strings.TrimPrefix(sig, "sha256="), key, false},
		{"other algorithm", body, "sha1=" + strings.TrimPrefix(sig, "sha256="), key, false},
		{"bad hex", body, "sha256=zz", key, false},
		{"truncated", body, sig[:len(sig)-2], key, false},
		{"empty header", body, "", key, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verify(tt.body, tt.header, tt.key); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}
