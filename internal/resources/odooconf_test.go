package resources

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func confInputs(options map[string]odoov1alpha2.ConfigValue) ConfInputs {
	return ConfInputs{
		Instance: newInstance(func(i *odoov1alpha2.OdooInstance) { i.Spec.ConfigOptions = options }),
		Database: DatabaseConnection{
			Host: "pg.databases.svc", Port: 5432, Name: "prod_shop",
			User: "odoo.prod.shop", Password: "db-secret",
		},
		AdminPassword: "master-secret",
	}
}

// confLine is one "key = value" line of odoo.conf.
type confLine struct{ key, value string }

// parseConf checks the shape of odoo.conf and returns its option lines in order.
func parseConf(t *testing.T, conf string) []confLine {
	t.Helper()
	g := NewWithT(t)
	g.Expect(conf).To(HavePrefix("[options]\n"))
	g.Expect(conf).To(HaveSuffix("\n"))
	body := strings.TrimSuffix(strings.TrimPrefix(conf, "[options]\n"), "\n")
	var lines []confLine
	for l := range strings.SplitSeq(body, "\n") {
		k, v, ok := strings.Cut(l, " = ")
		g.Expect(ok).To(BeTrue(), "line %q is not `key = value`", l)
		g.Expect(k).To(MatchRegexp(`^[a-z][a-z0-9_]*$`), "line %q", l)
		lines = append(lines, confLine{k, v})
	}
	return lines
}

// confMap is odoo.conf as a map, after checking no key appears twice.
func confMap(t *testing.T, conf string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range parseConf(t, conf) {
		if _, dup := m[l.key]; dup {
			t.Fatalf("key %q appears twice in\n%s", l.key, conf)
		}
		m[l.key] = l.value
	}
	return m
}

// sectionHeaders are the lines of conf that open an ini section.
func sectionHeaders(conf string) []string {
	var out []string
	for l := range strings.SplitSeq(conf, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "[") {
			out = append(out, l)
		}
	}
	return out
}

func TestRenderOdooConfDefaults(t *testing.T) {
	g := NewWithT(t)
	got := confMap(t, RenderOdooConf(confInputs(nil)))
	g.Expect(got).To(Equal(map[string]string{
		"addons_path":    "/mnt/extra-addons",
		"admin_passwd":   "master-secret",
		"data_dir":       "/var/lib/odoo",
		"db_host":        "pg.databases.svc",
		"db_name":        "prod_shop",
		"db_password":    "db-secret",
		"db_port":        "5432",
		"db_user":        "odoo.prod.shop",
		"dbfilter":       "^prod_shop$",
		"gevent_port":    "8072",
		"http_interface": "0.0.0.0",
		"http_port":      "8069",
		"list_db":        "False",
		"log_level":      "info",
		"logfile":        "",
		"proxy_mode":     "True",
	}))
}

func TestRenderOdooConfKeysSorted(t *testing.T) {
	tests := []struct {
		name    string
		options map[string]odoov1alpha2.ConfigValue
	}{
		{name: "no options"},
		{name: "options before, between and after the defaults", options: map[string]odoov1alpha2.ConfigValue{
			"aaa_first": "1", "limit_time_real": "600", "zzz_last": "2", "db_maxconn": "8", "unaccent": "True",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			lines := parseConf(t, RenderOdooConf(confInputs(tt.options)))
			keys := make([]string, 0, len(lines))
			for _, l := range lines {
				keys = append(keys, l.key)
			}
			g.Expect(slices.IsSorted(keys)).To(BeTrue(), "keys %v", keys)
			for k := range tt.options {
				g.Expect(keys).To(ContainElement(k))
			}
		})
	}
}

