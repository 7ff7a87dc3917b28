//go:build e2e

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/internal/notify"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// hits records the requests a listener received.
type hits struct {
	mu   sync.Mutex
	reqs []string
}

func (h *hits) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	h.mu.Lock()
	h.reqs = append(h.reqs, r.Method+" "+r.URL.Path+" master_pwd="+r.PostForm.Get("master_pwd"))
	h.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (h *hits) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.reqs...)
}

// serveOn serves handler on l (plain http) until the test ends.
func serveOn(t *testing.T, l net.Listener, handler http.Handler) {
	t.Helper()
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// apiserverPort is the sandbox's kube-apiserver port on 127.0.0.1.
func apiserverPort(t *testing.T) string {
	t.Helper()
	server := framework.Kubectl(t, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
	u, err := url.Parse(server)
	if err != nil || u.Port() == "" {
		t.Fatalf("kube-apiserver URL %q", server)
	}
	return u.Port()
}

// webhookInstance is an odoo-sim instance notifying url.
func webhookInstance(name, url string) string {
	return fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooInstance
metadata:
  name: %[1]s
spec:
  image: odoo-sim:18.0
  adminPassword: master-%[1]s
  replicas: 1
  webhook:
    url: %[2]s
`, name, url)
}

// TestHostileWebhookToInternalAddresses: tenants point spec.webhook.url at
// the kube-apiserver, at an internal service on loopback and at the
// link-local metadata address: refused at admission, naming the field. A
// name resolving to the internal service passes admission, but the service
// receives nothing and the instance gets a Warning event saying why. A
// webhook on a tenant-reachable port still gets its notifications, so the
// refusals are the policy's, not silence.
func TestHostileWebhookToInternalAddresses(t *testing.T) {
	ns := framework.Namespace(t, "e2e-hostile-webhook")
	internal := &hits{}
	il := framework.InternalListener(t)
	serveOn(t, il, internal)
	_, internalPort, _ := net.SplitHostPort(il.Addr().String())
	allowed := &receiver{}
	allowedSrv := tenantServer(t, allowed)

	for name, u := range map[string]string{
		"apiserver": "https://127.0.0.1:" + apiserverPort(t) + "/api/v1/namespaces",
		"internal":  "http://127.0.0.1:" + internalPort + "/hook",
		"metadata":  "http://169.254.169.254/latest/meta-data",
	} {
		out, err := framework.KubectlStdin(webhookInstance(name, u), "apply", "-n", ns, "-f", "-")
		if err == nil || !strings.Contains(err.Error(), "spec.webhook.url") || !strings.Contains(err.Error(), "--egress-allow") {
			t.Errorf("%s (%s): kubectl apply: %v %s; want a refusal naming spec.webhook.url and --egress-allow", name, u, err, out)
		}
	}
	framework.Apply(t, ns, webhookInstance("byname", "http://localhost:"+internalPort+"/hook")+"---\n"+
		webhookInstance("allowed", allowedSrv.URL+"/hook"))
	for _, name := range []string{"byname", "allowed"} {
		framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef(name), "--timeout=2m")
	}
	framework.Eventually(t, time.Minute, "a notification on the allowed port", func() error {
		if _, ok := allowed.find(string(notify.EventPhaseChanged)); !ok {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	types := waitEvents(t, ns, "byname", "NotificationRefused")
	if types["NotificationRefused"] != "Warning" {
		t.Errorf("NotificationRefused is a %s event", types["NotificationRefused"])
	}
	msg := framework.Kubectl(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=byname,reason=NotificationRefused",
		"-o", "jsonpath={.items[0].message}")
	if !strings.Contains(msg, "spec.webhook.url") || !strings.Contains(msg, "loopback") || !strings.Contains(msg, "--egress-allow") {
		t.Errorf("the event %q does not name spec.webhook.url, the loopback address and --egress-allow", msg)
	}
	if got := internal.all(); len(got) > 0 {
		t.Errorf("the internal service received tenant notifications: %v", got)
	}
}

// TestHostileOdooSourceRedirect: a tenant's live-Odoo source answers the
// backup request with a redirect to another host. The restore fails naming
// the redirect, and the master password never reaches the second host.
func TestHostileOdooSourceRedirect(t *testing.T) {
	ns := framework.Namespace(t, "e2e-hostile-redirect")
	hostileInstance(t, ns)
	second := &hits{}
	sl := framework.TenantListener(t)
	serveOn(t, sl, second)
	first := &hits{}
	fl := framework.TenantListener(t)
	source := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first.ServeHTTP(httptest.NewRecorder(), r)
		http.Redirect(w, r, "http://"+sl.Addr().String()+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	_ = source.Listener.Close()
	source.Listener = fl
	source.TLS = &tls.Config{Certificates: []tls.Certificate{sandboxCert(t)}, MinVersion: tls.VersionTLS12}
	source.StartTLS()
	t.Cleanup(source.Close)

	const master = "the-Source-master-pw"
	framework.Kubectl(t, "create", "secret", "generic", "source-master", "-n", ns, "--from-literal=masterPassword="+master)
	framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: copy
spec:
  odooInstanceRef: {name: shop}
  neutralize: false
  source:
    type: odoo
    odoo:
      url: https://%s
      sourceDatabase: prod
      masterPasswordSecretRef: {name: source-master, key: masterPassword}
`, fl.Addr().String()))
	ref := "odoorestorejobs.v1alpha2.bemade.org/copy"
	if out, err := framework.KubectlE("wait", "-n", ns, "--for=jsonpath={.status.phase}=Failed", ref, "--timeout=2m"); err != nil {
		t.Fatalf("the restore did not fail: %v %s\nstatus: %s", err, out, jsonpath(t, ns, ref, "{.status}"))
	}
	if msg := jsonpath(t, ns, ref, "{.status.message}"); !strings.Contains(msg, "redirect") || strings.Contains(msg, master) {
		t.Errorf("the restore's message %q does not name the refused redirect (or carries the password)", msg)
	}
	if got := first.all(); len(got) != 1 || !strings.Contains(got[0], "master_pwd="+master) {
		t.Errorf("the source received %v, want the one backup request", got)
	}
	if got := second.all(); len(got) > 0 {
		t.Errorf("the redirect target received %v", got)
	}
}

