package postgres

import "testing"

// TestClientSSLMode: Odoo and the data Jobs get the effective sslmode, so
// a caCert without sslMode means verify-full for them as for the operator.
func TestClientSSLMode(t *testing.T) {
	for _, tt := range []struct{ mode, ca, want string }{
		{"", "", ""},
		{"", "PEM", SSLModeVerifyFull},
		{SSLModeRequire, "PEM", SSLModeRequire},
		{SSLModeDisable, "", SSLModeDisable},
		{SSLModeVerifyCA, "PEM", SSLModeVerifyCA},
	} {
		if got := (Cluster{SSLMode: tt.mode, CACert: tt.ca}).ClientSSLMode(); got != tt.want {
			t.Errorf("sslMode %q, caCert %q: ClientSSLMode %q, want %q", tt.mode, tt.ca, got, tt.want)
		}
	}
}