func TestRenderOdooConfOperatorKeysWin(t *testing.T) {
	tests := []struct {
		key  string
		want string
	}{
		{key: "db_host", want: "pg.databases.svc"},
		{key: "db_port", want: "5432"},
		{key: "db_user", want: "odoo.prod.shop"},
		{key: "db_password", want: "db-secret"},
		{key: "db_name", want: "prod_shop"},
		{key: "dbfilter", want: "^prod_shop$"},
		{key: "admin_passwd", want: "master-secret"},
		// The probes, Service and volume mounts depend on these.
		{key: "data_dir", want: "/var/lib/odoo"},
		{key: "http_interface", want: "0.0.0.0"},
		{key: "http_port", want: "8069"},
		{key: "gevent_port", want: "8072"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			g := NewWithT(t)
			got := confMap(t, RenderOdooConf(confInputs(map[string]odoov1alpha2.ConfigValue{tt.key: "evil"})))
			g.Expect(got).To(HaveKeyWithValue(tt.key, tt.want))
		})
	}

	t.Run("all at once", func(t *testing.T) {
		g := NewWithT(t)
		options := map[string]odoov1alpha2.ConfigValue{}
		for _, tt := range tests {
			options[tt.key] = "evil"
		}
		conf := RenderOdooConf(confInputs(options))
		g.Expect(conf).NotTo(ContainSubstring("evil"))
	})

	t.Run("db_sslmode from configOptions is replaced when the operator sets one", func(t *testing.T) {
		g := NewWithT(t)
		in := confInputs(map[string]odoov1alpha2.ConfigValue{"db_sslmode": "disable"})
		in.Database.SSLMode = "verify-full"
		g.Expect(confMap(t, RenderOdooConf(in))).To(HaveKeyWithValue("db_sslmode", "verify-full"))
	})
}

func TestRenderOdooConfPerRoleOptionsLeftOut(t *testing.T) {
	tests := []struct {
		key   string
		value odoov1alpha2.ConfigValue
	}{
		{key: "workers", value: "5"},
		{key: "max_cron_threads", value: "0"},
		{key: "http_enable", value: "False"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			g := NewWithT(t)
			got := confMap(t, RenderOdooConf(confInputs(map[string]odoov1alpha2.ConfigValue{
				tt.key: tt.value, "limit_time_real": "600",
			})))
			g.Expect(got).NotTo(HaveKey(tt.key))
			g.Expect(got).To(HaveKeyWithValue("limit_time_real", "600"), "other options are still written")
		})
	}
}

func TestRenderOdooConfOverridableDefaults(t *testing.T) {
	tests := []struct {
		key   string
		value string
	}{
		{key: "proxy_mode", value: "False"},
		{key: "list_db", value: "True"},
		{key: "addons_path", value: "/mnt/extra-addons,/mnt/oca"},
		{key: "log_level", value: "debug"},
		{key: "logfile", value: "/var/log/odoo.log"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			g := NewWithT(t)
			got := confMap(t, RenderOdooConf(confInputs(map[string]odoov1alpha2.ConfigValue{
				tt.key: odoov1alpha2.ConfigValue(tt.value),
			})))
			g.Expect(got).To(HaveKeyWithValue(tt.key, tt.value))
		})
	}
}

func TestRenderOdooConfSingleLineValues(t *testing.T) {
	tests := []struct {
		name  string
		value string
	}{
		{name: "newline", value: "600\ndb_host = evil"},
		{name: "carriage return", value: "600\rdb_host = evil"},
		{name: "CRLF", value: "600\r\ndb_host = evil\r\n"},
		{name: "new section", value: "600\n[options]\nadmin_passwd = evil"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" in configOptions", func(t *testing.T) {
			g := NewWithT(t)
			conf := RenderOdooConf(confInputs(map[string]odoov1alpha2.ConfigValue{
				"limit_time_real": odoov1alpha2.ConfigValue(tt.value),
			}))
			g.Expect(sectionHeaders(conf)).To(Equal([]string{"[options]"}))
			g.Expect(conf).NotTo(ContainSubstring("\r"))
			got := confMap(t, conf) // fails on a duplicated key
			g.Expect(got).To(HaveKeyWithValue("db_host", "pg.databases.svc"))
			g.Expect(got).To(HaveKeyWithValue("admin_passwd", "master-secret"))
			g.Expect(got["limit_time_real"]).To(HavePrefix("600"))
			g.Expect(got).To(HaveLen(17))
		})
		t.Run(tt.name+" in a password", func(t *testing.T) {
			g := NewWithT(t)
			in := confInputs(nil)
			in.AdminPassword = tt.value
			in.Database.Password = tt.value
			conf := RenderOdooConf(in)
			g.Expect(sectionHeaders(conf)).To(Equal([]string{"[options]"}))
			got := confMap(t, conf)
			g.Expect(got).To(HaveKeyWithValue("db_host", "pg.databases.svc"))
			g.Expect(got).To(HaveLen(16))
		})
	}
}

