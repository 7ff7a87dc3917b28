package restorejob

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/jackc/pgx/v5"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
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
// the flag is set, no active ir_mail_server reaches a real SMTP host and no
// fetchmail_server is active.
func CheckNeutralized(f NeutralizeFacts) string {
	if !strings.EqualFold(strings.TrimSpace(f.Flag), "true") {
		return fmt.Sprintf("ir_config_parameter database.is_neutralized is %q, not true", f.Flag)
	}
	for _, s := range f.Active {
		if s.Table == "fetchmail_server" {
			return fmt.Sprintf("fetchmail_server %q is still active: it would fetch the source's mail", s.Name)
		}
		if !UnroutableSMTPHost(s.Host) {
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
		"ir_mail_server":   `SELECT 'ir_mail_server', coalesce(name::text, ''), coalesce(smtp_host, '') FROM ir_mail_server WHERE active ORDER BY id`,
		"fetchmail_server": `SELECT 'fetchmail_server', coalesce(name::text, ''), coalesce(server, '') FROM fetchmail_server WHERE active ORDER BY id`,
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

// neutralize runs the neutralize Job on the target database, then checks
// the result in-process, logged in as the instance's own role; a database that is
// not neutralized fails the restore before anything is stopped or swapped.
func (r *Reconciler) neutralize(ctx context.Context, rj *odoov1alpha2.OdooRestoreJob) (ctrl.Result, error) {
	inst, err := r.instance(ctx, rj)
	if err != nil {
		if apierrors.IsNotFound(err) {
			r.failBeforeSwap(ctx, rj, fmt.Sprintf("OdooInstance %q disappeared before the restored database was neutralized", rj.Spec.OdooInstanceRef.Name))
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	job := &batchv1.Job{}
	name := resources.NeutralizeJobName(rj)
	err = r.APIReader.Get(ctx, client.ObjectKey{Namespace: rj.Namespace, Name: name}, job)
	if apierrors.IsNotFound(err) {
		// The Job reaches the database like the instance's pods, with the
		// cluster's CA when it has one.
		cluster, err := r.clusterOf(ctx, inst)
		if err != nil {
			rj.Status.Message = "the instance's PostgreSQL cluster: " + err.Error()
			return ctrl.Result{RequeueAfter: waitRetry}, nil
		}
		desired := resources.NeutralizeJob(resources.NeutralizeInputs{Instance: inst, Restore: rj, Database: rj.Status.TargetDatabase,
			DBCA: cluster.CACert != ""})
		if err := r.Apply(ctx, desired, client.FieldOwner(resources.FieldManager)); err != nil && !apierrors.IsAlreadyExists(err) {
			return ctrl.Result{}, fmt.Errorf("neutralize Job: %w", err)
		}
		return ctrl.Result{}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.InNamespace(job.Namespace), client.MatchingLabels{"batch.kubernetes.io/job-name": job.Name}); err != nil {
		return ctrl.Result{}, err
	}
	out := resources.InitJobOutcome(job, pods.Items)
	switch {
	case !out.Done:
		return ctrl.Result{}, nil
	case out.Failed:
		r.failBeforeSwap(ctx, rj, "`odoo neutralize` failed: "+out.Message)
		return ctrl.Result{}, nil
	}
	cluster, err := r.clusterOf(ctx, inst)
	if err != nil {
		rj.Status.Message = "the instance's PostgreSQL cluster: " + err.Error()
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	login, err := r.tenantLogin(ctx, inst)
	if err != nil {
		rj.Status.Message = err.Error()
		return ctrl.Result{RequeueAfter: waitRetry}, nil
	}
	var facts NeutralizeFacts
	err = r.Databases.WithTenantDatabase(ctx, cluster, login, rj.Status.TargetDatabase, func(conn *pgx.Conn) error {
		facts, err = readNeutralizeFacts(ctx, conn)
		return err
	})
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("checking the neutralized database: %w", err)
	}
	if msg := CheckNeutralized(facts); msg != "" {
		r.failBeforeSwap(ctx, rj, fmt.Sprintf("the restored database %q is not neutralized after the Job %s: %s; the restore is refused (deactivate it in the restore's source, or set spec.neutralize: false for a disaster-recovery restore)",
			rj.Status.TargetDatabase, job.Name, msg))
		return ctrl.Result{}, nil
	}
	rj.Status.Neutralized = true
	r.event(rj, corev1.EventTypeNormal, odoov1alpha2.EventRestoreNeutralized, "Neutralize",
		fmt.Sprintf("the restored database %q is neutralized: database.is_neutralized is true, no mail server is active", rj.Status.TargetDatabase))
	return r.advance(ctx, rj, odoov1alpha2.RestoreStepStop,
		fmt.Sprintf("the restored database %q is neutralized and checked; stopping web and cron to swap it in", rj.Status.TargetDatabase))
}
