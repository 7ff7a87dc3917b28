package certs

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var operatorCRDs = []string{"odooinstances.bemade.org", "odooinitjobs.bemade.org", "odooupgradejobs.bemade.org", "odoobackupjobs.bemade.org", "odoorestorejobs.bemade.org"}

// newRotator returns a Rotator on the envtest API server, with its own
// CertDir.
func newRotator(t *testing.T, o Options) *Rotator {
	t.Helper()
	if o.Namespace == "" {
		o.Namespace = operatorNamespace
	}
	if o.CertDir == "" {
		o.CertDir = t.TempDir()
	}
	if len(o.DNSNames) == 0 {
		o.DNSNames = []string{"odoo-operator-webhook.odoo-operator.svc"}
	}
	r, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func admissionConfigs(t *testing.T, name string) {
	t.Helper()
	g := NewWithT(t)
	cc := admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://127.0.0.1:1/never")}
	none := ptr.To(admissionregistrationv1.SideEffectClassNone)
	// Matches nothing the tests create.
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"never": "true"}}
	g.Expect(k8s.Create(context.Background(), &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			{Name: "a.certs.test", ClientConfig: cc, SideEffects: none, AdmissionReviewVersions: []string{"v1"}, NamespaceSelector: selector},
			{Name: "b.certs.test", ClientConfig: cc, SideEffects: none, AdmissionReviewVersions: []string{"v1"}, NamespaceSelector: selector},
		},
	})).To(Succeed())
	g.Expect(k8s.Create(context.Background(), &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.MutatingWebhook{
			{Name: "m.certs.test", ClientConfig: cc, SideEffects: none, AdmissionReviewVersions: []string{"v1"}, NamespaceSelector: selector},
		},
	})).To(Succeed())
}

// resourceVersions of the Secret, the CRDs and the webhook configurations.
func resourceVersions(t *testing.T, secret, webhooks string) map[string]string {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	out := map[string]string{}
	s := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: secret}, s)).To(Succeed())
	out["secret"] = s.ResourceVersion
	for _, name := range operatorCRDs {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, crd)).To(Succeed())
		out[name] = crd.ResourceVersion
	}
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: webhooks}, v)).To(Succeed())
	out["validating"] = v.ResourceVersion
	m := &admissionregistrationv1.MutatingWebhookConfiguration{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: webhooks}, m)).To(Succeed())
	out["mutating"] = m.ResourceVersion
	return out
}

// TestRotatorPublishes covers a first start: the Secret is made, the CRDs
// get their conversion stanza with the bundle, the webhook configurations
// their caBundle, CertDir its files; then a second pass writes nothing.
func TestRotatorPublishes(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	admissionConfigs(t, "publish-test")
	r := newRotator(t, Options{
		SecretName: "publish-test",
		CRDNames:   operatorCRDs,
		Service:    &ServiceRef{Namespace: operatorNamespace, Name: "odoo-operator-webhook"},
		// The missing one is skipped.
		ValidatingWebhookConfigs: []string{"publish-test", "missing"},
		MutatingWebhookConfigs:   []string{"publish-test"},
	})
	g.Expect(r.ReadyCheck(nil)).To(HaveOccurred())
	g.Expect(r.EnsureOnce(ctx)).To(Succeed())
	g.Expect(r.ReadyCheck(nil)).To(Succeed())
	g.Expect(r.Ready()).To(BeClosed())

	secret := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: "publish-test"}, secret)).To(Succeed())
	g.Expect(secret.Type).To(Equal(corev1.SecretTypeTLS))
	bundle := secret.Data[CACertKey]
	g.Expect(bundle).NotTo(BeEmpty())

	for _, name := range operatorCRDs {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, crd)).To(Succeed())
		conv := crd.Spec.Conversion
		g.Expect(conv.Strategy).To(Equal(apiextensionsv1.WebhookConverter))
		g.Expect(conv.Webhook.ConversionReviewVersions).To(Equal([]string{"v1"}))
		g.Expect(conv.Webhook.ClientConfig.CABundle).To(Equal(bundle))
		g.Expect(conv.Webhook.ClientConfig.URL).To(BeNil())
		g.Expect(*conv.Webhook.ClientConfig.Service).To(Equal(apiextensionsv1.ServiceReference{
			Namespace: operatorNamespace, Name: "odoo-operator-webhook", Path: ptr.To("/convert"), Port: ptr.To[int32](443),
		}))
	}
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "publish-test"}, v)).To(Succeed())
	for _, w := range v.Webhooks {
		g.Expect(w.ClientConfig.CABundle).To(Equal(bundle), w.Name)
		g.Expect(*w.ClientConfig.URL).To(Equal("https://127.0.0.1:1/never"), "only the caBundle is touched")
	}
	m := &admissionregistrationv1.MutatingWebhookConfiguration{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "publish-test"}, m)).To(Succeed())
	g.Expect(m.Webhooks[0].ClientConfig.CABundle).To(Equal(bundle))

	for _, name := range []string{TLSCertKey, TLSKeyKey} {
		got, err := os.ReadFile(filepath.Join(r.opts.CertDir, name))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(Equal(secret.Data[name]))
	}

	// Steady state: no write anywhere.
	before := resourceVersions(t, "publish-test", "publish-test")
	for range 3 {
		_, err := r.sync(ctx)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(resourceVersions(t, "publish-test", "publish-test")).To(Equal(before))
}

