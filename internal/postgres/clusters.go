package postgres

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// DefaultPort is the PostgreSQL port used when clusters.yaml gives none.
const DefaultPort int32 = 5432

// LegacyClusterName is the name of the cluster built from the environment
// variables of the single-cluster setup (see LegacyCluster).
const LegacyClusterName = "legacy"

// SSL modes, with libpq's meaning.
const (
	SSLModeDisable    = "disable"
	SSLModeAllow      = "allow"
	SSLModePrefer     = "prefer"
	SSLModeRequire    = "require"
	SSLModeVerifyCA   = "verify-ca"
	SSLModeVerifyFull = "verify-full"
)

var sslModes = []string{SSLModeDisable, SSLModeAllow, SSLModePrefer, SSLModeRequire, SSLModeVerifyCA, SSLModeVerifyFull}

// Cluster is one PostgreSQL server the operator may put databases on, with
// the credentials of an administrative role (a superuser, or a role with
// CREATEROLE and CREATEDB).
//
// A Cluster formats and marshals without its password, so it is safe to log.
type Cluster struct {
	Name          string
	Host          string
	Port          int32
	AdminUser     string
	AdminPassword string
	// SSLMode is a libpq sslmode. Empty means "prefer", or "verify-full" when
	// CACert is set.
	SSLMode string
	// CACert holds PEM certificates that verify the server's certificate
	// (sslrootcert). Empty means the system roots for verify-ca/verify-full.
	CACert  string
	Default bool
}

// ClientSSLMode is the sslmode given to Odoo (db_sslmode) and to the data
// Jobs (PGSSLMODE): the effective one, so a caCert without sslMode means
// verify-full for them too; "" when neither is set (libpq's own default,
// prefer, with nothing written).
func (c Cluster) ClientSSLMode() string {
	if c.SSLMode == "" && c.CACert == "" {
		return ""
	}
	return c.EffectiveSSLMode()
}

// EffectiveSSLMode is SSLMode with its default applied.
func (c Cluster) EffectiveSSLMode() string {
	switch {
	case c.SSLMode != "":
		return c.SSLMode
	case c.CACert != "":
		return SSLModeVerifyFull
	default:
		return SSLModePrefer
	}
}

// String describes the cluster without its password.
func (c Cluster) String() string {
	return fmt.Sprintf("postgres cluster %q (%s@%s:%d sslmode=%s)", c.Name, c.AdminUser, c.Host, c.Port, c.EffectiveSSLMode())
}

// GoString keeps %#v from printing the password.
func (c Cluster) GoString() string { return c.String() }

// LogValue keeps log/slog from printing the password.
func (c Cluster) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", c.Name), slog.String("host", c.Host), slog.Int("port", int(c.Port)),
		slog.String("adminUser", c.AdminUser), slog.String("sslMode", c.EffectiveSSLMode()))
}

// MarshalJSON redacts the password, so structured loggers that reflect over
// values (zap.Any, logr) never print it. A Cluster is never meant to be
// serialized with its credentials.
func (c Cluster) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name, Host    string
		Port          int32
		AdminUser     string
		AdminPassword string `json:",omitempty"`
		SSLMode       string
		HasCACert     bool
		Default       bool
	}{c.Name, c.Host, c.Port, c.AdminUser, redacted(c.AdminPassword), c.EffectiveSSLMode(), c.CACert != "", c.Default})
}

