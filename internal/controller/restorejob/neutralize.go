package restorejob

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/jackc/pgx/v5"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// Neutralize is the restore's effective spec.neutralize: the explicit
// value, else true unless the instance is Production. A restored copy that
// keeps the source's mail servers and crons sends and fetches the source's
// mail (the reference operator's incident); only a production instance,
// where a restore is a disaster recovery, keeps them by default.
func Neutralize(rj *odoov1alpha2.OdooRestoreJob, inst *odoov1alpha2.OdooInstance) bool {
	if rj.Spec.Neutralize != nil {
		return *rj.Spec.Neutralize
	}
	return !inst.Production()
}

// MailServer is an active ir_mail_server or fetchmail_server row.
type MailServer struct {
	Table, Name, Host string
	// Port is an ir_mail_server's smtp_port (0 for fetchmail_server).
	Port int32
}

// NeutralizeFacts are what the check reads from the neutralized database.
type NeutralizeFacts struct {
	// Flag is ir_config_parameter database.is_neutralized ("" when absent).
	Flag string
	// Active are the active mail servers: ir_mail_server rows with their
	// smtp_host, fetchmail_server rows (that table may be absent).
	Active []MailServer
}

// CheckNeutralized says why a database is not neutralized, "" when it is:
// the flag is set, no active ir_mail_server reaches a real SMTP host (but
// catcherHost, the administrator's mail catcher, when not "") and no
// fetchmail_server is active.
func CheckNeutralized(f NeutralizeFacts, catcherHost string) string {
	if !strings.EqualFold(strings.TrimSpace(f.Flag), "true") {
		return fmt.Sprintf("ir_config_parameter database.is_neutralized is %q, not true", f.Flag)
	}
	for _, s := range f.Active {
		if s.Table == "fetchmail_server" {
			return fmt.Sprintf("fetchmail_server %q is still active: it would fetch the source's mail", s.Name)
		}
		if !UnroutableSMTPHost(s.Host) && (catcherHost == "" || !strings.EqualFold(s.Host, catcherHost)) {
			return fmt.Sprintf("ir_mail_server %q is still active with smtp_host %q: it would send mail", s.Name, s.Host)
		}
	}
	return ""
}

// reservedDomains never reach a real mail server (RFC 2606, RFC 6761).
// Odoo's neutralize leaves an active server on one of them on purpose
// ("invalid" since 17.0, "smtp.example.org" before), so that the fallback
// SMTP server of odoo.conf is not used either.
var reservedDomains = []string{"invalid", "localhost", "test", "example", "example.com", "example.net", "example.org"}

// UnroutableSMTPHost is true for an smtp_host that sends nothing out:
// empty, the loopback, or a reserved domain.
func UnroutableSMTPHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	if h == "" {
		return true
	}
	if addr, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return addr.IsLoopback()
	}
	for _, d := range reservedDomains {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// readNeutralizeFacts reads the flag and the active mail servers.
func readNeutralizeFacts(ctx context.Context, conn *pgx.Conn) (NeutralizeFacts, error) {
	var f NeutralizeFacts
	tables := map[string]bool{}
	rows, err := conn.Query(ctx, `SELECT t FROM unnest($1::text[]) t WHERE to_regclass('public.' || t) IS NOT NULL`,
		[]string{"ir_config_parameter", "ir_mail_server", "fetchmail_server"})
	if err != nil {
		return f, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return f, err
	}
	for _, t := range found {
		tables[t] = true
	}
	if tables["ir_config_parameter"] {
		err := conn.QueryRow(ctx, `SELECT coalesce(value, '') FROM ir_config_parameter WHERE key = 'database.is_neutralized'`).Scan(&f.Flag)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return f, fmt.Errorf("reading database.is_neutralized: %w", err)
		}
	}
	queries := map[string]string{
		"ir_mail_server":   `SELECT 'ir_mail_server', coalesce(name::text, ''), coalesce(smtp_host, ''), coalesce(smtp_port, 0) FROM ir_mail_server WHERE active ORDER BY id`,
		"fetchmail_server": `SELECT 'fetchmail_server', coalesce(name::text, ''), coalesce(server, ''), 0 FROM fetchmail_server WHERE active ORDER BY id`,
	}
	for _, t := range []string{"ir_mail_server", "fetchmail_server"} {
		if !tables[t] {
			continue
		}
		rows, err := conn.Query(ctx, queries[t])
		if err != nil {
			return f, fmt.Errorf("reading %s: %w", t, err)
		}
		servers, err := pgx.CollectRows(rows, pgx.RowToStructByPos[MailServer])
		if err != nil {
			return f, fmt.Errorf("reading %s: %w", t, err)
		}
		f.Active = append(f.Active, servers...)
	}
	return f, nil
}