func TestRenderOdooConfDBFilter(t *testing.T) {
	tests := []struct {
		db   string
		want string
	}{
		{db: "prod_shop", want: `^prod_shop$`},
		{db: "my.db", want: `^my\.db$`},
		{db: "a-b", want: `^a-b$`},
		{db: "x+y*z?", want: `^x\+y\*z\?$`},
		{db: "(a|b)", want: `^\(a\|b\)$`},
	}
	for _, tt := range tests {
		t.Run(tt.db, func(t *testing.T) {
			g := NewWithT(t)
			in := confInputs(nil)
			in.Database.Name = tt.db
			got := confMap(t, RenderOdooConf(in))
			g.Expect(got).To(HaveKeyWithValue("dbfilter", tt.want))
			g.Expect(got).To(HaveKeyWithValue("db_name", tt.db))
		})
	}
}

func TestRenderOdooConfSSLMode(t *testing.T) {
	tests := []struct {
		name    string
		sslMode string
	}{
		{name: "unset keeps Odoo's default", sslMode: ""},
		{name: "require", sslMode: "require"},
		{name: "verify-full", sslMode: "verify-full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			in := confInputs(nil)
			in.Database.SSLMode = tt.sslMode
			got := confMap(t, RenderOdooConf(in))
			if tt.sslMode == "" {
				g.Expect(got).NotTo(HaveKey("db_sslmode"))
				return
			}
			g.Expect(got).To(HaveKeyWithValue("db_sslmode", tt.sslMode))
		})
	}
}

func TestRenderOdooConfDeterministic(t *testing.T) {
	g := NewWithT(t)
	options := map[string]odoov1alpha2.ConfigValue{}
	for i := range 40 {
		options[fmt.Sprintf("option_%02d", i)] = odoov1alpha2.ConfigValue(fmt.Sprint(i))
	}
	options["workers"] = "4"
	options["db_host"] = "evil"
	first := RenderOdooConf(confInputs(options))
	for range 50 {
		// A new map each time, so Go's randomised iteration order varies.
		again := map[string]odoov1alpha2.ConfigValue{}
		for k, v := range options {
			again[k] = v
		}
		g.Expect(RenderOdooConf(confInputs(again))).To(Equal(first))
	}
}

func TestConfHash(t *testing.T) {
	base := RenderOdooConf(confInputs(nil))
	tests := []struct {
		name    string
		mutate  func(*ConfInputs)
		changed bool
	}{
		{name: "same inputs", mutate: func(*ConfInputs) {}, changed: false},
		{name: "per-role option only", mutate: func(in *ConfInputs) {
			in.Instance.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"workers": "8"}
		}, changed: false},
		{name: "overridden operator key only", mutate: func(in *ConfInputs) {
			in.Instance.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"db_host": "evil"}
		}, changed: false},
		{name: "database password", mutate: func(in *ConfInputs) { in.Database.Password = "rotated" }, changed: true},
		{name: "admin password", mutate: func(in *ConfInputs) { in.AdminPassword = "rotated" }, changed: true},
		{name: "database host", mutate: func(in *ConfInputs) { in.Database.Host = "pg2" }, changed: true},
		{name: "database port", mutate: func(in *ConfInputs) { in.Database.Port = 5433 }, changed: true},
		{name: "sslmode", mutate: func(in *ConfInputs) { in.Database.SSLMode = "require" }, changed: true},
		{name: "config option", mutate: func(in *ConfInputs) {
			in.Instance.Spec.ConfigOptions = map[string]odoov1alpha2.ConfigValue{"limit_time_real": "600"}
		}, changed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			in := confInputs(nil)
			tt.mutate(&in)
			conf := RenderOdooConf(in)
			g.Expect(conf != base).To(Equal(tt.changed), "content changed")
			g.Expect(ConfHash(conf)).To(MatchRegexp(`^[0-9a-f]{16}$`))
			if tt.changed {
				g.Expect(ConfHash(conf)).NotTo(Equal(ConfHash(base)))
			} else {
				g.Expect(ConfHash(conf)).To(Equal(ConfHash(base)))
			}
		})
	}

	t.Run("known value", func(t *testing.T) {
		g := NewWithT(t)
		// sha256("") = e3b0c44298fc1c149afbf4c8996fb924...
		g.Expect(ConfHash("")).To(Equal("e3b0c44298fc1c14"))
	})
}
