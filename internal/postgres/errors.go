package postgres

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Error kinds; test them with errors.Is.
var (
	// ErrUnreachable: the server could not be reached or went away (dial
	// error, timeout, connection refused or reset, shutting down or starting
	// up). Usually transient: retry with backoff.
	ErrUnreachable = errors.New("postgres server unreachable")
	// ErrAuthentication: the server refused the admin's credentials (SQLSTATE
	// 28P01 or 28000, e.g. no pg_hba.conf entry). Fix clusters.yaml.
	ErrAuthentication = errors.New("postgres authentication failed")
	// ErrTLS: the TLS handshake or the server certificate check failed.
	ErrTLS = errors.New("postgres TLS failure")
	// ErrClosed: the Manager was closed.
	ErrClosed = errors.New("postgres manager closed")
)

// Error is the error of a Manager operation. Its message never contains the
// admin's or the role's password nor a SCRAM verifier. It unwraps to its kind
// (ErrUnreachable, ErrAuthentication, ErrTLS, ErrClosed, ErrConflict,
// ErrInvalid, ErrUnsupportedPassword) and to context.Canceled or
// context.DeadlineExceeded when those caused it, but not to the driver's
// error, whose text is only kept scrubbed.
type Error struct {
	Cluster string
	// Op is what was being done: "connect", "observe", an Action's String().
	Op string
	// Kind is one of the sentinel errors above, or nil.
	Kind error
	// Code is the SQLSTATE when the server reported the error.
	Code string
	msg  string
	ctx  error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "postgres cluster %q: %s", e.Cluster, e.Op)
	if e.Kind != nil && !strings.Contains(e.msg, e.Kind.Error()) {
		b.WriteString(": ")
		b.WriteString(e.Kind.Error())
	}
	if e.msg != "" {
		b.WriteString(": ")
		b.WriteString(e.msg)
	}
	return b.String()
}

// Unwrap returns the error's kind and context error, if any.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.ctx != nil {
		errs = append(errs, e.ctx)
	}
	return errs
}

// Transient reports whether retrying later may succeed without a change of
// configuration (the server was unreachable).
func (e *Error) Transient() bool { return errors.Is(e.Kind, ErrUnreachable) }

var verifierRe = regexp.MustCompile(`SCRAM-SHA-256\$[^\s'"]*|md5[0-9a-f]{32}`)

// scrub removes secrets from a message.
func scrub(msg string, secrets ...string) string {
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return verifierRe.ReplaceAllString(msg, "[redacted]")
}

// newError classifies err and returns it as an *Error with a scrubbed message.
// Errors of this package (already *Error, or carrying a kind of their own)
// keep their kind.
func newError(cluster, op string, err error, secrets ...string) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	cause := err
	var oe *opError
	if errors.As(err, &oe) {
		cause = oe.err
	}
	e := &Error{Cluster: cluster, Op: op, msg: scrub(cause.Error(), secrets...)}
	for _, k := range []error{ErrConflict, ErrInvalid, ErrUnsupportedPassword, ErrClosed} {
		if errors.Is(err, k) {
			e.Kind = k
			return e
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		e.Code = pgErr.Code
	}
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up; that says nothing about the server.
		e.ctx = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		e.ctx = context.DeadlineExceeded
		e.Kind = ErrUnreachable
	default:
		e.Kind = classify(err)
	}
	return e
}

// classify returns the kind of a driver error, or nil.
func classify(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "28P01", pgErr.Code == "28000":
			return ErrAuthentication
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57P01", // admin_shutdown
			pgErr.Code == "57P02", // crash_shutdown
			pgErr.Code == "57P03", // cannot_connect_now (starting up, recovering)
			pgErr.Code == "53300": // too_many_connections
			return ErrUnreachable
		}
		return nil
	}
	if strings.Contains(err.Error(), "closed pool") {
		return ErrClosed
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
		recordHeader     tls.RecordHeaderError
		alert            tls.AlertError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verification) || errors.As(err, &recordHeader) || errors.As(err, &alert) ||
		strings.Contains(err.Error(), "server refused TLS connection") ||
		strings.Contains(err.Error(), "tls: ") || strings.Contains(err.Error(), "x509: ") {
		return ErrTLS
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	switch {
	case pgconn.Timeout(err), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr), errors.As(err, &connectErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		strings.Contains(err.Error(), "conn closed"):
		return ErrUnreachable
	}
	return nil
}
