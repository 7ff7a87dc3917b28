package observe

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
)

var descCertExpiry = prometheus.NewDesc("odoo_operator_webhook_certificate_expiry_timestamp_seconds",
	"NotAfter (unix seconds) of the webhook server's serving certificate, read from the certificate directory at scrape time; the earliest of the chain.", nil, nil)

var descCertReadable = prometheus.NewDesc("odoo_operator_webhook_certificate_readable",
	"1 when the webhook server's certificate file could be read and parsed at scrape time.", nil, nil)

// CertExpiryCollector reports the expiry of the certificate the webhook
// server serves. It reads the file the server reads (CertDir/tls.crt), so it
// tells the truth whoever writes it: the operator's own rotator or
// cert-manager.
type CertExpiryCollector struct {
	// CertDir holds tls.crt.
	CertDir string
}

var _ prometheus.Collector = (*CertExpiryCollector)(nil)

// Describe sends the descriptions.
func (c *CertExpiryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCertExpiry
	ch <- descCertReadable
}

// Collect reads the certificate.
func (c *CertExpiryCollector) Collect(ch chan<- prometheus.Metric) {
	notAfter, err := certNotAfter(filepath.Join(c.CertDir, "tls.crt"))
	ch <- prometheus.MustNewConstMetric(descCertReadable, prometheus.GaugeValue, b2f(err == nil))
	if err == nil {
		ch <- prometheus.MustNewConstMetric(descCertExpiry, prometheus.GaugeValue, notAfter)
	}
}

// certNotAfter is the earliest NotAfter of the PEM certificates in path: the
// chain stops working when its first member expires.
func certNotAfter(path string) (float64, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the operator's own certificate directory
	if err != nil {
		return 0, err
	}
	earliest := 0.0
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return 0, err
		}
		if t := unix(c.NotAfter); earliest == 0 || t < earliest {
			earliest = t
		}
	}
	if earliest == 0 {
		return 0, errors.New("no certificate in " + path)
	}
	return earliest, nil
}
