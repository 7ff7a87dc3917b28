package egress

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Environment that carries the policy from the operator to the data Jobs
// that make a tenant's requests (`data restore-backup --from https://...`).
// None of it is secret.
const (
	EnvAllow                = "ODOO_OPERATOR_EGRESS_ALLOW"
	EnvDeny                 = "ODOO_OPERATOR_EGRESS_DENY"
	EnvAllowHTTPCredentials = "ODOO_OPERATOR_EGRESS_ALLOW_HTTP_CREDENTIALS"
)

// Parse builds a policy from the operator's flags: allow rules
// (CIDR[:PORT[-PORT]]), denied CIDRs, and whether credentials may go over
// plain http.
func Parse(allow, deny []string, allowHTTPCredentials bool) (Policy, error) {
	p := Policy{AllowHTTPCredentials: allowHTTPCredentials}
	for _, s := range splitAll(allow) {
		r, err := ParseRule(s)
		if err != nil {
			return Policy{}, fmt.Errorf("--egress-allow %w", err)
		}
		p.Allow = append(p.Allow, r)
	}
	for _, s := range splitAll(deny) {
		pr, err := netip.ParsePrefix(s)
		if err != nil {
			return Policy{}, fmt.Errorf("--egress-deny %q: want a CIDR: %w", s, err)
		}
		p.Deny = append(p.Deny, pr.Masked())
	}
	return p, nil
}

// splitAll accepts repeated flags as well as comma lists.
func splitAll(list []string) []string {
	var out []string
	for _, s := range list {
		for f := range strings.SplitSeq(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// Env is the policy as the environment FromEnv reads, names with values;
// nothing for the zero (default) policy.
func (p Policy) Env() [][2]string {
	var env [][2]string
	if len(p.Allow) > 0 {
		s := make([]string, len(p.Allow))
		for i, r := range p.Allow {
			s[i] = r.String()
		}
		env = append(env, [2]string{EnvAllow, strings.Join(s, ",")})
	}
	if len(p.Deny) > 0 {
		s := make([]string, len(p.Deny))
		for i, d := range p.Deny {
			s[i] = d.String()
		}
		env = append(env, [2]string{EnvDeny, strings.Join(s, ",")})
	}
	if p.AllowHTTPCredentials {
		env = append(env, [2]string{EnvAllowHTTPCredentials, "true"})
	}
	return env
}

// FromEnv reads the policy Env wrote.
func FromEnv(getenv func(string) string) (Policy, error) {
	creds := false
	if v := getenv(EnvAllowHTTPCredentials); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Policy{}, fmt.Errorf("$%s=%q: want true or false", EnvAllowHTTPCredentials, v)
		}
		creds = b
	}
	return Parse([]string{getenv(EnvAllow)}, []string{getenv(EnvDeny)}, creds)
}
