// Package tenantpolicy turns the OdooTenantPolicies that select a namespace
// into what its OdooInstances may use, and checks an instance against it.
// Everything here is pure but Read, the one place that reads the policies
// and the namespace for the admission webhook and the controllers.
package tenantpolicy

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Allowed is what the policies selecting one namespace allow together. A nil
// list allows anything of its kind; an empty, non-nil list allows nothing.
type Allowed struct {
	// Policies are the names of the policies that selected the namespace,
	// sorted; empty means the namespace is not restricted.
	Policies          []string
	DatabaseClusters  []string
	Issuers           []string
	IngressClasses    []string
	StorageClasses    []string
	NotificationHosts []string
	// Egress is Restricted when any selecting policy restricts egress.
	Egress odoov1alpha2.EgressMode
	// EgressDestinations are the destinations every restricting policy lists.
	EgressDestinations []odoov1alpha2.EgressDestination
	// MailCatchers are the spec.stagingMailCatcher values the selecting
	// policies set, each with the policies that set it (sorted); see
	// StagingMailCatcher.
	MailCatchers map[string][]string
}

// StagingMailCatcher is the mail catcher the policies set for staging
// restores: "" when none sets one (the operator's flag applies), an error
// naming the policies when they set different ones. Picking one would send
// a tenant's mail wherever the policies happen to sort; the administrator
// decides.
func (a Allowed) StagingMailCatcher() (string, error) {
	switch len(a.MailCatchers) {
	case 0:
		return "", nil
	case 1:
		for c := range a.MailCatchers {
			return c, nil
		}
	}
	catchers := make([]string, 0, len(a.MailCatchers))
	for c := range a.MailCatchers {
		catchers = append(catchers, c)
	}
	slices.Sort(catchers)
	parts := make([]string, len(catchers))
	for i, c := range catchers {
		parts[i] = fmt.Sprintf("%s (OdooTenantPolicy %s)", c, strings.Join(a.MailCatchers[c], ", "))
	}
	return "", fmt.Errorf("the OdooTenantPolicies selecting this namespace set different spec.stagingMailCatcher values: %s; set the same catcher in each, or in only one", strings.Join(parts, ", "))
}

// Restricted says whether any policy selected the namespace.
func (a Allowed) Restricted() bool { return len(a.Policies) > 0 }

// For intersects the policies whose namespaceSelector matches nsLabels. A
// policy whose selector cannot be parsed selects nothing and is reported in
// the error; the other policies still apply.
func For(policies []odoov1alpha2.OdooTenantPolicy, nsLabels map[string]string) (Allowed, error) {
	sorted := slices.Clone(policies)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var a Allowed
	var bad []string
	for i := range sorted {
		p := &sorted[i]
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.NamespaceSelector)
		if err != nil {
			bad = append(bad, fmt.Sprintf("OdooTenantPolicy %s: spec.namespaceSelector: %v", p.Name, err))
			continue
		}
		if !sel.Matches(labels.Set(nsLabels)) {
			continue
		}
		a.Policies = append(a.Policies, p.Name)
		s := p.Spec
		a.DatabaseClusters = intersect(a.DatabaseClusters, s.DatabaseClusters)
		a.Issuers = intersect(a.Issuers, s.Issuers)
		a.IngressClasses = intersect(a.IngressClasses, s.IngressClasses)
		a.StorageClasses = intersect(a.StorageClasses, s.StorageClasses)
		a.NotificationHosts = intersect(a.NotificationHosts, s.NotificationHosts)
		if s.StagingMailCatcher != "" {
			if a.MailCatchers == nil {
				a.MailCatchers = map[string][]string{}
			}
			a.MailCatchers[s.StagingMailCatcher] = append(a.MailCatchers[s.StagingMailCatcher], p.Name)
		}
		if s.Network != nil && s.Network.Egress == odoov1alpha2.EgressRestricted {
			if a.Egress != odoov1alpha2.EgressRestricted {
				a.Egress = odoov1alpha2.EgressRestricted
				a.EgressDestinations = slices.Clone(s.Network.EgressDestinations)
				if a.EgressDestinations == nil {
					a.EgressDestinations = []odoov1alpha2.EgressDestination{}
				}
			} else {
				a.EgressDestinations = slices.DeleteFunc(a.EgressDestinations, func(d odoov1alpha2.EgressDestination) bool {
					return !slices.ContainsFunc(s.Network.EgressDestinations, func(o odoov1alpha2.EgressDestination) bool { return sameDestination(d, o) })
				})
			}
		}
	}
	if a.Egress == "" {
		a.Egress = odoov1alpha2.EgressUnrestricted
	}
	if len(bad) > 0 {
		return a, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return a, nil
}

