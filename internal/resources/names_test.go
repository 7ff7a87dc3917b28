package resources

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

var (
	derivedDBName = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)
	hashSuffix    = regexp.MustCompile(`[_.][0-9a-f]{10}$`)
)

func named(namespace, name string) *odoov1alpha2.OdooInstance {
	return newInstance(func(i *odoov1alpha2.OdooInstance) { i.Namespace, i.Name = namespace, name })
}

func TestChildNames(t *testing.T) {
	g := NewWithT(t)
	inst := named("prod", "shop")
	g.Expect(WebName(inst)).To(Equal("shop"))
	g.Expect(CronName(inst)).To(Equal("shop-cron"))
	g.Expect(ConfSecretName(inst)).To(Equal("shop-odoo-conf"))
	g.Expect(UserSecretName(inst)).To(Equal("shop-odoo-user"))
	g.Expect(FilestorePVCName(inst)).To(Equal("shop-filestore-pvc"))
	g.Expect(TLSSecretName(inst)).To(Equal("shop-tls"))
}

func TestDatabaseName(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		instance  string
		explicit  string
		want      string // empty: only the shape is checked
		// wantPrefix with a hash suffix: separators were replaced, so the
		// plain form could collide (shop-v2 and shop.v2).
		wantPrefix string
	}{
		{name: "explicit name wins", namespace: "prod", instance: "shop", explicit: "Legacy.DB-1", want: "Legacy.DB-1"},
		{name: "explicit name wins over a long derivation", namespace: strings.Repeat("n", 63), instance: strings.Repeat("i", 200), explicit: "odoo", want: "odoo"},
		{name: "derived from namespace and name", namespace: "prod", instance: "shop", want: "prod_shop"},
		{name: "dashes become underscores plus a hash", namespace: "team-a", instance: "pneumac-staging", wantPrefix: "team_a_pneumac_staging_"},
		{name: "dots become underscores plus a hash", namespace: "prod", instance: "shop.example.com", wantPrefix: "prod_shop_example_com_"},
		{name: "upper case is folded plus a hash", namespace: "Prod", instance: "Shop", wantPrefix: "prod_shop_"},
		{name: "exactly 63 bytes is kept", namespace: strings.Repeat("n", 31), instance: strings.Repeat("i", 31), want: strings.Repeat("n", 31) + "_" + strings.Repeat("i", 31)},
		{name: "too long is truncated with a hash", namespace: strings.Repeat("n", 63), instance: strings.Repeat("i", 253)},
		{name: "64 bytes is truncated with a hash", namespace: strings.Repeat("n", 31), instance: strings.Repeat("i", 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := named(tt.namespace, tt.instance)
			inst.Spec.Database.Name = tt.explicit
			got := DatabaseName(inst)
			g.Expect(DatabaseName(inst)).To(Equal(got), "stable across calls")
			if tt.want != "" {
				g.Expect(got).To(Equal(tt.want))
			}
			if tt.wantPrefix != "" {
				g.Expect(got).To(HavePrefix(tt.wantPrefix))
				g.Expect(got).To(MatchRegexp(hashSuffix.String()))
				g.Expect(got).To(HaveLen(len(tt.wantPrefix) + 10))
			}
			if tt.explicit != "" {
				return
			}
			g.Expect(got).To(MatchRegexp(derivedDBName.String()))
			g.Expect(len(got)).To(BeNumerically("<=", 63))
			if len(tt.namespace)+1+len(tt.instance) > 63 {
				g.Expect(got).To(HaveLen(63), "a truncated name uses all 63 bytes")
				g.Expect(got).To(MatchRegexp(hashSuffix.String()))
				g.Expect(got).To(HavePrefix(strings.ToLower(tt.namespace)[:10]))
			}
		})
	}
}

// Distinct instances must never share a database: deleting one with
// deletionPolicy Delete would drop the other's data.
func TestDatabaseNameDistinctForLongNames(t *testing.T) {
	tests := []struct {
		name  string
		pairs func(i int) (string, string)
	}{
		{name: "same namespace, names sharing a 70-char prefix", pairs: func(i int) (string, string) {
			return "prod", strings.Repeat("a", 70) + fmt.Sprint(i)
		}},
		{name: "namespaces sharing a long prefix, same name", pairs: func(i int) (string, string) {
			return strings.Repeat("n", 60) + fmt.Sprint(i), "shop"
		}},
		{name: "both long and sharing a prefix", pairs: func(i int) (string, string) {
			return strings.Repeat("x", 50) + fmt.Sprint(i%7), strings.Repeat("y", 70) + fmt.Sprint(i)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			seen := map[string]string{}
			for i := range 50 {
				ns, name := tt.pairs(i)
				got := DatabaseName(named(ns, name))
				g.Expect(got).To(MatchRegexp(derivedDBName.String()))
				who := ns + "/" + name
				g.Expect(seen).NotTo(HaveKey(got), "%s and %s share database %s", seen[got], who, got)
				seen[got] = who
			}
		})
	}
}

