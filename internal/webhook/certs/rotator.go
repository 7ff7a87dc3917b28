package certs

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/watch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// maxSecretAttempts bounds the read-plan-write loop on the Secret. Each
// lost race means another replica wrote a current Secret, which the next
// read adopts, so two attempts almost always suffice.
const maxSecretAttempts = 5

// minDelay keeps a Rotator from spinning when a deadline is already due.
const minDelay = 50 * time.Millisecond

// Rotator keeps the webhook certificates current. Run one in every replica
// (NeedLeaderElection is false): each serves webhooks and so needs the
// current certificate in its own CertDir.
type Rotator struct {
	opts Options
	c    client.WithWatch
	log  logr.Logger

	// mu makes syncs one at a time (EnsureOnce, then Start's loop).
	mu      sync.Mutex
	ready   chan struct{}
	readyMu sync.Once
	poke    chan struct{}
}

var (
	_ manager.Runnable               = &Rotator{}
	_ manager.LeaderElectionRunnable = &Rotator{}
	_ healthz.Checker                = (&Rotator{}).ReadyCheck
)

// New returns a Rotator that talks to the API server at cfg with its own
// uncached client: it must work before the manager's caches start (see
// EnsureOnce), and reads the Secret, CRDs and webhook configurations
// rarely enough that caching them (all CRDs of the cluster!) would cost
// more than it saves.
func New(cfg *rest.Config, o Options) (*Rotator, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("webhook certificates: %w", err)
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("webhook certificates: %w", err)
	}
	return &Rotator{
		opts:  o,
		c:     c,
		log:   logf.Log.WithName("webhook-certs").WithValues("secret", o.Namespace+"/"+o.SecretName),
		ready: make(chan struct{}),
		poke:  make(chan struct{}, 1),
	}, nil
}

// NeedLeaderElection is false: every replica serves webhooks.
func (r *Rotator) NeedLeaderElection() bool { return false }

// Ready is closed once the certificates exist, are published and are
// written to CertDir.
func (r *Rotator) Ready() <-chan struct{} { return r.ready }

// ReadyCheck is a healthz.Checker for the manager's readyz: it fails until
// Ready is closed.
func (r *Rotator) ReadyCheck(_ *http.Request) error {
	select {
	case <-r.ready:
		return nil
	default:
		return errors.New("webhook certificates are not ready yet")
	}
}

// EnsureOnce makes the certificates, publishes the CA bundle and writes
// CertDir, retrying until it succeeds or ctx ends. Call it before
// mgr.Start: the webhook server reads tls.crt and tls.key when it starts,
// and the manager starts the webhook server before any other runnable.
func (r *Rotator) EnsureOnce(ctx context.Context) error {
	for failures := 0; ; failures++ {
		_, err := r.sync(ctx)
		if err == nil {
			return nil
		}
		r.log.Error(err, "webhook certificates not ready; retrying")
		select {
		case <-ctx.Done():
			return fmt.Errorf("webhook certificates: %w (last error: %w)", ctx.Err(), err)
		case <-time.After(retryDelay(failures, r.opts.CheckInterval)):
		}
	}
}

// Start re-checks the certificates every CheckInterval, whenever the
// Secret changes, and when a renewal falls due. Errors are logged and
// retried with backoff; Start returns only when ctx ends, so a flaky API
// server never stops the manager.
func (r *Rotator) Start(ctx context.Context) error {
	go r.watchSecret(ctx)
	failures := 0
	for {
		next, err := r.sync(ctx)
		delay := r.opts.CheckInterval
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Error(err, "checking the webhook certificates")
			delay = retryDelay(failures, r.opts.CheckInterval)
			failures++
		} else {
			failures = 0
			if !next.IsZero() {
				delay = min(delay, max(next.Sub(r.opts.Clock.Now()), minDelay))
			}
		}
		timer := r.opts.Clock.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C():
		case <-r.poke:
			timer.Stop()
		}
	}
}

