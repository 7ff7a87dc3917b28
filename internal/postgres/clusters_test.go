package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const testSecret = "Hunter2-s3cr3t-p@ss w'rd"

func TestParseClusters(t *testing.T) {
	ca := testCAPEM(t)
	tests := []struct {
		name    string
		yaml    string
		want    Clusters
		wantErr string
	}{
		{
			name: "reference format",
			yaml: `
main:
  host: pg-main.db.svc
  port: 5433
  adminUser: postgres
  adminPassword: "` + testSecret + `"
  default: true
other:
  host: pg-other
  port: 5432
  adminUser: admin
  adminPassword: x
`,
			want: Clusters{
				"main":  {Name: "main", Host: "pg-main.db.svc", Port: 5433, AdminUser: "postgres", AdminPassword: testSecret, Default: true},
				"other": {Name: "other", Host: "pg-other", Port: 5432, AdminUser: "admin", AdminPassword: "x"},
			},
		},
		{
			name: "default port, string port, sslMode and caCert",
			yaml: "a:\n  host: h\n  adminUser: u\n  adminPassword: p\nb:\n  host: h\n  port: \"6432\"\n  adminUser: u\n  adminPassword: p\n  sslMode: verify-ca\n  caCert: |\n" +
				indent(ca, "    "),
			want: Clusters{
				"a": {Name: "a", Host: "h", Port: 5432, AdminUser: "u", AdminPassword: "p"},
				"b": {Name: "b", Host: "h", Port: 6432, AdminUser: "u", AdminPassword: "p", SSLMode: "verify-ca", CACert: ca},
			},
		},
		{name: "empty", yaml: "  \n", wantErr: `clusters.yaml: no clusters defined`},
		{name: "not a mapping", yaml: "- a\n- b\n", wantErr: `clusters.yaml: must be a mapping`},
		{name: "cluster not a mapping", yaml: "main: yes\n", wantErr: `clusters.yaml: cluster "main": must be a mapping`},
		{
			name:    "missing host",
			yaml:    "main:\n  adminUser: u\n  adminPassword: \"" + testSecret + "\"\n",
			wantErr: `clusters.yaml: cluster "main": host is required`,
		},
		{name: "missing adminUser", yaml: "main:\n  host: h\n  adminPassword: p\n", wantErr: `cluster "main": adminUser is required`},
		{name: "missing adminPassword", yaml: "main:\n  host: h\n  adminUser: u\n", wantErr: `cluster "main": adminPassword is required`},
		{
			name:    "password read as a number",
			yaml:    "main:\n  host: h\n  adminUser: u\n  adminPassword: 0123\n",
			wantErr: `cluster "main": adminPassword must be a string (quote the value in YAML)`,
		},
		{name: "bad port", yaml: "main:\n  host: h\n  port: 70000\n  adminUser: u\n  adminPassword: p\n", wantErr: `cluster "main": port must be between 1 and 65535, got 70000`},
		{name: "port not a number", yaml: "main:\n  host: h\n  port: abc\n  adminUser: u\n  adminPassword: p\n", wantErr: `cluster "main": port must be a whole number`},
		{
			name:    "bad sslMode",
			yaml:    "main:\n  host: h\n  adminUser: u\n  adminPassword: \"" + testSecret + "\"\n  sslMode: verify\n",
			wantErr: `cluster "main": sslMode "verify" is not one of disable, allow, prefer, require, verify-ca, verify-full`,
		},
		{name: "bad caCert", yaml: "main:\n  host: h\n  adminUser: u\n  adminPassword: p\n  caCert: nope\n", wantErr: `cluster "main": caCert holds no PEM certificate`},
		{
			name:    "unknown field",
			yaml:    "main:\n  host: h\n  adminUser: u\n  adminPassword: p\n  sslmode: require\n",
			wantErr: `cluster "main": unknown field "sslmode"`,
		},
		{name: "default not a bool", yaml: "main:\n  host: h\n  adminUser: u\n  adminPassword: p\n  default: maybe\n", wantErr: `cluster "main": default must be true or false`},
		{
			name:    "two defaults",
			yaml:    "a:\n  host: h\n  adminUser: u\n  adminPassword: p\n  default: true\nb:\n  host: h\n  adminUser: u\n  adminPassword: p\n  default: true\n",
			wantErr: `clusters.yaml: more than one cluster has default: true (a, b)`,
		},
		{
			name:    "duplicate cluster",
			yaml:    "a:\n  host: h\n  adminUser: u\n  adminPassword: p\na:\n  host: h2\n  adminUser: u\n  adminPassword: p\n",
			wantErr: `clusters.yaml: invalid YAML`,
		},
		{
			name:    "malformed YAML around a password",
			yaml:    "main:\n  host: h\n  adminPassword: \"" + testSecret + "\n  adminUser: [\n",
			wantErr: `clusters.yaml: invalid YAML`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClusters([]byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("want error %q, got %v", tt.wantErr, got)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tt.wantErr)
				}
				assertNoSecret(t, err.Error(), testSecret)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(len(got)) != fmt.Sprint(len(tt.want)) {
				t.Fatalf("got %d clusters, want %d", len(got), len(tt.want))
			}
			for name, w := range tt.want {
				if got[name] != w {
					t.Errorf("cluster %s:\n got %#v (password ok: %v)\nwant %#v", name, got[name], got[name].AdminPassword == w.AdminPassword, w)
				}
			}
		})
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

