package certs

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// caCommonNamePrefix starts the CA's common name; the creation time follows
// the "@" (as in client-go's self-signed certificates). The CA's NotBefore
// is back-dated by the clock skew, so the name is what tells how long the CA
// has been published.
const caCommonNamePrefix = "odoo-operator-webhook-ca@"

// actions is what a Rotator must do to the Secret. The zero value means
// "nothing": the Secret is current.
type actions struct {
	// newCA says why a new signing CA is made ("" keeps the current one).
	// The current CA stays in the bundle until it expires.
	newCA string
	// newCert says why a new serving certificate is issued ("" keeps it).
	newCert string
	// rewriteBundle: ca.crt drops expired or unusable entries, or is put
	// back in canonical order, even though no certificate is made.
	rewriteBundle bool
	// certDeferred: the serving certificate is due but waits until the
	// young signing CA has been published for the grace period.
	certDeferred bool
	// next is when the answer of plan changes if nothing else does (a
	// renewal falls due, a CA expires, a grace period ends); zero if never.
	next time.Time
}

// writes reports whether the Secret must be written.
func (a actions) writes() bool {
	return a.newCA != "" || a.newCert != "" || a.rewriteBundle
}

// at makes next the earlier of next and t.
func (a *actions) at(t time.Time) {
	if a.next.IsZero() || t.Before(a.next) {
		a.next = t
	}
}

// state is what a Secret holds, parsed at one instant.
type state struct {
	// bundle holds the CA certificates of ca.crt that have not expired,
	// in canonical order (signing CA first).
	bundle []*x509.Certificate
	// canonical: ca.crt is byte for byte encodeBundle(bundle).
	canonical bool
	// ca and caKey are the signing CA: the bundle entry matching ca.key.
	ca        *x509.Certificate
	caKey     crypto.Signer
	caProblem string
	// leaf is tls.crt's certificate when tls.crt and tls.key form a pair.
	leaf        *x509.Certificate
	leafProblem string
}

// plan decides what must happen to secret (nil when it does not exist) at
// now. It has no side effects: keys are made later, by render.
//
// The order of a CA rotation is what keeps requests from failing: a new CA
// joins the bundle while the serving certificate stays signed by the old
// one; the serving certificate moves to the new CA only at its next renewal
// and not before the new CA has been published for CAGracePeriod; the old CA
// leaves the bundle when it expires, and no certificate it signed outlives
// it.
func plan(now time.Time, secret *corev1.Secret, o Options) actions {
	a, _ := planState(now, secret, o)
	return a
}

func planState(now time.Time, secret *corev1.Secret, o Options) (actions, state) {
	var data map[string][]byte
	if secret != nil {
		data = secret.Data
	}
	st := parseState(now, data)
	var a actions
	a.rewriteBundle = !st.canonical

	caAge := time.Duration(0)
	switch {
	case st.ca == nil:
		a.newCA = st.caProblem
	case st.ca.NotBefore.After(now):
		a.newCA = fmt.Sprintf("the CA is not valid before %s (clock skew between replicas?)", st.ca.NotBefore.UTC().Format(time.RFC3339))
	case st.ca.NotAfter.Sub(now) < o.CARenewBefore:
		a.newCA = fmt.Sprintf("the CA expires at %s", st.ca.NotAfter.UTC().Format(time.RFC3339))
	default:
		a.at(st.ca.NotAfter.Add(-o.CARenewBefore))
		caAge = now.Sub(createdAt(st.ca))
	}
	// Expired CAs leave the bundle: that is a write too.
	for _, c := range st.bundle {
		a.at(c.NotAfter)
	}

	if st.leaf == nil {
		a.newCert = st.leafProblem
		return a, st
	}
	root, err := verifyLeaf(st.leaf, st.bundle, now)
	if err != nil {
		a.newCert = "the serving certificate does not verify against the CA bundle: " + err.Error()
		return a, st
	}
	if want, got := nameSet(o.DNSNames, o.IPAddresses), nameSet(st.leaf.DNSNames, st.leaf.IPAddresses); !slices.Equal(want, got) {
		a.newCert = fmt.Sprintf("the serving certificate is for %v, not %v", got, want)
		return a, st
	}
	expiry := st.leaf.NotAfter
	if root.NotAfter.Before(expiry) {
		expiry = root.NotAfter
	}
	renewAt := expiry.Add(-o.CertRenewBefore)
	signedByCurrent := a.newCA == "" && root.Equal(st.ca)
	graceLeft := o.CAGracePeriod - caAge
	switch {
	case now.Before(renewAt):
		a.at(renewAt)
	case signedByCurrent || graceLeft <= 0 || !now.Add(graceLeft).Before(expiry):
		// Renew now: with the CA that signed it, with a CA that every
		// API server has seen, or because waiting would outlive it.
		a.newCert = fmt.Sprintf("the serving certificate expires at %s", expiry.UTC().Format(time.RFC3339))
	default:
		a.certDeferred = true
		a.at(now.Add(graceLeft))
	}
	return a, st
}

