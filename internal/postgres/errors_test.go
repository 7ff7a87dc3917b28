package postgres

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestClassify(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"invalid password", &pgconn.PgError{Code: "28P01"}, ErrAuthentication},
		{"no pg_hba entry", &pgconn.PgError{Code: "28000"}, ErrAuthentication},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, ErrUnreachable},
		{"starting up", fmt.Errorf("x: %w", &pgconn.PgError{Code: "57P03"}), ErrUnreachable},
		{"connection exception", &pgconn.PgError{Code: "08006"}, ErrUnreachable},
		{"permission denied", &pgconn.PgError{Code: "42501"}, nil},
		{"connection refused", fmt.Errorf("wrapped: %w", dialErr), ErrUnreachable},
		{"reset", syscall.ECONNRESET, ErrUnreachable},
		{"eof", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), ErrUnreachable},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), ErrUnreachable},
		{"unknown authority", fmt.Errorf("x: %w", x509.UnknownAuthorityError{}), ErrTLS},
		{"other", errors.New("boom"), nil},
	}
	for _, tt := range tests {
		if got := classify(tt.err); !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
			t.Errorf("%s: classify = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestErrorScrubsSecrets(t *testing.T) {
	err := newError("main", "connect", opErr("connect",
		fmt.Errorf("failed: password=%s verifier SCRAM-SHA-256$4096:abc$def:ghi md5%032d: %w", testSecret, 0, &pgconn.PgError{Code: "28P01"})),
		testSecret)
	if !errors.Is(err, ErrAuthentication) || err.Code != "28P01" {
		t.Fatalf("kind %v code %q", err.Kind, err.Code)
	}
	assertNoSecret(t, err.Error(), testSecret)
	for _, s := range []string{"SCRAM-SHA-256$", "md5000"} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("%q in %v", s, err)
		}
	}
	want := `postgres cluster "main": connect: postgres authentication failed: failed: password=[redacted] verifier [redacted] [redacted]: `
	if got := err.Error(); len(got) < len(want) || got[:len(want)] != want {
		t.Fatalf("message\n got %s\nwant prefix %s", got, want)
	}
	ctxErr := newError("main", "observe", fmt.Errorf("x: %w", context.Canceled))
	if !errors.Is(ctxErr, context.Canceled) || errors.Is(ctxErr, ErrUnreachable) {
		t.Fatalf("context.Canceled lost: %v", ctxErr)
	}
}

func TestTLSConfigs(t *testing.T) {
	ca := newTestCA(t)
	base := Cluster{Name: "c", Host: "db.example", Port: 5432, AdminUser: "u", AdminPassword: "p"}
	tests := []struct {
		mode, ca       string
		primaryTLS     bool
		fallback       bool
		fallbackTLS    bool
		verify         bool // a VerifyConnection chain check
		skipVerify     bool
		serverNameOnly bool // Go's own full verification
	}{
		{mode: "disable"},
		{mode: "allow", fallback: true, fallbackTLS: true},
		{mode: "prefer", primaryTLS: true, fallback: true, skipVerify: true},
		{mode: "", primaryTLS: true, fallback: true, skipVerify: true},
		{mode: "require", primaryTLS: true, skipVerify: true},
		{mode: "require", ca: ca.pem, primaryTLS: true, skipVerify: true, verify: true},
		{mode: "verify-ca", ca: ca.pem, primaryTLS: true, skipVerify: true, verify: true},
		{mode: "verify-full", ca: ca.pem, primaryTLS: true, serverNameOnly: true},
		{mode: "", ca: ca.pem, primaryTLS: true, serverNameOnly: true},
	}
	for _, tt := range tests {
		c := base
		c.SSLMode, c.CACert = tt.mode, tt.ca
		cfg, err := poolConfig(c, ManagerOptions{}.withDefaults())
		if err != nil {
			t.Fatal(err)
		}
		cc := cfg.ConnConfig
		name := fmt.Sprintf("sslmode=%q ca=%v", tt.mode, tt.ca != "")
		if (cc.TLSConfig != nil) != tt.primaryTLS {
			t.Errorf("%s: primary TLS = %v", name, cc.TLSConfig != nil)
			continue
		}
		if (len(cc.Fallbacks) == 1) != tt.fallback || (tt.fallback && (cc.Fallbacks[0].TLSConfig != nil) != tt.fallbackTLS) {
			t.Errorf("%s: fallbacks = %+v", name, cc.Fallbacks)
		}
		if cc.TLSConfig != nil {
			tc := cc.TLSConfig
			if tc.InsecureSkipVerify != tt.skipVerify || (tc.VerifyConnection != nil) != tt.verify ||
				tc.ServerName != "db.example" || (tt.ca != "" && tc.RootCAs == nil) {
				t.Errorf("%s: tls config skip=%v verify=%v sni=%q roots=%v", name, tc.InsecureSkipVerify,
					tc.VerifyConnection != nil, tc.ServerName, tc.RootCAs != nil)
			}
		}
		if cc.Password != "p" || cc.User != "u" || cc.Host != "db.example" || cc.Port != 5432 || cc.Database != "postgres" ||
			cfg.MaxConns != DefaultMaxConns || cfg.MinConns != 0 || cc.RuntimeParams["application_name"] != "odoo-operator" {
			t.Errorf("%s: config %+v", name, cc)
		}
	}
}

func TestKeyedMutex(t *testing.T) {
	var k keyedMutex
	var mu sync.Mutex
	inside := map[string]int{}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprint(i % 3)
			unlock := k.lock(key)
			mu.Lock()
			inside[key]++
			if inside[key] > 1 {
				t.Errorf("two holders of %s", key)
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			inside[key]--
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	if len(k.locks) != 0 {
		t.Fatalf("locks left: %d", len(k.locks))
	}
}
