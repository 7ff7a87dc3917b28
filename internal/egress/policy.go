// Package egress guards the outbound requests the operator makes for a
// tenant (notification webhooks, a live Odoo a restore downloads from): a
// tenant's URL must not make the operator reach the kube-apiserver, the
// cloud's metadata service, the PostgreSQL servers or any other internal
// address. The check runs on the IP address a connection is about to be
// made to, after DNS resolution, so a name that resolves (or rebinds) to an
// internal address is refused like the literal address.
package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Rule allows (or denies) a range of addresses, optionally on a range of
// ports only.
type Rule struct {
	Prefix netip.Prefix
	// MinPort and MaxPort bound the ports; both 0 means every port.
	MinPort, MaxPort uint16
}

// ParseRule reads CIDR[:PORT[-PORT]], e.g. 127.0.0.1/32:31000-31999,
// 10.0.0.0/8, [fd00::/8]:443 or a single address (a /32 or /128).
func ParseRule(s string) (Rule, error) {
	s = strings.TrimSpace(s)
	cidr, ports := s, ""
	if rest, ok := strings.CutPrefix(s, "["); ok {
		i := strings.Index(rest, "]")
		if i < 0 {
			return Rule{}, fmt.Errorf("%q: missing ]", s)
		}
		cidr = rest[:i]
		tail := rest[i+1:]
		if tail != "" {
			p, ok := strings.CutPrefix(tail, ":")
			if !ok {
				return Rule{}, fmt.Errorf("%q: want [CIDR]:PORT[-PORT]", s)
			}
			ports = p
		}
	} else if strings.Count(s, ":") == 1 {
		cidr, ports, _ = strings.Cut(s, ":")
	}
	var r Rule
	var err error
	if strings.Contains(cidr, "/") {
		r.Prefix, err = netip.ParsePrefix(cidr)
	} else {
		var a netip.Addr
		if a, err = netip.ParseAddr(cidr); err == nil {
			r.Prefix = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil {
		return Rule{}, fmt.Errorf("%q: not a CIDR or an address: %w", s, err)
	}
	r.Prefix = r.Prefix.Masked()
	if r.Prefix.Addr().Is4In6() {
		r.Prefix = netip.PrefixFrom(r.Prefix.Addr().Unmap(), max(r.Prefix.Bits()-96, 0))
	}
	if ports == "" {
		return r, nil
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	if !isRange {
		hi = lo
	}
	min, err1 := strconv.ParseUint(lo, 10, 16)
	max, err2 := strconv.ParseUint(hi, 10, 16)
	if err1 != nil || err2 != nil || min == 0 || min > max {
		return Rule{}, fmt.Errorf("%q: ports must be PORT or LOW-HIGH within 1-65535", s)
	}
	r.MinPort, r.MaxPort = uint16(min), uint16(max)
	return r, nil
}

// String is the rule as ParseRule reads it.
func (r Rule) String() string {
	s := r.Prefix.String()
	if r.MinPort == 0 {
		return s
	}
	if r.Prefix.Addr().Is6() {
		s = "[" + s + "]"
	}
	if r.MinPort == r.MaxPort {
		return s + ":" + strconv.Itoa(int(r.MinPort))
	}
	return s + ":" + strconv.Itoa(int(r.MinPort)) + "-" + strconv.Itoa(int(r.MaxPort))
}

func (r Rule) matches(a netip.Addr, port uint16) bool {
	return r.Prefix.Contains(a) && (r.MinPort == 0 || (port >= r.MinPort && port <= r.MaxPort))
}

// Policy decides which addresses a tenant's URL may reach. Its zero value is
// the default: every public address, nothing internal.
type Policy struct {
	// Allow lists the internal addresses an administrator lets tenants
	// reach (operator flag --egress-allow). An allowed rule wins over every
	// denied range.
	Allow []Rule
	// Deny adds ranges to the built-in ones, e.g. a cluster's Service and
	// Pod ranges that are not private addresses (--egress-deny).
	Deny []netip.Prefix
	// AllowHTTPCredentials lets a credential (a source Odoo's master
	// password) go over plain http (--egress-allow-http-credentials).
	AllowHTTPCredentials bool
}

// denied are the ranges no tenant URL reaches unless allowed: everything
// that is not a public unicast address on the internet.
var denied = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified (\"this network\") address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address, often a cluster's Pod range"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address (cloud metadata services live there)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address (it can embed an internal IPv4 address)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a NAT64 address (it can embed an internal IPv4 address)"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address (it can embed an internal IPv4 address)"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address (it can embed an internal IPv4 address)"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
}

// ErrRefused is wrapped by every refusal of Check.
var ErrRefused = errors.New("refused by the operator's egress policy")

// RefusedError says which address was refused and why.
type RefusedError struct {
	Addr netip.AddrPort
	Why  string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s is %s: %v (an administrator can allow it with the operator flag --egress-allow)", e.Addr, e.Why, ErrRefused)
}

func (e *RefusedError) Unwrap() error { return ErrRefused }

// Check returns nil when the policy lets a tenant's request connect to ap,
// a *RefusedError otherwise. An IPv4-mapped IPv6 address is judged as the
// IPv4 address it is.
func (p Policy) Check(ap netip.AddrPort) error {
	a := ap.Addr().Unmap().WithZone("")
	if !a.IsValid() {
		return &RefusedError{Addr: ap, Why: "not an IP address"}
	}
	for _, r := range p.Allow {
		if r.matches(a, ap.Port()) {
			return nil
		}
	}
	for _, d := range denied {
		if d.prefix.Contains(a) {
			return &RefusedError{Addr: netip.AddrPortFrom(a, ap.Port()), Why: d.why}
		}
	}
	for _, d := range p.Deny {
		if d.Contains(a) {
			return &RefusedError{Addr: netip.AddrPortFrom(a, ap.Port()), Why: "in the cluster's range " + d.String()}
		}
	}
	if a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsPrivate() || a.IsMulticast() || a.IsUnspecified() {
		return &RefusedError{Addr: netip.AddrPortFrom(a, ap.Port()), Why: "not a public address"}
	}
	return nil
}
