package postgres

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// poolConfig builds the pool configuration of a cluster. No connection string
// carries the credentials: ParseConfig only gets fixed, credential-free
// settings, and the host, port, user, password and TLS settings are set on the
// parsed config directly, so any password (spaces, quotes, '@', '=') works and
// can never end up in a ParseConfig error.
func poolConfig(c Cluster, o ManagerOptions) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig("host=localhost port=5432 dbname=postgres sslmode=disable")
	if err != nil {
		return nil, fmt.Errorf("building connection config: %w", err)
	}
	cc := cfg.ConnConfig
	cc.Host = c.Host
	cc.Port = uint16(c.Port) //nolint:gosec // Validate bounds the port to 1..65535
	cc.User = c.AdminUser
	cc.Password = c.AdminPassword
	cc.Database = o.MaintenanceDatabase
	cc.ConnectTimeout = o.ConnectTimeout
	// Nothing from the operator's own PG* environment (PGOPTIONS,
	// PGTARGETSESSIONATTRS, ...) leaks into the admin sessions. search_path
	// is pg_catalog alone: an admin statement never resolves a name to an
	// object a tenant created in the maintenance database's public schema.
	cc.RuntimeParams = map[string]string{"application_name": o.ApplicationName, "search_path": "pg_catalog"}
	cc.ValidateConnect = nil
	cc.Fallbacks = nil
	cc.TLSConfig = nil

	if !strings.HasPrefix(c.Host, "/") { // a Unix socket directory has no TLS
		primary, fallback, err := tlsConfigs(c)
		if err != nil {
			return nil, err
		}
		cc.TLSConfig = primary
		if fallback != nil {
			cc.Fallbacks = []*pgconn.FallbackConfig{{Host: cc.Host, Port: cc.Port, TLSConfig: fallback.config}}
		}
	}

	cfg.MaxConns = o.MaxConns
	cfg.MinConns = 0
	cfg.MinIdleConns = 0
	cfg.MaxConnIdleTime = o.MaxConnIdleTime
	return cfg, nil
}

// fallbackTLS wraps the TLS config of the second attempt; config nil means
// a plain connection.
type fallbackTLS struct{ config *tls.Config }

// tlsConfigs returns the TLS config of the first connection attempt and, for
// allow and prefer, the one of the second attempt, following libpq's sslmode.
func tlsConfigs(c Cluster) (primary *tls.Config, fallback *fallbackTLS, err error) {
	var roots *x509.CertPool
	if c.CACert != "" {
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM([]byte(c.CACert)) {
			return nil, nil, fmt.Errorf("cluster %q: caCert holds no PEM certificate", c.Name)
		}
	}
	newTLS := func() *tls.Config {
		return &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.Host, RootCAs: roots}
	}
	noVerify := func() *tls.Config {
		t := newTLS()
		t.InsecureSkipVerify = true // libpq's allow, prefer and require (without a CA) do not verify the server
		return t
	}
	verifyCA := func() *tls.Config {
		t := newTLS()
		// Chain only, no host name: libpq's verify-ca. Go's own check always
		// includes the host name, so it is turned off and the chain is checked
		// in VerifyConnection, which also runs on resumed sessions.
		t.InsecureSkipVerify = true
		t.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, roots)
		}
		return t
	}
	switch c.EffectiveSSLMode() {
	case SSLModeDisable:
		return nil, nil, nil
	case SSLModeAllow:
		return nil, &fallbackTLS{config: noVerify()}, nil
	case SSLModePrefer:
		return noVerify(), &fallbackTLS{}, nil
	case SSLModeRequire:
		if roots != nil { // libpq: require with a root certificate behaves as verify-ca
			return verifyCA(), nil, nil
		}
		return noVerify(), nil, nil
	case SSLModeVerifyCA:
		return verifyCA(), nil, nil
	case SSLModeVerifyFull:
		return newTLS(), nil, nil
	default:
		return nil, nil, fmt.Errorf("cluster %q: invalid sslMode %q", c.Name, c.SSLMode)
	}
}

func verifyChain(certs []*x509.Certificate, roots *x509.CertPool) error {
	if len(certs) == 0 {
		return errors.New("x509: server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, cert := range certs[1:] {
		opts.Intermediates.AddCert(cert)
	}
	_, err := certs[0].Verify(opts)
	return err
}
