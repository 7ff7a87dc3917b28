package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"time"
)

// servingCommonName is informative only: clients match the SANs.
const servingCommonName = "odoo-operator-webhook"

// render carries out a on the Secret's data: it makes the keys and
// certificates plan asked for and keeps everything else byte for byte
// (including keys of the Secret this package does not know).
func render(now time.Time, data map[string][]byte, a actions, st state, o Options) (map[string][]byte, error) {
	out := maps.Clone(data)
	if out == nil {
		out = map[string][]byte{}
	}
	ca, caKey, bundle := st.ca, st.caKey, st.bundle
	if a.newCA != "" {
		var err error
		ca, caKey, err = newCA(now, o)
		if err != nil {
			return nil, err
		}
		keyPEM, err := encodeKey(caKey)
		if err != nil {
			return nil, err
		}
		out[CAKeyKey] = keyPEM
		bundle = canonicalBundle(ca, append([]*x509.Certificate{ca}, st.bundle...))
	}
	out[CACertKey] = encodeBundle(bundle)
	if a.newCert != "" {
		certPEM, keyPEM, err := newServingCert(now, ca, caKey, o)
		if err != nil {
			return nil, err
		}
		out[TLSCertKey], out[TLSKeyKey] = certPEM, keyPEM
	}
	return out, nil
}

// newCA makes a self-signed ECDSA P-256 CA valid from now-ClockSkew for
// CAValidity. Its common name records now, rounded up to the second so that
// the grace period is never shortened (see createdAt).
func newCA(now time.Time, o Options) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating the CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: fmt.Sprintf("%s%d", caCommonNamePrefix, now.Add(time.Second-1).Unix())},
		NotBefore:             now.Add(-o.ClockSkew),
		NotAfter:              now.Add(o.CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("signing the CA: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}

// newServingCert issues an ECDSA P-256 serverAuth certificate for the SANs
// of o, valid from now-ClockSkew for CertValidity but never past the CA.
func newServingCert(now time.Time, ca *x509.Certificate, caKey crypto.Signer, o Options) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating the serving key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(o.CertValidity)
	if ca.NotAfter.Before(notAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: servingCommonName},
		DNSNames:     o.DNSNames,
		IPAddresses:  o.IPAddresses,
		NotBefore:    now.Add(-o.ClockSkew),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("signing the serving certificate: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding a private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// randomSerial is a 128-bit serial number, as RFC 5280 asks (at most 20
// octets, positive).
func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("drawing a serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil
}
