package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// probeCRD has two versions with the same schema, so that reading at v2 an
// object stored at v1 makes the API server call the conversion webhook.
const (
	probeGroup = "certs.test.bemade.org"
	probeCRD   = "probes." + probeGroup
)

func installProbeCRD(t *testing.T) {
	t.Helper()
	g := NewWithT(t)
	schemaProps := &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
		Type: "object", XPreserveUnknownFields: ptr.To(true),
	}}
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: probeCRD},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: probeGroup,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "probes", Singular: "probe", Kind: "Probe", ListKind: "ProbeList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{
				{Name: "v1", Served: true, Storage: true, Schema: schemaProps},
				{Name: "v2", Served: true, Storage: false, Schema: schemaProps},
			},
		},
	}
	g.Expect(k8s.Create(context.Background(), crd)).To(Succeed())
	g.Eventually(func() bool {
		got := &apiextensionsv1.CustomResourceDefinition{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: probeCRD}, got); err != nil {
			return false
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true
			}
		}
		return false
	}).WithTimeout(10 * time.Second).Should(BeTrue())
}

// convertHandler is a conversion webhook for probeCRD: the versions share
// their schema, so converting is setting apiVersion.
func convertHandler(w http.ResponseWriter, req *http.Request) {
	review := &apiextensionsv1.ConversionReview{}
	if err := json.NewDecoder(req.Body).Decode(review); err != nil || review.Request == nil {
		http.Error(w, "bad review", http.StatusBadRequest)
		return
	}
	resp := &apiextensionsv1.ConversionResponse{UID: review.Request.UID, Result: metav1.Status{Status: metav1.StatusSuccess}}
	for _, raw := range review.Request.Objects {
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(raw.Raw); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		obj.SetAPIVersion(review.Request.DesiredAPIVersion)
		b, _ := obj.MarshalJSON()
		resp.ConvertedObjects = append(resp.ConvertedObjects, runtime.RawExtension{Raw: b})
	}
	review.Request, review.Response = nil, resp
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(review)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// startWebhookServer runs controller-runtime's webhook server, reading its
// certificate from certDir through certwatcher, as the operator does.
func startWebhookServer(ctx context.Context, t *testing.T, certDir string, port int) int {
	t.Helper()
	srv := webhook.NewServer(webhook.Options{Host: "127.0.0.1", Port: port, CertDir: certDir})
	srv.Register(ConvertPath, http.HandlerFunc(convertHandler))
	srv.Register("/validate", &webhook.Admission{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
		return admission.Allowed("")
	})})
	srv.Register("/ping", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pong") }))
	go func() {
		if err := srv.Start(ctx); err != nil {
			t.Errorf("webhook server: %v", err)
		}
	}()
	NewWithT(t).Eventually(func() error { return srv.StartedChecker()(nil) }).WithTimeout(10 * time.Second).Should(Succeed())
	return port
}

// observer records what the clients saw.
type observer struct {
	mu       sync.Mutex
	serials  map[int][]string // server port -> distinct serving serials, in order
	cas      map[int][]string // server port -> distinct issuing CAs, in order
	requests map[string]int
	failures []string
}

func (o *observer) ok(kind string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests[kind]++
}

func (o *observer) fail(kind string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests[kind]++
	o.failures = append(o.failures, fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), kind, err))
}

func (o *observer) saw(port int, leaf, root *x509.Certificate) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s := o.serials[port]; len(s) == 0 || s[len(s)-1] != leaf.SerialNumber.String() {
		o.serials[port] = append(s, leaf.SerialNumber.String())
	}
	if s := o.cas[port]; len(s) == 0 || s[len(s)-1] != root.SerialNumber.String() {
		o.cas[port] = append(s, root.SerialNumber.String())
	}
}