// parseState reads a Secret's data. Anything unusable is reported as a
// problem, never as an error: the cure for garbage is a new certificate.
func parseState(now time.Time, data map[string][]byte) state {
	var st state
	var cas []*x509.Certificate
	rest := data[CACertKey]
	for len(rest) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil || !c.IsCA || !c.BasicConstraintsValid || c.KeyUsage&x509.KeyUsageCertSign == 0 || !now.Before(c.NotAfter) {
			continue
		}
		if !slices.ContainsFunc(cas, c.Equal) {
			cas = append(cas, c)
		}
	}

	key, keyErr := parseKey(data[CAKeyKey])
	switch {
	case len(data[CACertKey]) == 0 && len(data[CAKeyKey]) == 0:
		st.caProblem = "there is no CA yet"
	case keyErr != nil:
		st.caProblem = "the CA key is unusable: " + keyErr.Error()
	default:
		for _, c := range cas {
			if samePublicKey(key, c.PublicKey) {
				st.ca, st.caKey = c, key
				break
			}
		}
		if st.ca == nil {
			st.caProblem = "no valid CA certificate in ca.crt matches ca.key"
		}
	}
	st.bundle = canonicalBundle(st.ca, cas)
	st.canonical = bytes.Equal(encodeBundle(st.bundle), data[CACertKey])

	switch pair, err := tls.X509KeyPair(data[TLSCertKey], data[TLSKeyKey]); {
	case len(data[TLSCertKey]) == 0:
		st.leafProblem = "there is no serving certificate yet"
	case err != nil:
		st.leafProblem = "the serving certificate is unusable: " + err.Error()
	default:
		st.leaf = pair.Leaf
		if st.leaf == nil {
			st.leaf, err = x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				st.leaf, st.leafProblem = nil, "the serving certificate is unusable: "+err.Error()
			}
		}
	}
	return st
}

// canonicalBundle orders the CAs the same way on every replica: the signing
// CA first, then the others from the latest to the earliest expiry.
func canonicalBundle(signing *x509.Certificate, cas []*x509.Certificate) []*x509.Certificate {
	out := make([]*x509.Certificate, 0, len(cas))
	var others []*x509.Certificate
	for _, c := range cas {
		if signing != nil && c.Equal(signing) {
			out = append(out, c)
		} else {
			others = append(others, c)
		}
	}
	slices.SortStableFunc(others, func(x, y *x509.Certificate) int {
		if c := y.NotAfter.Compare(x.NotAfter); c != 0 {
			return c
		}
		return bytes.Compare(x.Raw, y.Raw)
	})
	return append(out, others...)
}

func encodeBundle(cas []*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range cas {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// verifyLeaf checks leaf as a TLS client would, and returns the CA it
// chains to.
func verifyLeaf(leaf *x509.Certificate, bundle []*x509.Certificate, now time.Time) (*x509.Certificate, error) {
	roots := x509.NewCertPool()
	for _, c := range bundle {
		roots.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, err
	}
	chain := chains[0]
	return chain[len(chain)-1], nil
}

// createdAt is when a CA was made: the time in its common name, or its
// NotBefore for a CA that is not ours.
func createdAt(ca *x509.Certificate) time.Time {
	if s, ok := strings.CutPrefix(ca.Subject.CommonName, caCommonNamePrefix); ok {
		if unix, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(unix, 0)
		}
	}
	return ca.NotBefore
}

// nameSet is the sorted set of SANs, IPs in canonical text form.
func nameSet(dnsNames []string, ips []net.IP) []string {
	out := make([]string, 0, len(dnsNames)+len(ips))
	for _, n := range dnsNames {
		out = append(out, "dns:"+strings.ToLower(n))
	}
	for _, ip := range ips {
		out = append(out, "ip:"+ip.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func parseKey(b []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T cannot sign", key)
	}
	return signer, nil
}

func samePublicKey(key crypto.Signer, pub crypto.PublicKey) bool {
	k, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(pub)
}
