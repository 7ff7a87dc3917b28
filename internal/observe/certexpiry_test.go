package observe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func pemCert(t *testing.T, notAfter time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "webhook"}, NotBefore: notAfter.Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestCertExpiryCollector reads the earliest NotAfter of the served chain,
// and reports an unreadable certificate instead of a stale value.
func TestCertExpiryCollector(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(&CertExpiryCollector{CertDir: dir})

	want := func(body string) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(body),
			"odoo_operator_webhook_certificate_expiry_timestamp_seconds", "odoo_operator_webhook_certificate_readable"); err != nil {
			t.Error(err)
		}
	}
	want(`
# HELP odoo_operator_webhook_certificate_readable 1 when the webhook server's certificate file could be read and parsed at scrape time.
# TYPE odoo_operator_webhook_certificate_readable gauge
odoo_operator_webhook_certificate_readable 0
`)
	leaf := pemCert(t, time.Unix(1_800_000_000, 0))
	ca := pemCert(t, time.Unix(1_900_000_000, 0))
	if err := os.WriteFile(filepath.Join(dir, "tls.crt"), append(ca, leaf...), 0o600); err != nil {
		t.Fatal(err)
	}
	want(`
# HELP odoo_operator_webhook_certificate_expiry_timestamp_seconds NotAfter (unix seconds) of the webhook server's serving certificate, read from the certificate directory at scrape time; the earliest of the chain.
# TYPE odoo_operator_webhook_certificate_expiry_timestamp_seconds gauge
odoo_operator_webhook_certificate_expiry_timestamp_seconds 1.8e+09
# HELP odoo_operator_webhook_certificate_readable 1 when the webhook server's certificate file could be read and parsed at scrape time.
# TYPE odoo_operator_webhook_certificate_readable gauge
odoo_operator_webhook_certificate_readable 1
`)
}