// probeDirect is one request the way the API server makes one to a
// webhook: read the caBundle published in the CRD, trust only it, and
// open a new TLS connection.
func probeDirect(ctx context.Context, port int, obs *observer) error {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: probeCRD}, crd); err != nil {
		return fmt.Errorf("reading the CRD: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(crd.Spec.Conversion.Webhook.ClientConfig.CABundle) {
		return fmt.Errorf("the CRD's caBundle holds no certificate")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://127.0.0.1:"+strconv.Itoa(port)+"/ping", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	chain := resp.TLS.VerifiedChains[0]
	obs.saw(port, chain[0], chain[len(chain)-1])
	return nil
}

// TestRotationWithoutFailedRequests runs two replicas (two Rotators on one
// Secret, each with a webhook server reading its own CertDir) through
// several serving certificate and CA rotations, while three kinds of
// clients call them without pause: a client that trusts only the caBundle
// currently published in the CRD and opens a new connection per request,
// the API server calling the conversion webhook, and the API server
// calling a validating webhook with failurePolicy Fail. No request may
// fail.
func TestRotationWithoutFailedRequests(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	installProbeCRD(t)

	timings := Options{
		SecretName:  "rotation-test",
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:    []string{"localhost"},
		CAValidity:  15 * time.Second, CertValidity: 6 * time.Second,
		CheckInterval: 200 * time.Millisecond,
	}
	// The first replica's server is the one the API server calls.
	port1 := freePort(t)
	opts1 := timings
	opts1.CRDNames = []string{probeCRD}
	opts1.URL = "https://127.0.0.1:" + strconv.Itoa(port1)
	opts1.ValidatingWebhookConfigs = []string{"rotation-test"}
	// The second replica has the same configuration, as a Deployment's
	// replicas do, but serves on its own port (its own pod).
	opts2 := opts1
	r1, r2 := newRotator(t, opts1), newRotator(t, opts2)
	t.Logf("CA grace period %s, clock skew %s", r1.opts.CAGracePeriod, r1.opts.ClockSkew)

	// The validating webhook, created before the certificates exist (as a
	// manifest would be), on ConfigMaps of one namespace.
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "rotation-test", Labels: map[string]string{"certs-test": "rotation"}}})).To(Succeed())
	g.Expect(k8s.Create(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "rotation-test"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "probe.certs.test",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: ptr.To(opts1.URL + "/validate")},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"certs-test": "rotation"}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](5),
		}},
	})).To(Succeed())

	// Start as the operator does: certificates first, then the servers.
	g.Expect(r1.EnsureOnce(ctx)).To(Succeed())
	g.Expect(r2.EnsureOnce(ctx)).To(Succeed())
	go func() { _ = r1.Start(ctx) }()
	go func() { _ = r2.Start(ctx) }()
	startWebhookServer(ctx, t, r1.opts.CertDir, port1)
	port2 := startWebhookServer(ctx, t, r2.opts.CertDir, freePort(t))

	// An object stored at v1, to be read at v2 through the webhook.
	probeGVK := schema.GroupVersionKind{Group: probeGroup, Version: "v1", Kind: "Probe"}
	probe := &unstructured.Unstructured{}
	probe.SetGroupVersionKind(probeGVK)
	probe.SetNamespace("rotation-test")
	probe.SetName("probe")
	g.Expect(unstructured.SetNestedField(probe.Object, "x", "spec", "value")).To(Succeed())
	g.Expect(k8s.Create(ctx, probe)).To(Succeed())

	obs := &observer{serials: map[int][]string{}, cas: map[int][]string{}, requests: map[string]int{}}
	const duration = 30 * time.Second
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	loop := func(kind string, f func(i int) error) {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				if err := f(i); err != nil {
					obs.fail(kind, err)
				} else {
					obs.ok(kind)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	var cmCount atomic.Int64
	loop("direct-replica1", func(int) error { return probeDirect(ctx, port1, obs) })
	loop("direct-replica2", func(int) error { return probeDirect(ctx, port2, obs) })
	loop("apiserver-conversion", func(int) error {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(schema.GroupVersionKind{Group: probeGroup, Version: "v2", Kind: "Probe"})
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: "rotation-test", Name: "probe"}, got); err != nil {
			return err
		}
		if got.GetAPIVersion() != probeGroup+"/v2" {
			return fmt.Errorf("read %s", got.GetAPIVersion())
		}
		return nil
	})
	loop("apiserver-admission", func(i int) error {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "rotation-test", Name: "cm-" + strconv.Itoa(i)}}
		if err := k8s.Create(ctx, cm); err != nil {
			return err
		}
		cmCount.Add(1)
		return k8s.Delete(ctx, cm)
	})
	wg.Wait()

	obs.mu.Lock()
	defer obs.mu.Unlock()
	total := 0
	for _, n := range obs.requests {
		total += n
	}
	t.Logf("requests: %v (total %d), failures: %d", obs.requests, total, len(obs.failures))
	for _, port := range []int{port1, port2} {
		t.Logf("server %d: %d serving certificates (%d changes), %d CAs (%d changes)",
			port, len(obs.serials[port]), len(obs.serials[port])-1, len(obs.cas[port]), len(obs.cas[port])-1)
	}
	g.Expect(obs.failures).To(BeEmpty())
	for kind, n := range obs.requests {
		g.Expect(n).To(BeNumerically(">", 50), kind)
	}
	g.Expect(cmCount.Load()).To(BeNumerically(">", 50))
	for _, port := range []int{port1, port2} {
		g.Expect(len(obs.serials[port])-1).To(BeNumerically(">=", 3), "serving certificate changes seen on %d", port)
		g.Expect(len(obs.cas[port])-1).To(BeNumerically(">=", 1), "CA changes seen on %d", port)
	}
}
