// Package certs makes and rotates the operator's own CA and webhook serving
// certificate when cert-manager is not installed, the way CloudNativePG does.
//
// The Secret (Options.SecretName) is the single source of truth, shared by
// every replica:
//
//	ca.crt   the trust bundle: the signing CA first, then older CAs that have
//	         not expired yet (PEM, one or more certificates)
//	ca.key   the signing CA's private key
//	tls.crt  the serving certificate, signed by one of the CAs in ca.crt
//	tls.key  its private key
//
// Every replica runs a Rotator. It renews what is missing, invalid or
// expiring in the Secret, publishes ca.crt as the caBundle of the CRDs'
// conversion webhook and of the admission webhook configurations, and only
// then writes tls.crt and tls.key into the webhook server's CertDir, where
// controller-runtime's certwatcher picks them up. A CA rotation therefore
// never breaks a request: the new CA is published (next to the old one)
// before any served certificate is signed by it.
//
// Wiring, when cert-manager is not used:
//
//	rot, err := certs.New(mgr.GetConfig(), certs.Options{...CertDir: <webhook.Options.CertDir>...})
//	mgr.Add(rot)                                // every replica; NeedLeaderElection is false
//	mgr.AddReadyzCheck("webhook-certs", rot.ReadyCheck)
//	rot.EnsureOnce(ctxWithTimeout)              // before mgr.Start: the webhook server reads the files when it starts
//	mgr.Start(ctx)
package certs

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"k8s.io/utils/clock"
)

// Keys of the Secret.
const (
	CACertKey  = "ca.crt"
	CAKeyKey   = "ca.key"
	TLSCertKey = "tls.crt"
	TLSKeyKey  = "tls.key"
)

// ConvertPath is the path of the conversion webhook on the webhook server.
const ConvertPath = "/convert"

// Defaults. A serving certificate lives 90 days and is renewed 30 days before
// it expires; the CA lives a year and is replaced 4 months before it expires,
// which leaves a new CA ample time to be published before it signs anything.
const (
	DefaultCAValidity    = 365 * 24 * time.Hour
	DefaultCertValidity  = 90 * 24 * time.Hour
	DefaultCheckInterval = time.Minute
	DefaultClockSkew     = 5 * time.Minute
	maxDefaultCAGrace    = 10 * time.Minute
)

// ServiceRef is the in-cluster Service in front of the webhook server.
type ServiceRef struct {
	Namespace, Name string
	// Port is the Service port; 0 means 443.
	Port int32
}

// Options configure a Rotator. Zero durations take the defaults above.
type Options struct {
	// Namespace and SecretName locate the Secret holding ca.crt, ca.key,
	// tls.crt and tls.key. The Rotator creates it when it is missing.
	Namespace, SecretName string
	// CertDir is where the webhook server reads tls.crt and tls.key
	// (webhook.Options.CertDir). Empty means "do not write files", for a
	// replica that only publishes.
	CertDir string
	// DNSNames and IPAddresses are the serving certificate's SANs. At least
	// one is required. With a Service, use <name>.<namespace>.svc.
	DNSNames    []string
	IPAddresses []net.IP

	// CAValidity and CertValidity are the lifetimes of new certificates.
	CAValidity, CertValidity time.Duration
	// CARenewBefore and CertRenewBefore: a certificate is replaced when less
	// than this remains. Defaults: a third of the validity.
	CARenewBefore, CertRenewBefore time.Duration
	// CAGracePeriod is how long a new CA is published in the caBundle before
	// a serving certificate signed by it is used, so that every API server
	// has seen it (webhook configurations reach the API servers through an
	// informer). Default: min(10m, CertRenewBefore/2,
	// (CARenewBefore-CertRenewBefore)/2).
	CAGracePeriod time.Duration
	// ClockSkew is the clock difference tolerated between replicas and API
	// servers: new certificates are valid from now-ClockSkew. Default 5m.
	ClockSkew time.Duration

	// CRDNames are the CRDs whose spec.conversion is set to this webhook.
	CRDNames []string
	// ValidatingWebhookConfigs and MutatingWebhookConfigs are the admission
	// configurations whose webhooks[*].clientConfig.caBundle is kept current.
	// A configuration that does not exist is skipped.
	ValidatingWebhookConfigs, MutatingWebhookConfigs []string
	// Service or URL is how the API server reaches the conversion webhook:
	// exactly one is set when CRDNames is not empty. URL is the server's
	// base, e.g. https://127.0.0.1:9443 for an operator run outside the
	// cluster; ConvertPath is appended.
	Service *ServiceRef
	URL     string

	// CheckInterval is how often the Secret, the CRDs and the webhook
	// configurations are re-checked (changes to the Secret are also watched).
	CheckInterval time.Duration
	// Clock is the time source; nil is the real clock.
	Clock clock.Clock
}