func TestResolve(t *testing.T) {
	cs := Clusters{
		"main":  {Name: "main", Default: true},
		"zeta":  {Name: "zeta"},
		"alpha": {Name: "alpha"},
	}
	if c, err := cs.Resolve(""); err != nil || c.Name != "main" {
		t.Fatalf("Resolve(\"\") = %v, %v; want main", c.Name, err)
	}
	if c, err := cs.Resolve("zeta"); err != nil || c.Name != "zeta" {
		t.Fatalf("Resolve(zeta) = %v, %v", c.Name, err)
	}

	_, err := cs.Resolve("nope")
	var unknown *UnknownClusterError
	if !errors.As(err, &unknown) {
		t.Fatalf("Resolve(nope) error %v is not *UnknownClusterError", err)
	}
	if unknown.Name != "nope" || strings.Join(unknown.Known, ",") != "alpha,main,zeta" {
		t.Fatalf("UnknownClusterError = %+v", unknown)
	}
	if want := `postgres cluster "nope" is not defined in clusters.yaml (known clusters: alpha, main, zeta)`; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}

	noDefault := Clusters{"b": {Name: "b"}, "a": {Name: "a"}}
	_, err = noDefault.Resolve("")
	if !errors.Is(err, ErrNoDefaultCluster) || !strings.Contains(err.Error(), "known clusters: a, b") {
		t.Fatalf("Resolve(\"\") without default: %v", err)
	}
	_, err = Clusters{}.Resolve("")
	if !errors.Is(err, ErrNoDefaultCluster) || !strings.Contains(err.Error(), "known clusters: none") {
		t.Fatalf("Resolve(\"\") on no clusters: %v", err)
	}
	if got := cs.Names(); strings.Join(got, ",") != "alpha,main,zeta" {
		t.Fatalf("Names() = %v", got)
	}
}

func TestLegacyCluster(t *testing.T) {
	c := LegacyCluster("db", 0, "postgres", testSecret, "")
	want := Cluster{Name: "legacy", Host: "db", Port: 5432, AdminUser: "postgres", AdminPassword: testSecret, Default: true}
	if c != want {
		t.Fatalf("LegacyCluster = %#v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, err := (Clusters{c.Name: c}).Resolve(""); err != nil || got.Name != "legacy" {
		t.Fatalf("legacy is not the default: %v", err)
	}
	if c.EffectiveSSLMode() != "prefer" {
		t.Fatalf("sslmode default = %s", c.EffectiveSSLMode())
	}
	c.CACert = "x"
	if c.EffectiveSSLMode() != "verify-full" {
		t.Fatalf("sslmode default with caCert = %s", c.EffectiveSSLMode())
	}
}

func TestClusterNeverPrintsPassword(t *testing.T) {
	c := LegacyCluster("db", 5432, "postgres", testSecret, "require")
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("x", "cluster", c)
	for _, s := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), string(js), sb.String(),
		fmt.Sprintf("%+v", DesiredRole{Name: "r", Password: testSecret}),
		fmt.Sprintf("%#v", DesiredRole{Name: "r", Password: testSecret}),
	} {
		assertNoSecret(t, s, testSecret)
	}
	if !strings.Contains(string(js), "[redacted]") {
		t.Fatalf("JSON %s does not mark the password as redacted", js)
	}
}

// assertNoSecret fails when s contains secret or any substring of it of 8
// characters or more.
func assertNoSecret(t testing.TB, s, secret string) {
	t.Helper()
	const minLen = 8
	if len(secret) < minLen {
		if strings.Contains(s, secret) {
			t.Fatalf("secret found in %q", s)
		}
		return
	}
	for i := 0; i+minLen <= len(secret); i++ {
		if sub := secret[i : i+minLen]; strings.Contains(s, sub) {
			t.Fatalf("a part of the secret (%q) appears in:\n%s", sub, truncateForLog(s, sub))
		}
	}
}

func truncateForLog(s, sub string) string {
	i := strings.Index(s, sub)
	lo, hi := max(0, i-300), min(len(s), i+300)
	return s[lo:hi]
}
