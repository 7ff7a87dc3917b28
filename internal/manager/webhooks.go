package manager

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/odoo-operator/odoo-operator/internal/controller/storagemigration"
	"github.com/odoo-operator/odoo-operator/internal/egress"
	"github.com/odoo-operator/odoo-operator/internal/webhook/admission"
	"github.com/odoo-operator/odoo-operator/internal/webhook/certs"
	"github.com/odoo-operator/odoo-operator/internal/webhook/conversion"
)

// CRDNames are the operator's CRDs: converted by its webhook and migrated to
// their storage version after start.
var CRDNames = []string{"odooinstances.bemade.org", "odooinitjobs.bemade.org", "odooupgradejobs.bemade.org", "odoobackupjobs.bemade.org", "odoorestorejobs.bemade.org", "odoostagingrefreshjobs.bemade.org"}

// setupWebhooks registers /convert and the validating webhook on the one
// webhook server, the certificate rotator (unless cert-manager provides the
// certificate) and the storage migration. It writes the first certificate
// before it returns, because the webhook server reads it when it starts.
func setupWebhooks(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if err := conversion.SetupWebhookWithManager(mgr, conversion.Options{
		DefaultCluster: opts.LegacyDefaultCluster, DefaultStorageClass: opts.LegacyStorageClass,
	}); err != nil {
		return fmt.Errorf("conversion webhook: %w", err)
	}
	policy, err := egress.Parse(opts.EgressAllow, opts.EgressDeny, opts.EgressAllowHTTPCredentials)
	if err != nil {
		return err
	}
	validator := &admission.OdooInstanceValidator{
		Reader:            mgr.GetClient(),
		ClustersNamespace: opts.OperatorNamespace, ClustersSecret: opts.ClustersSecret,
		DefaultClusterAlias: opts.LegacyDefaultCluster,
		Egress:              policy,
		BackupMinInterval:   opts.BackupMinInterval,
	}
	if err := validator.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("validating webhook: %w", err)
	}

	if opts.ManageWebhookCerts {
		certOpts, err := rotatorOptions(opts)
		if err != nil {
			return err
		}
		rot, err := certs.New(mgr.GetConfig(), certOpts)
		if err != nil {
			return fmt.Errorf("webhook certificates: %w", err)
		}
		if err := mgr.Add(rot); err != nil {
			return err
		}
		if err := mgr.AddReadyzCheck("webhook-certs", rot.ReadyCheck); err != nil {
			return err
		}
		ectx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := rot.EnsureOnce(ectx); err != nil {
			return fmt.Errorf("writing the first webhook certificate: %w", err)
		}
	}
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return err
	}
	if opts.MigrateStorage {
		if err := mgr.Add(&storagemigration.Migrator{
			Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), CRDNames: CRDNames,
			Recorder: mgr.GetEventRecorder("odoo-operator-storage-migrator"),
		}); err != nil {
			return err
		}
	}
	return nil
}

// rotatorOptions: in a cluster the API server reaches the webhook through a
// Service; the sandbox runs the operator on the host and uses a URL.
func rotatorOptions(opts Options) (certs.Options, error) {
	o := certs.Options{
		Namespace: opts.OperatorNamespace, SecretName: opts.WebhookCertSecret, CertDir: opts.WebhookCertDir,
		CRDNames:                 CRDNames,
		ValidatingWebhookConfigs: []string{opts.ValidatingWebhookConfig},
		CheckInterval:            opts.WebhookCertCheckInterval,
	}
	if opts.WebhookURL != "" {
		u, err := url.Parse(opts.WebhookURL)
		if err != nil || u.Scheme != "https" || u.Hostname() == "" {
			return o, fmt.Errorf("--webhook-url %q: want https://<host>:<port>", opts.WebhookURL)
		}
		o.URL = strings.TrimRight(opts.WebhookURL, "/")
		if ip := net.ParseIP(u.Hostname()); ip != nil {
			o.IPAddresses = []net.IP{ip}
		} else {
			o.DNSNames = []string{u.Hostname()}
		}
		return o, nil
	}
	ns, name, ok := strings.Cut(opts.WebhookService, "/")
	if !ok {
		ns, name = opts.OperatorNamespace, opts.WebhookService
	}
	o.Service = &certs.ServiceRef{Namespace: ns, Name: name}
	o.DNSNames = []string{name + "." + ns + ".svc", name + "." + ns + ".svc.cluster.local"}
	return o, nil
}