// withDefaults returns o with zero values replaced by defaults, or an error
// when the options cannot rotate without a gap.
func (o Options) withDefaults() (Options, error) {
	if o.CAValidity == 0 {
		o.CAValidity = DefaultCAValidity
	}
	if o.CertValidity == 0 {
		o.CertValidity = DefaultCertValidity
	}
	if o.CARenewBefore == 0 {
		o.CARenewBefore = o.CAValidity / 3
	}
	if o.CertRenewBefore == 0 {
		o.CertRenewBefore = o.CertValidity / 3
	}
	if o.CAGracePeriod == 0 {
		o.CAGracePeriod = min(maxDefaultCAGrace, o.CertRenewBefore/2, (o.CARenewBefore-o.CertRenewBefore)/2)
	}
	if o.ClockSkew == 0 {
		o.ClockSkew = DefaultClockSkew
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = DefaultCheckInterval
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return o, o.validate()
}

func (o Options) validate() error {
	var errs []error
	if o.Namespace == "" || o.SecretName == "" {
		errs = append(errs, errors.New("namespace and secret name are required"))
	}
	if len(o.DNSNames) == 0 && len(o.IPAddresses) == 0 {
		errs = append(errs, errors.New("at least one DNS name or IP address is required"))
	}
	if o.CertRenewBefore <= 0 || o.CertRenewBefore >= o.CertValidity {
		errs = append(errs, fmt.Errorf("cert renew-before %s must be within the cert validity %s", o.CertRenewBefore, o.CertValidity))
	}
	if o.CARenewBefore <= 0 || o.CARenewBefore >= o.CAValidity {
		errs = append(errs, fmt.Errorf("CA renew-before %s must be within the CA validity %s", o.CARenewBefore, o.CAValidity))
	}
	// A serving certificate signed by the old CA ends when that CA ends, so
	// it is renewed CertRenewBefore before the old CA expires; by then the
	// new CA (made CARenewBefore before) must have been published for the
	// grace period, or the renewal would have to wait past expiry.
	if o.CARenewBefore-o.CertRenewBefore <= o.CAGracePeriod {
		errs = append(errs, fmt.Errorf("CA renew-before %s must exceed cert renew-before %s by more than the CA grace period %s", o.CARenewBefore, o.CertRenewBefore, o.CAGracePeriod))
	}
	if o.CAGracePeriod < 0 || o.CAGracePeriod >= o.CertRenewBefore {
		errs = append(errs, fmt.Errorf("CA grace period %s must be shorter than cert renew-before %s", o.CAGracePeriod, o.CertRenewBefore))
	}
	if o.ClockSkew < 0 || o.CheckInterval < 0 {
		errs = append(errs, errors.New("clock skew and check interval cannot be negative"))
	}
	if len(o.CRDNames) > 0 {
		switch {
		case (o.Service == nil) == (o.URL == ""):
			errs = append(errs, errors.New("exactly one of Service and URL is required to set the CRDs' conversion webhook"))
		case o.URL != "":
			u, err := url.Parse(o.URL)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				errs = append(errs, fmt.Errorf("webhook URL %q must be https://host[:port][/path] without query or fragment", o.URL))
			}
		case o.Service.Namespace == "" || o.Service.Name == "":
			errs = append(errs, errors.New("the webhook Service needs a namespace and a name"))
		}
	}
	return errors.Join(errs...)
}

// convertURL is the conversion webhook's URL when Options.URL is set.
func (o Options) convertURL() string {
	return strings.TrimRight(o.URL, "/") + ConvertPath
}
