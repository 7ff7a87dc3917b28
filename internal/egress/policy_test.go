package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func mustPolicy(t *testing.T, allow ...string) Policy {
	t.Helper()
	p, err := Parse(allow, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	sandbox := mustPolicy(t, "127.0.0.1/32:31000-31999")
	withDeny, err := Parse(nil, []string{"11.96.0.0/12"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		p      Policy
		addr   string
		refuse string // "" = allowed; else a word of the reason
	}{
		{"public IPv4", Policy{}, "93.184.215.14:443", ""},
		{"public IPv6", Policy{}, "[2606:4700::6810:85e5]:443", ""},
		{"loopback", Policy{}, "127.0.0.1:6443", "loopback"},
		{"loopback anywhere in 127/8", Policy{}, "127.45.6.7:80", "loopback"},
		{"IPv6 loopback", Policy{}, "[::1]:6443", "loopback"},
		{"v4-mapped loopback", Policy{}, "[::ffff:127.0.0.1]:6443", "loopback"},
		{"v4-mapped private", Policy{}, "[::ffff:10.1.2.3]:80", "private"},
		{"metadata service", Policy{}, "169.254.169.254:80", "link-local"},
		{"IPv6 link-local", Policy{}, "[fe80::1]:80", "link-local"},
		{"IPv6 link-local with zone", Policy{}, "[fe80::1%eth0]:80", "link-local"},
		{"10/8", Policy{}, "10.96.0.1:443", "private"},
		{"172.16/12", Policy{}, "172.31.255.1:443", "private"},
		{"192.168/16", Policy{}, "192.168.1.1:80", "private"},
		{"CGNAT pod range", Policy{}, "100.64.3.4:8069", "shared"},
		{"unspecified", Policy{}, "0.0.0.0:80", "unspecified"},
		{"IPv6 unspecified", Policy{}, "[::]:80", "unspecified"},
		{"unique local", Policy{}, "[fd12::1]:80", "private"},
		{"NAT64 of loopback", Policy{}, "[64:ff9b::7f00:1]:80", "NAT64"},
		{"6to4", Policy{}, "[2002:7f00:1::1]:80", "6to4"},
		{"multicast", Policy{}, "224.0.0.1:80", "multicast"},
		{"broadcast", Policy{}, "255.255.255.255:80", "reserved"},
		{"sandbox allows its range", sandbox, "127.0.0.1:31500", ""},
		{"sandbox allows its low end", sandbox, "127.0.0.1:31000", ""},
		{"sandbox allows its high end", sandbox, "127.0.0.1:31999", ""},
		{"sandbox refuses the apiserver port", sandbox, "127.0.0.1:6443", "loopback"},
		{"sandbox refuses just below", sandbox, "127.0.0.1:30999", "loopback"},
		{"sandbox refuses just above", sandbox, "127.0.0.1:32000", "loopback"},
		{"sandbox refuses another loopback address", sandbox, "127.0.0.2:31500", "loopback"},
		{"sandbox allows v4-mapped of its range", sandbox, "[::ffff:127.0.0.1]:31500", ""},
		{"sandbox refuses IPv6 loopback", sandbox, "[::1]:31500", "loopback"},
		{"extra deny of a public Service range", withDeny, "11.96.0.10:443", "cluster"},
		{"extra deny leaves the rest", withDeny, "11.95.0.10:443", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ap, err := netip.ParseAddrPort(tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.p.Check(ap)
			switch {
			case tc.refuse == "" && err != nil:
				t.Errorf("Check(%s) = %v, want allowed", tc.addr, err)
			case tc.refuse != "" && err == nil:
				t.Errorf("Check(%s) allowed, want refused (%s)", tc.addr, tc.refuse)
			case tc.refuse != "" && (!errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.refuse) || !strings.Contains(err.Error(), "--egress-allow")):
				t.Errorf("Check(%s) = %q, want an ErrRefused naming %q and --egress-allow", tc.addr, err, tc.refuse)
			}
		})
	}
}

func TestParseRule(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "127.0.0.1/32:31000-31999", want: "127.0.0.1/32:31000-31999"},
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: "10.1.2.3", want: "10.1.2.3/32"},
		{in: "10.1.2.3:443", want: "10.1.2.3/32:443"},
		{in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{in: "[fd00::/8]:443", want: "[fd00::/8]:443"},
		{in: "fd00::/8", want: "fd00::/8"},
		{in: "::1", want: "::1/128"},
		{in: "[::ffff:127.0.0.1/128]:80", want: "127.0.0.1/32:80"},
		{in: "10.0.0.0/8:0", err: "ports"},
		{in: "10.0.0.0/8:2-1", err: "ports"},
		{in: "10.0.0.0/8:70000", err: "ports"},
		{in: "example.com", err: "not a CIDR"},
		{in: "[fd00::/8", err: "]"},
	} {
		r, err := ParseRule(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseRule(%q) = %v, %v; want an error with %q", tc.in, r, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("ParseRule(%q): %v", tc.in, err)
		case tc.err == "" && r.String() != tc.want:
			t.Errorf("ParseRule(%q) = %s, want %s", tc.in, r, tc.want)
		}
	}
}