// Sanitising '-' and '.' to '_' must not make two distinct instances share a
// database, whatever the length of their names.
func TestDatabaseNameDistinctForSeparatorVariants(t *testing.T) {
	tests := []struct {
		name  string
		aNS   string
		aName string
		bNS   string
		bName string
	}{
		{name: "dash moves from namespace to name", aNS: "team-a", aName: "shop", bNS: "team", bName: "a-shop"},
		{name: "underscore separator moves", aNS: "a", aName: "b-c", bNS: "a-b", bName: "c"},
		{name: "dot and dash in the same namespace", aNS: "prod", aName: "shop.v2", bNS: "prod", bName: "shop-v2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			a, b := DatabaseName(named(tt.aNS, tt.aName)), DatabaseName(named(tt.bNS, tt.bName))
			g.Expect(a).NotTo(Equal(b), "%s/%s and %s/%s share database %q", tt.aNS, tt.aName, tt.bNS, tt.bName, a)
		})
	}
}

func TestRoleName(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		instance  string
		want      string // empty: only the shape is checked
		// wantPrefix with a hash suffix: separators were replaced, so the
		// plain form could collide (shop-v2 and shop.v2).
		wantPrefix string
	}{
		{name: "short keeps the reference form", namespace: "prod", instance: "shop", want: "odoo.prod.shop"},
		{name: "dots and dashes are kept", namespace: "team-a", instance: "shop.v2", want: "odoo.team-a.shop.v2"},
		{name: "exactly 63 bytes is kept", namespace: strings.Repeat("n", 28), instance: strings.Repeat("i", 29),
			want: "odoo." + strings.Repeat("n", 28) + "." + strings.Repeat("i", 29)},
		{name: "64 bytes is shortened", namespace: strings.Repeat("n", 28), instance: strings.Repeat("i", 30)},
		{name: "very long is shortened", namespace: strings.Repeat("n", 63), instance: strings.Repeat("i", 253)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got := RoleName(named(tt.namespace, tt.instance))
			g.Expect(RoleName(named(tt.namespace, tt.instance))).To(Equal(got), "stable across calls")
			g.Expect(len(got)).To(BeNumerically("<=", 63))
			g.Expect(got).To(HavePrefix("odoo."))
			if tt.want != "" {
				g.Expect(got).To(Equal(tt.want))
				return
			}
			g.Expect(got).To(HaveLen(63))
			g.Expect(got).To(MatchRegexp(`\.[0-9a-f]{10}$`))
		})
	}
}

func TestRoleNameDistinctForLongNames(t *testing.T) {
	tests := []struct {
		name  string
		pairs func(i int) (string, string)
	}{
		{name: "same namespace, names sharing a 70-char prefix", pairs: func(i int) (string, string) {
			return "prod", strings.Repeat("a", 70) + fmt.Sprint(i)
		}},
		{name: "namespaces sharing a long prefix", pairs: func(i int) (string, string) {
			return strings.Repeat("n", 60) + fmt.Sprint(i), "shop"
		}},
		{name: "prefix split differently between namespace and name", pairs: func(i int) (string, string) {
			s := strings.Repeat("z", 80)
			return s[:i+5], s[i+5:]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			seen := map[string]string{}
			for i := range 50 {
				ns, name := tt.pairs(i)
				got := RoleName(named(ns, name))
				g.Expect(len(got)).To(BeNumerically("<=", 63))
				who := ns + "/" + name
				g.Expect(seen).NotTo(HaveKey(got), "%s and %s share role %s", seen[got], who, got)
				seen[got] = who
			}
		})
	}
}

func TestSelectorLabels(t *testing.T) {
	tests := []struct {
		component string
		want      map[string]string
	}{
		{component: ComponentWeb, want: map[string]string{"app": "shop"}},
		{component: ComponentCron, want: map[string]string{"app": "shop-cron"}},
	}
	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(SelectorLabels(named("prod", "shop"), tt.component)).To(Equal(tt.want))
		})
	}
}

func TestLabels(t *testing.T) {
	tests := []struct {
		name      string
		component string
		want      map[string]string
	}{
		{name: "web", component: ComponentWeb, want: map[string]string{
			"app.kubernetes.io/name": "odoo", "app.kubernetes.io/instance": "shop",
			"app.kubernetes.io/managed-by": "odoo-operator", "bemade.org/instance": "shop",
			"app.kubernetes.io/component": "web",
		}},
		{name: "cron", component: ComponentCron, want: map[string]string{
			"app.kubernetes.io/name": "odoo", "app.kubernetes.io/instance": "shop",
			"app.kubernetes.io/managed-by": "odoo-operator", "bemade.org/instance": "shop",
			"app.kubernetes.io/component": "cron",
		}},
		{name: "no component", component: "", want: map[string]string{
			"app.kubernetes.io/name": "odoo", "app.kubernetes.io/instance": "shop",
			"app.kubernetes.io/managed-by": "odoo-operator", "bemade.org/instance": "shop",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			inst := named("prod", "shop")
			g.Expect(Labels(inst, tt.component)).To(Equal(tt.want))
		})
	}
}

func TestPodLabels(t *testing.T) {
	tests := []struct {
		component string
		app       string
	}{
		{component: ComponentWeb, app: "shop"},
		{component: ComponentCron, app: "shop-cron"},
	}
	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			g := NewWithT(t)
			inst := named("prod", "shop")
			got := PodLabels(inst, tt.component)
			for k, v := range SelectorLabels(inst, tt.component) {
				g.Expect(got).To(HaveKeyWithValue(k, v))
			}
			for k, v := range Labels(inst, tt.component) {
				g.Expect(got).To(HaveKeyWithValue(k, v))
			}
			g.Expect(got).To(HaveKeyWithValue("app", tt.app))
		})
	}
}