func redacted(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// Clusters are the clusters of clusters.yaml, by name.
type Clusters map[string]Cluster

// Names returns the cluster names, sorted.
func (cs Clusters) Names() []string {
	names := make([]string, 0, len(cs))
	for n := range cs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ErrNoDefaultCluster is returned by Resolve for an empty name when no
// cluster is marked default.
var ErrNoDefaultCluster = errors.New("no default postgres cluster")

// UnknownClusterError is returned by Resolve for a name that clusters.yaml
// does not define.
type UnknownClusterError struct {
	Name  string
	Known []string // sorted
}

func (e *UnknownClusterError) Error() string {
	return fmt.Sprintf("postgres cluster %q is not defined in clusters.yaml (known clusters: %s)", e.Name, listNames(e.Known))
}

func listNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Resolve returns the cluster called name, or the default cluster when name
// is empty.
func (cs Clusters) Resolve(name string) (Cluster, error) {
	if name == "" {
		for _, c := range cs {
			if c.Default {
				return c, nil
			}
		}
		return Cluster{}, fmt.Errorf("%w: no cluster in clusters.yaml has default: true and none was named (known clusters: %s)",
			ErrNoDefaultCluster, listNames(cs.Names()))
	}
	c, ok := cs[name]
	if !ok {
		return Cluster{}, &UnknownClusterError{Name: name, Known: cs.Names()}
	}
	return c, nil
}

// LegacyCluster is the single cluster of the environment-variable setup
// (host, port, user and password of an admin), named "legacy" and default.
// A zero port means 5432.
func LegacyCluster(host string, port int32, user, password, sslMode string) Cluster {
	if port == 0 {
		port = DefaultPort
	}
	return Cluster{
		Name: LegacyClusterName, Host: host, Port: port,
		AdminUser: user, AdminPassword: password, SSLMode: sslMode, Default: true,
	}
}

// Validate checks one cluster. Errors name the cluster and the field and
// never include the password.
func (c Cluster) Validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("cluster %q: %s", c.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Name == "":
		return errors.New("cluster name must not be empty")
	case strings.TrimSpace(c.Host) == "":
		return fail("host is required")
	case strings.ContainsAny(c.Host, " ,\t\r\n"):
		return fail("host must be a single host name or address")
	case c.Port < 1 || c.Port > 65535:
		return fail("port must be between 1 and 65535, got %d", c.Port)
	case c.AdminUser == "":
		return fail("adminUser is required")
	case c.AdminPassword == "":
		return fail("adminPassword is required")
	case strings.ContainsRune(c.AdminPassword, 0) || strings.ContainsRune(c.AdminUser, 0):
		return fail("adminUser and adminPassword must not contain NUL characters")
	case c.SSLMode != "" && !slices.Contains(sslModes, c.SSLMode):
		return fail("sslMode %q is not one of %s", c.SSLMode, strings.Join(sslModes, ", "))
	}
	if c.CACert != "" {
		if !x509.NewCertPool().AppendCertsFromPEM([]byte(c.CACert)) {
			return fail("caCert holds no PEM certificate")
		}
		if c.SSLMode == SSLModeDisable {
			return fail("caCert is set but sslMode is disable")
		}
	}
	return nil
}

var clusterFields = []string{"host", "port", "adminUser", "adminPassword", "default", "sslMode", "caCert"}

// ClustersKey is the key of the clusters Secret that holds clusters.yaml.
const ClustersKey = "clusters.yaml"

// ParseClusters parses clusters.yaml, the reference operator's format:
//
//	main:
//	  host: pg.example.com
//	  port: 5432
//	  adminUser: postgres
//	  adminPassword: "..."
//	  default: true
//	  sslMode: verify-full   # optional, libpq values
//	  caCert: |              # optional, PEM
//	    -----BEGIN CERTIFICATE-----
//
// Unknown fields, duplicate keys, a missing host, adminUser or adminPassword,
// a password that YAML did not read as a string, and more than one default
// are errors. Errors name the cluster and the field but never a password.
func ParseClusters(data []byte) (Clusters, error) {
	wrap := func(err error) error { return fmt.Errorf("clusters.yaml: %w", err) }
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, wrap(errors.New("no clusters defined"))
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, wrap(fmt.Errorf("invalid YAML: %w", scrubYAMLError(err)))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(js, &raw); err != nil || raw == nil {
		return nil, wrap(errors.New("must be a mapping of cluster names to cluster settings"))
	}
	clusters := make(Clusters, len(raw))
	var defaults []string
	for _, name := range sortedKeys(raw) {
		c, err := parseCluster(name, raw[name])
		if err != nil {
			return nil, wrap(err)
		}
		if err := c.Validate(); err != nil {
			return nil, wrap(err)
		}
		if c.Default {
			defaults = append(defaults, name)
		}
		clusters[name] = c
	}
	if len(defaults) > 1 {
		return nil, wrap(fmt.Errorf("more than one cluster has default: true (%s)", strings.Join(defaults, ", ")))
	}
	return clusters, nil
}

func parseCluster(name string, data json.RawMessage) (Cluster, error) {
	c := Cluster{Name: name, Port: DefaultPort}
	if name == "" {
		return c, errors.New("cluster name must not be empty")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return c, fmt.Errorf("cluster %q: must be a mapping with host, port, adminUser, adminPassword", name)
	}
	for _, key := range sortedKeys(fields) {
		v := fields[key]
		if string(v) == "null" {
			continue
		}
		var err error
		switch key {
		case "host":
			c.Host, err = stringField(v)
		case "port":
			c.Port, err = portField(v)
		case "adminUser":
			c.AdminUser, err = stringField(v)
		case "adminPassword":
			c.AdminPassword, err = stringField(v)
		case "sslMode":
			c.SSLMode, err = stringField(v)
		case "caCert":
			c.CACert, err = stringField(v)
		case "default":
			if jerr := json.Unmarshal(v, &c.Default); jerr != nil {
				err = errors.New("must be true or false")
			}
		default:
			return c, fmt.Errorf("cluster %q: unknown field %q (known fields: %s)", name, key, strings.Join(clusterFields, ", "))
		}
		if err != nil {
			return c, fmt.Errorf("cluster %q: %s %w", name, key, err)
		}
	}
	return c, nil
}

var errNotString = errors.New("must be a string (quote the value in YAML)")

func stringField(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", errNotString
	}
	return s, nil
}

func portField(v json.RawMessage) (int32, error) {
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return 0, errors.New("must be a number")
		}
		n = json.Number(strings.TrimSpace(s))
	}
	p, err := strconv.ParseInt(n.String(), 10, 32)
	if err != nil {
		return 0, errors.New("must be a whole number")
	}
	return int32(p), nil
}

// scrubYAMLError keeps only the YAML parser's message, which names a line but
// may quote a token; tokens are dropped so a malformed password line cannot
// leak the password.
func scrubYAMLError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		end := strings.IndexAny(msg[i:], ":")
		if end > 0 {
			return fmt.Errorf("syntax error at %s", msg[i:i+end])
		}
	}
	return errors.New("syntax error")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