// sync makes one pass: the Secret, then the CA bundle everywhere, then the
// files. The order is the point: a replica serves a certificate only after
// it has made sure the CA that signed it is published. It returns when
// the next pass is due at the latest.
func (r *Rotator) sync(ctx context.Context) (time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	secret, err := r.ensureSecret(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if err := r.publish(ctx, secret.Data[CACertKey]); err != nil {
		return time.Time{}, err
	}
	if r.opts.CertDir != "" {
		wrote, err := writeFiles(r.opts.CertDir, map[string][]byte{
			TLSCertKey: secret.Data[TLSCertKey],
			TLSKeyKey:  secret.Data[TLSKeyKey],
		})
		if err != nil {
			return time.Time{}, fmt.Errorf("writing the serving certificate to %s: %w", r.opts.CertDir, err)
		}
		if wrote {
			r.log.Info("serving certificate written", append([]any{"dir", r.opts.CertDir}, describe(secret.Data[TLSCertKey])...)...)
		}
	}
	r.readyMu.Do(func() { close(r.ready) })
	return plan(r.opts.Clock.Now(), secret, r.opts).next, nil
}

// ensureSecret reads the Secret and writes it when plan says so. Two
// replicas may race: the write carries the read resourceVersion (or is a
// create), so the loser gets a conflict, re-reads, and adopts the winner's
// certificates, which plan then finds current.
func (r *Rotator) ensureSecret(ctx context.Context) (*corev1.Secret, error) {
	key := client.ObjectKey{Namespace: r.opts.Namespace, Name: r.opts.SecretName}
	for range maxSecretAttempts {
		secret := &corev1.Secret{}
		exists := true
		if err := r.c.Get(ctx, key, secret); apierrors.IsNotFound(err) {
			exists = false
		} else if err != nil {
			return nil, fmt.Errorf("reading Secret %s: %w", key, err)
		}
		now := r.opts.Clock.Now()
		var observed *corev1.Secret
		if exists {
			observed = secret
		}
		a, st := planState(now, observed, r.opts)
		if !a.writes() {
			return secret, nil
		}
		data, err := render(now, secret.Data, a, st, r.opts)
		if err != nil {
			return nil, err
		}
		if exists {
			secret.Data = data
			err = r.c.Update(ctx, secret)
		} else {
			secret = &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{
					Namespace: key.Namespace, Name: key.Name,
					Labels: map[string]string{"app.kubernetes.io/managed-by": "odoo-operator", "app.kubernetes.io/component": "webhook-certs"},
				},
				Type: corev1.SecretTypeTLS,
				Data: data,
			}
			err = r.c.Create(ctx, secret)
		}
		switch {
		case apierrors.IsConflict(err), apierrors.IsAlreadyExists(err):
			r.log.Info("another replica wrote the Secret first; adopting its certificates")
			continue
		case err != nil:
			return nil, fmt.Errorf("writing Secret %s: %w", key, err)
		}
		r.log.Info("webhook certificates renewed", "newCA", a.newCA, "newCert", a.newCert, "bundleRewritten", a.rewriteBundle)
		return secret, nil
	}
	return nil, fmt.Errorf("the Secret %s kept changing under %d attempts", key, maxSecretAttempts)
}

// watchSecret pokes Start's loop when the Secret changes, so that a
// replica adopts another's renewal at once rather than at the next check.
// It is an optimisation: the periodic check is what guarantees progress.
func (r *Rotator) watchSecret(ctx context.Context) {
	for ctx.Err() == nil {
		w, err := r.c.Watch(ctx, &corev1.SecretList{}, client.InNamespace(r.opts.Namespace),
			client.MatchingFields{"metadata.name": r.opts.SecretName})
		if err == nil {
			r.drain(ctx, w.ResultChan())
			w.Stop()
		} else {
			r.log.V(1).Info("watching the Secret failed; relying on the periodic check", "error", err.Error())
		}
		select {
		case <-ctx.Done():
		case <-time.After(retryDelay(3, r.opts.CheckInterval)):
		}
	}
}

func (r *Rotator) drain(ctx context.Context, events <-chan watch.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				return
			}
			select {
			case r.poke <- struct{}{}:
			default:
			}
		}
	}
}

// retryDelay is a jittered exponential backoff from 500 ms, capped at
// interval.
func retryDelay(failures int, interval time.Duration) time.Duration {
	d := 500 * time.Millisecond << min(failures, 10)
	d = min(d, interval)
	return d/2 + rand.N(d/2+1) //nolint:gosec // jitter, not a secret
}

// describe returns log key-values for a PEM certificate.
func describe(certPEM []byte) []any {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil
	}
	return []any{"serial", c.SerialNumber.Text(16), "notAfter", c.NotAfter.UTC(), "issuer", c.Issuer.CommonName}
}
