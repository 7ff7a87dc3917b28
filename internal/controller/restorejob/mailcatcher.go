package restorejob

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/tenantpolicy"
)

// The policies may set the catcher of their namespaces' staging restores.
// +kubebuilder:rbac:groups=bemade.org,resources=odootenantpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// MailCatcher is the administrator's SMTP server that keeps what it
// receives (Mailpit, MailHog, --staging-mail-catcher): a restored Staging
// copy sends its mail there, never to real people.
type MailCatcher struct {
	Host string
	Port int32
}

// ParseMailCatcher reads host:port; "" is none.
func ParseMailCatcher(s string) (MailCatcher, error) {
	if s == "" {
		return MailCatcher{}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return MailCatcher{}, fmt.Errorf("%q is not host:port: %w", s, err)
	}
	n, err := strconv.ParseInt(port, 10, 32)
	if err != nil || n < 1 || n > 65535 || host == "" || strings.ContainsAny(host, " \t\r\n") {
		return MailCatcher{}, fmt.Errorf("%q is not host:port (a host name or address and a TCP port, e.g. mailpit.mail.svc:1025)", s)
	}
	return MailCatcher{Host: host, Port: int32(n)}, nil
}

// StagingCatcher is the catcher of a Staging instance's restores: the one
// the OdooTenantPolicies selecting its namespace set, else the operator's
// flag. Policies that set different catchers are an error naming them:
// the operator does not guess where a tenant's mail goes.
func StagingCatcher(flag MailCatcher, a tenantpolicy.Allowed) (MailCatcher, error) {
	s, err := a.StagingMailCatcher()
	if err != nil || s == "" {
		return flag, err
	}
	c, err := ParseMailCatcher(s)
	if err != nil {
		// Admission validates the field; a policy stored before that rule.
		return MailCatcher{}, fmt.Errorf("OdooTenantPolicy %s: spec.stagingMailCatcher %w", strings.Join(a.MailCatchers[s], ", "), err)
	}
	return c, nil
}

// catcherFor is the catcher a restore into inst routes mail to: none
// unless inst is Staging. refusal says why the restore cannot go on
// (conflicting policies); err is a passing API error, retried.
func (r *Reconciler) catcherFor(ctx context.Context, inst *odoov1alpha2.OdooInstance) (c MailCatcher, refusal string, err error) {
	if inst == nil || inst.Spec.Environment != odoov1alpha2.EnvironmentStaging {
		return MailCatcher{}, "", nil
	}
	// A broken selector is the instance controller's to report.
	allowed, _, err := tenantpolicy.Read(ctx, r.Client, inst.Namespace)
	if err != nil {
		return MailCatcher{}, "", err
	}
	c, err = StagingCatcher(r.MailCatcher, allowed)
	if err != nil {
		return MailCatcher{}, err.Error(), nil
	}
	return c, "", nil
}

// catcherRefusal explains a restore refused for its catcher ("" for none).
func catcherRefusal(refusal string) string {
	if refusal == "" {
		return ""
	}
	return fmt.Sprintf("staging's mail catcher: %s; the restore is refused rather than send the staging copy's mail to a catcher the administrator did not choose", refusal)
}

// mailRouted: every active ir_mail_server of the neutralized copy sends to
// the catcher (its host and port), and there is one (`odoo neutralize` leaves one active, at
// host "invalid", so that odoo.conf's SMTP settings are never used).
func mailRouted(f NeutralizeFacts, c MailCatcher) bool {
	routed := false
	for _, s := range f.Active {
		if s.Table != "ir_mail_server" {
			continue
		}
		if !strings.EqualFold(s.Host, c.Host) || s.Port != c.Port {
			return false
		}
		routed = true
	}
	return routed
}

// routeMailSQL points the neutralized copy's active mail servers (the
// dummy neutralize inserts) at the catcher, without credentials or TLS.
const routeMailSQL = `UPDATE ir_mail_server
   SET smtp_host = $1, smtp_port = $2, smtp_encryption = 'none', smtp_user = NULL, smtp_pass = NULL,
       name = 'odoo-operator: staging mail catcher'
 WHERE active`

// routeMail runs routeMailSQL in the restored copy, as the instance's own
// role: the copy's tables and triggers are the tenant's.
func (r *Reconciler) routeMail(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob, sn *seen) error {
	c := sn.catcher
	return r.Databases.WithTenantDatabase(ctx, sn.cluster, sn.login, rj.Status.TargetDatabase, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, routeMailSQL, c.Host, c.Port)
		return err
	})
}
