package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Control is a net.Dialer ControlContext that refuses, before the socket
// connects, an address the policy does not let a tenant reach. It sees the
// address after DNS resolution, for every address tried, so neither a name
// resolving to an internal address nor one that changes its answer between
// a check and the connection (DNS rebinding) gets through.
func (p Policy) Control(_ context.Context, network, address string, _ syscall.RawConn) error {
	if !strings.HasPrefix(network, "tcp") && !strings.HasPrefix(network, "udp") {
		return fmt.Errorf("%w: network %s", ErrRefused, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: address %q: %w", ErrRefused, address, err)
	}
	return p.Check(ap)
}

// Dialer is a net.Dialer guarded by the policy.
func (p Policy) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, ControlContext: p.Control}
}

// Transport is an http.Transport whose every connection is guarded by the
// policy. It uses no proxy: a proxy would connect to the tenant's host on
// our behalf, past the check.
func (p Policy) Transport() *http.Transport {
	return &http.Transport{
		DialContext:           p.Dialer().DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// ErrRedirect is returned for a redirect to another scheme, host or port.
var ErrRedirect = errors.New("redirect to another origin refused")

// SameOrigin is an http.Client CheckRedirect that follows at most five
// redirects, and only to the scheme, host and port of the first request:
// a redirect must not carry a tenant's request (and its credentials, which
// a 307 or 308 re-sends in the body) to another host, nor downgrade https.
func SameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	if len(via) > 5 {
		return errors.New("stopped after 5 redirects")
	}
	orig := via[0].URL
	if req.URL.Scheme != orig.Scheme || !strings.EqualFold(req.URL.Host, orig.Host) {
		return fmt.Errorf("%w: %s://%s redirected to %s://%s", ErrRedirect, orig.Scheme, orig.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// Client is an http.Client on Transport with SameOrigin redirects.
func (p Policy) Client() *http.Client {
	return &http.Client{Transport: p.Transport(), CheckRedirect: SameOrigin}
}

// CheckURL is the cheap check of a tenant's URL, for admission and
// reconcile: the scheme, and a host that is a literal address the policy
// refuses. Names are judged at connection time (see Control); ResolveURL
// also resolves them. withCredentials says the request carries a credential,
// which plain http may carry only when the policy allows it.
func (p Policy) CheckURL(raw string, withCredentials bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("not a URL with a host")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if withCredentials && !p.AllowHTTPCredentials {
			return errors.New("use https: a password is never sent over plain http (an administrator can allow it with --egress-allow-http-credentials)")
		}
	default:
		return fmt.Errorf("the scheme must be http or https, not %q", u.Scheme)
	}
	if a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		return p.Check(netip.AddrPortFrom(a, urlPort(u)))
	}
	return nil
}

// ResolveURL is CheckURL plus a DNS lookup of a named host: it refuses a
// name any of whose addresses the policy refuses, so a reconcile can say
// why before anything is sent. The connection is checked again anyway.
func (p Policy) ResolveURL(ctx context.Context, r *net.Resolver, raw string, withCredentials bool) error {
	if err := p.CheckURL(raw, withCredentials); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", host, err)
	}
	for _, a := range addrs {
		if err := p.Check(netip.AddrPortFrom(a, urlPort(u))); err != nil {
			return fmt.Errorf("%s resolves to %w", host, err)
		}
	}
	return nil
}

func urlPort(u *url.URL) uint16 {
	if p, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		return uint16(p)
	}
	if u.Scheme == "http" {
		return 80
	}
	return 443
}