func TestEnvRoundTrip(t *testing.T) {
	p, err := Parse([]string{"127.0.0.1/32:31000-31999", "[fd00::/8]:443,10.0.0.0/8"}, []string{"11.96.0.0/12"}, true)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range p.Env() {
		env[kv[0]] = kv[1]
	}
	got, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(p) {
		t.Errorf("FromEnv(Env()) = %v, want %v", got, p)
	}
	if len((Policy{}).Env()) != 0 {
		t.Errorf("the default policy has environment %v", (Policy{}).Env())
	}
}

func TestCheckURL(t *testing.T) {
	sandbox := mustPolicy(t, "127.0.0.1/32:31000-31999")
	http := Policy{AllowHTTPCredentials: true}
	for _, tc := range []struct {
		name  string
		p     Policy
		url   string
		creds bool
		err   string
	}{
		{"public https name", Policy{}, "https://erp.example.com", true, ""},
		{"http without credentials", Policy{}, "http://hooks.example.com/x", false, ""},
		{"http with a password", Policy{}, "http://erp.example.com", true, "https"},
		{"http with a password, allowed", http, "http://erp.example.com", true, ""},
		{"literal apiserver", Policy{}, "https://127.0.0.1:6443/api", false, "loopback"},
		{"literal apiserver in the sandbox", sandbox, "https://127.0.0.1:6443/api", false, "loopback"},
		{"sandbox range", sandbox, "http://127.0.0.1:31500/hook", false, ""},
		{"default port of http", sandbox, "http://127.0.0.1/hook", false, "loopback"},
		{"literal IPv6", Policy{}, "https://[::1]:8443/", false, "loopback"},
		{"literal metadata", Policy{}, "http://169.254.169.254/latest/meta-data", false, "link-local"},
		{"ftp", Policy{}, "ftp://example.com", false, "scheme"},
		{"no host", Policy{}, "https:///x", false, "host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.CheckURL(tc.url, tc.creds)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("CheckURL(%q) = %v, want %q", tc.url, err, tc.err)
			}
		})
	}
}

// A name that resolves to a private address is refused both by ResolveURL
// and, more importantly, at connection time.
func TestNameResolvingToInternalAddress(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	// localhost resolves to 127.0.0.1 (and maybe ::1): both internal.
	u := "http://localhost:" + port + "/"
	p := Policy{}
	if err := p.ResolveURL(context.Background(), nil, u, false); err == nil || !errors.Is(err, ErrRefused) {
		t.Errorf("ResolveURL(%s) = %v, want refused", u, err)
	}
	resp, err := p.Client().Get(u)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatalf("GET %s went through", u)
	}
	if !errors.Is(err, ErrRefused) {
		t.Errorf("GET %s: %v, want ErrRefused", u, err)
	}
	if hits.Load() != 0 {
		t.Errorf("the listener received %d requests", hits.Load())
	}
	// Allowed by a rule for its port, the same name connects.
	allowed := mustPolicy(t, "127.0.0.1/32:"+port)
	resp, err = allowed.Client().Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatalf("an allowed address: %v", err)
	}
	_ = resp.Body.Close()
	if hits.Load() != 1 {
		t.Errorf("the listener received %d requests, want 1", hits.Load())
	}
}

// A redirect to another origin is refused, and the second listener sees
// nothing: not the body a 307 would re-send.
func TestRedirectToAnotherHostRefused(t *testing.T) {
	var secondHits atomic.Int32
	second := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		secondHits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(second.Close)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/same" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.URL.Path == "/local" {
			http.Redirect(w, r, "/same", http.StatusTemporaryRedirect)
			return
		}
		// 127.0.0.1 vs localhost: another host, same machine.
		su, _ := url.Parse(second.URL)
		http.Redirect(w, r, "http://localhost:"+su.Port()+"/steal", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(first.Close)
	p := mustPolicy(t, "127.0.0.0/8", "::1")
	c := p.Client()
	resp, err := c.Post(first.URL+"/x", "text/plain", strings.NewReader("master_pwd=secret"))
	if err == nil {
		_ = resp.Body.Close()
		t.Fatal("a redirect to another host was followed")
	}
	if !errors.Is(err, ErrRedirect) {
		t.Errorf("error %v, want ErrRedirect", err)
	}
	if n := secondHits.Load(); n != 0 {
		t.Errorf("the redirect target received %d requests", n)
	}
	resp, err = c.Post(first.URL+"/local", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatalf("a same-origin redirect: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("same-origin redirect ended with %d", resp.StatusCode)
	}
}
