package certs

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
)

const day = 24 * time.Hour

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testOptions are the production defaults: CA 365 d (renewed with 121.7 d
// left), cert 90 d (renewed with 30 d left), grace 10 m, skew 5 m.
func testOptions(t *testing.T) Options {
	t.Helper()
	o, err := Options{
		Namespace: "odoo-operator", SecretName: "webhook-certs",
		DNSNames:    []string{"odoo-operator-webhook.odoo-operator.svc"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// issued renders a Secret's data at "at" for the given actions on data.
func issued(t *testing.T, at time.Time, data map[string][]byte, a actions, o Options) map[string][]byte {
	t.Helper()
	_, st := planState(at, &corev1.Secret{Data: data}, o)
	out, err := render(at, data, a, st, o)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fresh(t *testing.T, at time.Time, o Options) map[string][]byte {
	return issued(t, at, nil, actions{newCA: "test", newCert: "test"}, o)
}

func with(data map[string][]byte, key string, value []byte) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range data {
		out[k] = v
	}
	if value == nil {
		delete(out, key)
	} else {
		out[key] = value
	}
	return out
}

func TestPlan(t *testing.T) {
	o := testOptions(t)
	base := fresh(t, t0, o)
	other := fresh(t, t0, o)
	// CA made at t0, serving certificate renewed at t0+240d with that CA:
	// at t0+244d the CA is due (121 d left) but the certificate is not.
	renewedLate := issued(t, t0.Add(240*day), base, actions{newCert: "test"}, o)
	// ...and at t0+244d a new CA joins the bundle.
	rotated := issued(t, t0.Add(244*day), renewedLate, actions{newCA: "test"}, o)
	// The same, but the serving certificate, signed by the old CA a minute
	// before, lasts 10 minutes: it expires before the grace period ends.
	short := o
	short.CertValidity = 10 * time.Minute
	rotatedShort := issued(t, t0.Add(244*day), issued(t, t0.Add(244*day-time.Minute), renewedLate, actions{newCert: "test"}, short), actions{newCA: "test"}, o)
	// An expired extra CA left in the bundle.
	staleCA := with(base, CACertKey, append(append([]byte{}, base[CACertKey]...), fresh(t, t0.Add(-400*day), o)[CACertKey]...))

	tests := []struct {
		name   string
		now    time.Time
		secret *corev1.Secret
		opts   func(*Options)
		// want: which actions; reason substrings for the CA and the cert.
		wantCA, wantCert string
		wantRewrite      bool
		wantDeferred     bool
		wantNext         time.Time // zero: not checked
	}{
		{name: "no Secret", now: t0, wantCA: "no CA yet", wantCert: "no serving certificate"},
		{name: "empty Secret", now: t0, secret: &corev1.Secret{}, wantCA: "no CA yet", wantCert: "no serving certificate"},
		{
			name: "valid: nothing to do until the serving certificate is due", now: t0.Add(time.Hour), secret: secretOf(base),
			wantNext: t0.Add(60 * day),
		},
		{name: "serving certificate near expiry", now: t0.Add(61 * day), secret: secretOf(base), wantCert: "expires at"},
		{name: "serving certificate expired after a long outage", now: t0.Add(91 * day), secret: secretOf(base), wantCert: "does not verify"},
		{
			name: "CA near expiry: new CA, serving certificate kept", now: t0.Add(244 * day), secret: secretOf(renewedLate),
			wantCA: "the CA expires at",
		},
		{
			name: "after a CA rotation the due certificate waits for the grace period", now: t0.Add(244*day + 5*time.Minute),
			secret:       secretOf(rotated),
			opts:         func(o *Options) { o.CertRenewBefore = 100 * day; o.CARenewBefore = 200 * day },
			wantDeferred: true, wantNext: t0.Add(244*day + 10*time.Minute),
		},
		{
			name: "after the grace period the certificate moves to the new CA", now: t0.Add(244*day + 11*time.Minute),
			secret:   secretOf(rotated),
			opts:     func(o *Options) { o.CertRenewBefore = 100 * day; o.CARenewBefore = 200 * day },
			wantCert: "expires at",
		},
		{
			name: "a certificate that would expire during the grace period is renewed at once", now: t0.Add(244*day + 5*time.Minute),
			secret:   secretOf(rotatedShort),
			opts:     func(o *Options) { o.CertValidity = 10 * time.Minute; o.CertRenewBefore = 9 * time.Minute },
			wantCert: "expires at",
		},
		{name: "new SAN", now: t0.Add(time.Hour), secret: secretOf(base), opts: func(o *Options) { o.DNSNames = append(o.DNSNames, "extra.example") }, wantCert: "is for"},
		{name: "SAN removed", now: t0.Add(time.Hour), secret: secretOf(base), opts: func(o *Options) { o.IPAddresses = nil }, wantCert: "is for"},
		{name: "same SANs in another order and case", now: t0.Add(time.Hour), secret: secretOf(base), opts: func(o *Options) {
			o.DNSNames = []string{"ODOO-operator-webhook.odoo-operator.svc", "odoo-operator-webhook.odoo-operator.svc"}
			o.IPAddresses = []net.IP{net.ParseIP("::ffff:127.0.0.1")}
		}},
		{
			name: "garbage everywhere", now: t0, secret: secretOf(map[string][]byte{CACertKey: []byte("garbage"), CAKeyKey: []byte("x"), TLSCertKey: []byte("y"), TLSKeyKey: []byte("z")}),
			wantCA: "CA key is unusable", wantCert: "unusable", wantRewrite: true,
		},
		{name: "garbage serving certificate only", now: t0.Add(time.Hour), secret: secretOf(with(base, TLSCertKey, []byte("garbage"))), wantCert: "unusable"},
		{name: "serving key of another pair", now: t0.Add(time.Hour), secret: secretOf(with(base, TLSKeyKey, other[TLSKeyKey])), wantCert: "unusable"},
		{
			name: "CA key of another CA: new CA, the old one stays trusted and the certificate is kept", now: t0.Add(time.Hour),
			secret: secretOf(with(base, CAKeyKey, other[CAKeyKey])), wantCA: "matches ca.key", wantRewrite: false,
		},
		{
			name: "serving certificate of another CA", now: t0.Add(time.Hour),
			secret: secretOf(with(with(base, TLSCertKey, other[TLSCertKey]), TLSKeyKey, other[TLSKeyKey])), wantCert: "does not verify",
		},
		{name: "ca.crt missing", now: t0.Add(time.Hour), secret: secretOf(with(base, CACertKey, nil)), wantCA: "matches ca.key", wantCert: "does not verify"},
		{
			name: "non-canonical ca.crt is rewritten", now: t0.Add(time.Hour),
			secret: secretOf(with(base, CACertKey, append([]byte("# a comment\n"), base[CACertKey]...))), wantRewrite: true,
		},
		{name: "an expired CA leaves the bundle", now: t0.Add(time.Hour), secret: secretOf(staleCA), wantRewrite: true},
		{name: "peer clock 2 min ahead (within the skew): adopted", now: t0, secret: secretOf(fresh(t, t0.Add(2*time.Minute), o))},
		{
			name: "peer clock 1 h ahead: its certificates are not valid yet here", now: t0, secret: secretOf(fresh(t, t0.Add(time.Hour), o)),
			wantCA: "not valid before", wantCert: "does not verify",
		},
		{name: "peer clock 1 h behind: adopted", now: t0, secret: secretOf(fresh(t, t0.Add(-time.Hour), o))},
		{name: "CA expired after a long outage", now: t0.Add(400 * day), secret: secretOf(base), wantCA: "matches ca.key", wantCert: "does not verify", wantRewrite: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			o := o
			if tt.opts != nil {
				tt.opts(&o)
			}
			a := plan(tt.now, tt.secret, o)
			checkReason(g, "newCA", a.newCA, tt.wantCA)
			checkReason(g, "newCert", a.newCert, tt.wantCert)
			g.Expect(a.rewriteBundle).To(Equal(tt.wantRewrite), "rewriteBundle")
			g.Expect(a.certDeferred).To(Equal(tt.wantDeferred), "certDeferred")
			if !tt.wantNext.IsZero() {
				g.Expect(a.next).To(BeTemporally("==", tt.wantNext))
			}
			g.Expect(a.next.IsZero() || !a.next.Before(tt.now) || a.writes()).To(BeTrue(), "next %s is in the past with nothing to do", a.next)
		})
	}
}

func checkReason(g Gomega, what, got, want string) {
	if want == "" {
		g.ExpectWithOffset(1, got).To(BeEmpty(), what)
		return
	}
	g.ExpectWithOffset(1, got).To(ContainSubstring(want), what)
}

func secretOf(data map[string][]byte) *corev1.Secret { return &corev1.Secret{Data: data} }

// TestPlanOverTime applies every plan while time passes, and checks what a
// client of the webhook would see: the served certificate always verifies
// against the published bundle, with time to spare; a CA signs a served
// certificate only after it was published for the grace period; the bundle
// never holds more than two CAs; and after render, plan asks for nothing
// more (no write loop).
func TestPlanOverTime(t *testing.T) {
	tests := []struct {
		name        string
		opts        func(*Options)
		span, step  time.Duration
		minCAs      int
		minCerts    int
		minDeferred int
	}{
		// The defaults over 3 years: a CA every ~243 days and a
		// certificate every ~60 days.
		{name: "defaults", span: 3 * 365 * day, step: 6 * time.Hour, minCAs: 4, minCerts: 18},
		// The timings of the envtest rotation test: the serving certificate
		// is often due while a new CA is in its grace period.
		{
			name: "test timings", span: 2 * time.Minute, step: 100 * time.Millisecond, minCAs: 12, minCerts: 25, minDeferred: 1,
			opts: func(o *Options) {
				o.CAValidity, o.CertValidity = 15*time.Second, 6*time.Second
				o.CARenewBefore, o.CertRenewBefore, o.CAGracePeriod = 0, 0, 0
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			o := testOptions(t)
			if tt.opts != nil {
				tt.opts(&o)
				var err error
				o, err = o.withDefaults()
				g.Expect(err).NotTo(HaveOccurred())
			}
			var data map[string][]byte
			publishedAt := map[string]time.Time{} // CA serial -> first time in the bundle
			cas, certs, deferred := 0, 0, 0
			var lastIssuer string
			for now := t0; now.Before(t0.Add(tt.span)); now = now.Add(tt.step) {
				a, st := planState(now, &corev1.Secret{Data: data}, o)
				if a.certDeferred {
					deferred++
				}
				if a.writes() {
					if a.newCA != "" {
						cas++
					}
					if a.newCert != "" {
						certs++
					}
					var err error
					data, err = render(now, data, a, st, o)
					g.Expect(err).NotTo(HaveOccurred())
					again := plan(now, &corev1.Secret{Data: data}, o)
					g.Expect(again.writes()).To(BeFalse(), "%s: plan after render still asks for %+v", now, again)
				}
				st = parseState(now, data)
				g.Expect(len(st.bundle)).To(BeNumerically("<=", 2), "%s: bundle of %d CAs", now, len(st.bundle))
				for _, c := range st.bundle {
					if _, ok := publishedAt[c.SerialNumber.String()]; !ok {
						publishedAt[c.SerialNumber.String()] = now
					}
				}
				g.Expect(st.leaf).NotTo(BeNil())
				root, err := verifyLeaf(st.leaf, st.bundle, now)
				g.Expect(err).NotTo(HaveOccurred(), "%s: the served certificate does not verify", now)
				// A renewal waits at most the grace period, so the served
				// certificate always has this much time left.
				margin := o.CertRenewBefore - o.CAGracePeriod - tt.step - time.Second
				_, err = verifyLeaf(st.leaf, st.bundle, now.Add(margin))
				g.Expect(err).NotTo(HaveOccurred(), "%s: the certificate has less than %s left", now, margin)
				if issuer := root.SerialNumber.String(); issuer != lastIssuer {
					if lastIssuer != "" {
						g.Expect(now.Sub(publishedAt[issuer])).To(BeNumerically(">=", o.CAGracePeriod),
							"%s: served a certificate of a CA published at %s", now, publishedAt[issuer])
					}
					lastIssuer = issuer
				}
			}
			g.Expect(cas).To(BeNumerically(">=", tt.minCAs), "CAs made")
			g.Expect(certs).To(BeNumerically(">=", tt.minCerts), "certificates issued")
			g.Expect(deferred).To(BeNumerically(">=", tt.minDeferred), "renewals deferred")
			t.Logf("%d CAs, %d certificates, %d deferred checks", cas, certs, deferred)
		})
	}
}

func TestRenderKeepsUnknownKeysAndUnchangedMaterial(t *testing.T) {
	g := NewWithT(t)
	o := testOptions(t)
	base := with(fresh(t, t0, o), "extra", []byte("kept"))
	out := issued(t, t0.Add(61*day), base, actions{newCert: "due"}, o)
	g.Expect(out["extra"]).To(Equal([]byte("kept")))
	g.Expect(out[CACertKey]).To(Equal(base[CACertKey]))
	g.Expect(out[CAKeyKey]).To(Equal(base[CAKeyKey]))
	g.Expect(out[TLSCertKey]).NotTo(Equal(base[TLSCertKey]))

	leaf := parseState(t0.Add(61*day), out).leaf
	g.Expect(leaf.ExtKeyUsage).To(ConsistOf(x509.ExtKeyUsageServerAuth))
	g.Expect(leaf.DNSNames).To(Equal(o.DNSNames))
	g.Expect(leaf.IPAddresses[0].Equal(net.ParseIP("127.0.0.1"))).To(BeTrue())
	g.Expect(leaf.NotAfter.Sub(leaf.NotBefore)).To(Equal(o.CertValidity + o.ClockSkew))
	g.Expect(leaf.PublicKeyAlgorithm).To(Equal(x509.ECDSA))

	block, _ := pem.Decode(out[CACertKey])
	ca, err := x509.ParseCertificate(block.Bytes)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ca.IsCA).To(BeTrue())
	g.Expect(strings.HasPrefix(ca.Subject.CommonName, caCommonNamePrefix)).To(BeTrue())
	g.Expect(createdAt(ca)).To(BeTemporally("==", t0))
}

func TestServingCertNeverOutlivesItsCA(t *testing.T) {
	g := NewWithT(t)
	o := testOptions(t)
	out := issued(t, t0.Add(300*day), fresh(t, t0, o), actions{newCert: "test"}, o)
	st := parseState(t0.Add(300*day), out)
	g.Expect(st.leaf.NotAfter).To(Equal(st.ca.NotAfter))
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "defaults", opts: Options{Namespace: "ns", SecretName: "s", DNSNames: []string{"a"}}},
		{name: "no SAN", opts: Options{Namespace: "ns", SecretName: "s"}, wantErr: "DNS name or IP"},
		{name: "no Secret", opts: Options{DNSNames: []string{"a"}}, wantErr: "secret name"},
		{name: "CRDs without client config", opts: Options{Namespace: "ns", SecretName: "s", DNSNames: []string{"a"}, CRDNames: []string{"x"}}, wantErr: "exactly one"},
		{name: "CRDs with both", opts: Options{Namespace: "ns", SecretName: "s", DNSNames: []string{"a"}, CRDNames: []string{"x"}, URL: "https://h", Service: &ServiceRef{Namespace: "n", Name: "s"}}, wantErr: "exactly one"},
		{name: "http URL", opts: Options{Namespace: "ns", SecretName: "s", DNSNames: []string{"a"}, CRDNames: []string{"x"}, URL: "http://h"}, wantErr: "https"},
		{name: "URL", opts: Options{Namespace: "ns", SecretName: "s", DNSNames: []string{"a"}, CRDNames: []string{"x"}, URL: "https://127.0.0.1:9443/"}},
		{
			name:    "CA renewed too late for the grace period",
			opts:    Options{Namespace: "ns", SecretName: "s", DNSNames: []string{"a"}, CAValidity: 100 * day, CARenewBefore: 30 * day, CertValidity: 90 * day, CAGracePeriod: time.Hour},
			wantErr: "must exceed cert renew-before",
		},
		{name: "test timings", opts: Options{Namespace: "ns", SecretName: "s", DNSNames: []string{"a"}, CAValidity: 15 * time.Second, CertValidity: 6 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := tt.opts.withDefaults()
			if tt.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
			} else {
				g.Expect(err).To(MatchError(ContainSubstring(tt.wantErr)))
			}
		})
	}
}