// intersect narrows acc by next. nil means "anything", so it leaves the
// other side as it is.
func intersect(acc, next []string) []string {
	switch {
	case next == nil:
		return acc
	case acc == nil:
		out := slices.Clone(next)
		if out == nil {
			out = []string{}
		}
		slices.Sort(out)
		return slices.Compact(out)
	default:
		return slices.DeleteFunc(acc, func(v string) bool { return !slices.Contains(next, v) })
	}
}

func sameDestination(a, b odoov1alpha2.EgressDestination) bool {
	pa, pb := slices.Clone(a.Ports), slices.Clone(b.Ports)
	slices.Sort(pa)
	slices.Sort(pb)
	return a.CIDR == b.CIDR && slices.Equal(pa, pb)
}

// Check refuses what the policies do not allow. cluster is the name of the
// PostgreSQL cluster spec.database.cluster resolves to ("" when unknown):
// an empty spec.database.cluster is checked as the default cluster's name.
func (a Allowed) Check(inst *odoov1alpha2.OdooInstance, cluster string) field.ErrorList {
	if !a.Restricted() {
		return nil
	}
	var errs field.ErrorList
	spec := inst.Spec
	if a.DatabaseClusters != nil {
		name := spec.Database.Cluster
		if cluster != "" {
			name = cluster
		}
		errs = append(errs, a.check(field.NewPath("spec", "database", "cluster"), name, a.DatabaseClusters, slices.Contains)...)
	}
	if ing := spec.Ingress; ing != nil {
		if ing.Issuer != "" && a.Issuers != nil {
			errs = append(errs, a.check(field.NewPath("spec", "ingress", "issuer"), ing.Issuer, a.Issuers, slices.Contains)...)
		}
		if ing.Class != "" && a.IngressClasses != nil {
			errs = append(errs, a.check(field.NewPath("spec", "ingress", "class"), ing.Class, a.IngressClasses, slices.Contains)...)
		}
	}
	if c := spec.Filestore.StorageClass; c != "" && a.StorageClasses != nil {
		errs = append(errs, a.check(field.NewPath("spec", "filestore", "storageClass"), c, a.StorageClasses, slices.Contains)...)
	}
	if wh := spec.Webhook; wh != nil && wh.URL != "" && a.NotificationHosts != nil {
		host := ""
		if u, err := url.Parse(wh.URL); err == nil {
			host = strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		}
		// Only the host is echoed: the URL's path or query may be a token.
		p := field.NewPath("spec", "webhook", "url")
		if host == "" {
			errs = append(errs, field.Invalid(p, "", "has no host name"))
		} else if !slices.ContainsFunc(a.NotificationHosts, func(pattern string) bool { return HostMatches(pattern, host) }) {
			errs = append(errs, a.notAllowed(p, host, "host", a.NotificationHosts))
		}
	}
	return errs
}

func (a Allowed) check(p *field.Path, value string, allowed []string, contains func([]string, string) bool) field.ErrorList {
	if contains(allowed, value) {
		return nil
	}
	return field.ErrorList{a.notAllowed(p, value, "", allowed)}
}

// notAllowed is field.NotSupported with the allowed values ("supported
// values: ...") and the policies that allow them, so the user knows what to
// write and whom to ask.
func (a Allowed) notAllowed(p *field.Path, value, what string, allowed []string) *field.Error {
	e := field.NotSupported(p, value, allowed)
	if len(allowed) == 0 {
		e.Detail = "none allowed in this namespace"
	}
	if what != "" {
		e.Detail = what + " not allowed; " + e.Detail
	}
	e.Detail += fmt.Sprintf(" (OdooTenantPolicy %s)", strings.Join(a.Policies, ", "))
	return e
}

// HostMatches says whether host matches pattern: equal, or "*.suffix"
// matching any name under suffix (not suffix itself).
func HostMatches(pattern, host string) bool {
	pattern = strings.TrimSuffix(strings.ToLower(pattern), ".")
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(host, "."+rest) && len(host) > len(rest)+1
	}
	return host == pattern
}