// TestSecondReplicaAdopts: a replica that starts later, and two replicas
// that start together on no Secret, end up serving the same certificate.
func TestSecondReplicaAdopts(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	first := newRotator(t, Options{SecretName: "adopt-test"})
	g.Expect(first.EnsureOnce(ctx)).To(Succeed())
	secret := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: "adopt-test"}, secret)).To(Succeed())

	second := newRotator(t, Options{SecretName: "adopt-test"})
	g.Expect(second.EnsureOnce(ctx)).To(Succeed())
	again := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: "adopt-test"}, again)).To(Succeed())
	g.Expect(again.ResourceVersion).To(Equal(secret.ResourceVersion), "the second replica wrote the Secret")
	expectSameFiles(g, first.opts.CertDir, second.opts.CertDir)

	// A race on a missing Secret: one creates it, the others adopt it.
	var racers []*Rotator
	for range 4 {
		racers = append(racers, newRotator(t, Options{SecretName: "race-test"}))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(racers))
	for i, r := range racers {
		wg.Go(func() { errs[i] = r.EnsureOnce(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		g.Expect(err).NotTo(HaveOccurred())
	}
	for _, r := range racers[1:] {
		expectSameFiles(g, racers[0].opts.CertDir, r.opts.CertDir)
	}
}

func expectSameFiles(g Gomega, a, b string) {
	for _, name := range []string{TLSCertKey, TLSKeyKey} {
		x, err := os.ReadFile(filepath.Join(a, name))
		g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
		y, err := os.ReadFile(filepath.Join(b, name))
		g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
		g.ExpectWithOffset(1, y).To(Equal(x), name)
	}
}

// TestRotatorRepairs: a running Rotator puts back a conversion stanza that
// was reset (kubectl apply of a CRD without it) and makes a new Secret when
// it is deleted, which it learns through its watch, not its hourly check.
func TestRotatorRepairs(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newRotator(t, Options{
		SecretName:    "repair-test",
		CRDNames:      operatorCRDs[:1],
		URL:           "https://127.0.0.1:9443",
		IPAddresses:   nil,
		CheckInterval: time.Hour,
	})
	g.Expect(r.EnsureOnce(ctx)).To(Succeed())
	done := make(chan struct{})
	go func() { _ = r.Start(ctx); close(done) }()

	crdBundle := func() []byte {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: operatorCRDs[0]}, crd)).To(Succeed())
		if crd.Spec.Conversion == nil || crd.Spec.Conversion.Webhook == nil || crd.Spec.Conversion.Webhook.ClientConfig == nil {
			return nil
		}
		g.Expect(*crd.Spec.Conversion.Webhook.ClientConfig.URL).To(Equal("https://127.0.0.1:9443/convert"))
		return crd.Spec.Conversion.Webhook.ClientConfig.CABundle
	}
	old := crdBundle()
	g.Expect(old).NotTo(BeEmpty())

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: "repair-test"}}
	g.Expect(k8s.Delete(ctx, secret)).To(Succeed())
	g.Eventually(func() []byte {
		s := &corev1.Secret{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(secret), s); err != nil {
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
			return nil
		}
		return s.Data[CACertKey]
	}).WithTimeout(10 * time.Second).Should(SatisfyAll(Not(BeEmpty()), Not(Equal(old))))
	g.Eventually(crdBundle).WithTimeout(10 * time.Second).ShouldNot(Equal(old))

	// The conversion stanza is repaired on the next pass; the watch makes
	// one happen on any Secret event, so poke it through the Secret.
	crd := &apiextensionsv1.CustomResourceDefinition{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: operatorCRDs[0]}, crd)).To(Succeed())
	crd.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.NoneConverter}
	g.Expect(k8s.Update(ctx, crd)).To(Succeed())
	s := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(secret), s)).To(Succeed())
	s.Annotations = map[string]string{"poke": "1"}
	g.Expect(k8s.Update(ctx, s)).To(Succeed())
	g.Eventually(crdBundle).WithTimeout(10 * time.Second).Should(Equal(s.Data[CACertKey]))

	cancel()
	g.Eventually(done).WithTimeout(5 * time.Second).Should(BeClosed())
}