// TestHostileOdooSourcePlainHTTP: a live-Odoo source over plain http with a
// master password is refused before any request: the password would cross
// the network in clear.
func TestHostileOdooSourcePlainHTTP(t *testing.T) {
	ns := framework.Namespace(t, "e2e-hostile-plain")
	hostileInstance(t, ns)
	got := &hits{}
	l := framework.TenantListener(t)
	serveOn(t, l, got)
	framework.Kubectl(t, "create", "secret", "generic", "source-master", "-n", ns, "--from-literal=masterPassword=clear-text-pw")
	framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: copy
spec:
  odooInstanceRef: {name: shop}
  neutralize: false
  source:
    type: odoo
    odoo:
      url: http://%s
      sourceDatabase: prod
      masterPasswordSecretRef: {name: source-master, key: masterPassword}
`, l.Addr().String()))
	ref := "odoorestorejobs.v1alpha2.bemade.org/copy"
	if out, err := framework.KubectlE("wait", "-n", ns, "--for=jsonpath={.status.phase}=Failed", ref, "--timeout=2m"); err != nil {
		t.Fatalf("the restore did not fail: %v %s\nstatus: %s", err, out, jsonpath(t, ns, ref, "{.status}"))
	}
	if msg := jsonpath(t, ns, ref, "{.status.message}"); !strings.Contains(msg, "source.odoo.url") || !strings.Contains(msg, "https") {
		t.Errorf("the restore's message %q does not name source.odoo.url and https", msg)
	}
	if reqs := got.all(); len(reqs) > 0 {
		t.Errorf("the plain-http source received %v", reqs)
	}
}

// sandboxCert is a certificate for 127.0.0.1 signed by the sandbox's CA,
// which the sandbox's data Jobs trust (hack/sandbox.sh).
func sandboxCert(t *testing.T) tls.Certificate {
	t.Helper()
	pki := filepath.Join(os.Getenv("SANDBOX_STATE"), "pki")
	caPEM, err := os.ReadFile(filepath.Join(pki, "ca.crt"))
	if err != nil {
		t.Fatalf("the sandbox CA ($SANDBOX_STATE/pki): %v", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(pki, "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := pem.Decode(caPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		t.Fatal("the sandbox CA files are not PEM")
	}
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "odoo-source"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
