// Package manager builds the operator's command line and its controller
// manager.
package manager

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	odoov1 "github.com/odoo-operator/odoo-operator/api/v1"
	odoov1alpha1 "github.com/odoo-operator/odoo-operator/api/v1alpha1"
	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/backup/schedule"
	"github.com/odoo-operator/odoo-operator/internal/controller/backupjob"
	"github.com/odoo-operator/odoo-operator/internal/controller/odooinstance"
	"github.com/odoo-operator/odoo-operator/internal/controller/restorejob"
	"github.com/odoo-operator/odoo-operator/internal/controller/stagingrefresh"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/egress"
	"github.com/odoo-operator/odoo-operator/internal/logwatch"
	"github.com/odoo-operator/odoo-operator/internal/notify"
	"github.com/odoo-operator/odoo-operator/internal/podlogs"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/ssa"
)

// Default images of the data Jobs.
const (
	DefaultOperatorImage       = "ghcr.io/odoo-operator/odoo-operator:latest"
	DefaultPostgresClientImage = "postgres:%d"
)

// Options are the manager's command-line options.
type Options struct {
	// OperatorImage and PostgresClientImage are the images of data Jobs.
	OperatorImage       string
	PostgresClientImage string
	// LogSampleInterval (0 disables sampling), LogSampleWindow,
	// LogSampleWorkers and LogSampleBytes bound the log sampler.
	LogSampleInterval time.Duration
	LogSampleWindow   time.Duration
	LogSampleWorkers  int
	LogSampleBytes    int64
	// BackupMinInterval is the smallest gap allowed between two times of a
	// spec.backup.schedule.
	BackupMinInterval time.Duration
	// ModulesInterval is how often status.modules is refreshed.
	ModulesInterval time.Duration
	// UpgradePreflight runs the preflight Job of an upgrade's new image.
	UpgradePreflight bool
	// PreflightPullTimeout bounds a preflight's failing image pull.
	PreflightPullTimeout time.Duration
	// StagingMailCatcher is host:port of the SMTP server that receives the
	// mail of restored Staging copies ("" for none).
	StagingMailCatcher string
	MetricsAddr        string
	// PprofAddr serves Go's pprof endpoints (heap, CPU); "" (the default)
	// serves none.
	PprofAddr               string
	ProbeAddr               string
	LeaderElect             bool
	LeaderElectionNamespace string
	MaxConcurrentReconciles int
	KubeAPIQPS              float32
	KubeAPIBurst            int
	DBHost                  string
	DBPort                  int32
	DBSSLMode               string
	DBAdminUser             string
	DBAdminPasswordFile     string
	OperatorNamespace       string
	ClustersSecret          string
	DBHealthInterval        time.Duration
	DBRecheckInterval       time.Duration

	// BackupStartDeadline bounds how long a backup may take to start (its
	// Secrets and claims present, its pod scheduled and its container
	// started) before it fails and its Job is deleted.
	BackupStartDeadline time.Duration

	EnableWebhooks           bool
	WebhookHost              string
	WebhookPort              int
	WebhookCertDir           string
	ManageWebhookCerts       bool
	WebhookCertSecret        string
	WebhookService           string
	WebhookURL               string
	WebhookCertCheckInterval time.Duration
	ValidatingWebhookConfig  string
	MigrateStorage           bool
	LegacyDefaultCluster     string
	LegacyStorageClass       string

	// EgressAllow (CIDR[:PORT[-PORT]]) and EgressDeny (CIDR) shape the
	// policy of the requests made for tenants (webhooks, live-Odoo
	// sources); EgressAllowHTTPCredentials lets a master password go over
	// plain http.
	EgressAllow                []string
	EgressDeny                 []string
	EgressAllowHTTPCredentials bool
	// DataJobDeadline is every data Job's activeDeadlineSeconds.
	DataJobDeadline time.Duration
	// DisableNetworkPolicies turns the per-instance NetworkPolicies off
	// (flag --network-policies=false); IngressNamespaces are the ingress
	// controllers' namespaces.
	DisableNetworkPolicies bool
	IngressNamespaces      []string
	// OTLPEndpoint is where spans go (OTLP/HTTP URL); empty: the standard
	// OTEL_EXPORTER_OTLP_* environment, and no tracing when that is unset.
	OTLPEndpoint string
}

// Scheme knows the built-in kinds and the bemade.org kinds.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(odoov1alpha2.AddToScheme(s))
	utilruntime.Must(odoov1alpha1.AddToScheme(s))
	utilruntime.Must(odoov1.AddToScheme(s))
	// The Gateway API's HTTPRoute, for spec.ingress.gatewayRef; registering
	// the Go types needs no CRD in the cluster.
	utilruntime.Must(gatewayv1.Install(s))
	return s
}

// NewRootCommand is `odoo-operator`: without a subcommand it runs the manager.
func NewRootCommand() *cobra.Command {
	opts := Options{}
	zapOpts := zap.Options{}
	networkPolicies := true
	cmd := &cobra.Command{
		Use:           "odoo-operator",
		Short:         "Kubernetes operator that runs Odoo instances safely",
		SilenceUsage:  true,
		SilenceErrors: false,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
			opts.DisableNetworkPolicies = !networkPolicies
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8080", "address the Prometheus metrics endpoint binds to (0 disables it)")
	f.StringVar(&opts.PprofAddr, "pprof-bind-address", "", "address Go's pprof endpoints bind to, for a heap or CPU profile (empty: off)")
	f.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz endpoints")
	f.BoolVar(&opts.LeaderElect, "leader-elect", true, "elect a leader so that only one replica reconciles at a time")
	f.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader election Lease (defaults to the operator's namespace)")
	f.IntVar(&opts.MaxConcurrentReconciles, "max-concurrent-reconciles", 8, "OdooInstances reconciled in parallel")
	f.Float32Var(&opts.KubeAPIQPS, "kube-api-qps", 100, "sustained requests per second to the API server")
	f.IntVar(&opts.KubeAPIBurst, "kube-api-burst", 200, "burst of requests to the API server")
	f.StringVar(&opts.DBHost, "db-host", envOr("DB_HOST", "postgres"), "PostgreSQL host used when no clusters Secret names one (env DB_HOST)")
	f.Int32Var(&opts.DBPort, "db-port", envInt32Or("DB_PORT", 5432), "PostgreSQL port used with --db-host (env DB_PORT)")
	f.StringVar(&opts.DBSSLMode, "db-sslmode", os.Getenv("DB_SSLMODE"), "libpq sslmode Odoo uses to reach PostgreSQL, e.g. require (env DB_SSLMODE)")
	f.StringVar(&opts.DBAdminUser, "db-admin-user", envOr("DB_ADMIN_USER", "postgres"), "PostgreSQL admin role used with --db-host (env DB_ADMIN_USER)")
	f.StringVar(&opts.OperatorNamespace, "operator-namespace", envOr("POD_NAMESPACE", "odoo-operator"), "namespace of the operator and of the clusters Secret (env POD_NAMESPACE)")
	f.StringVar(&opts.ClustersSecret, "postgres-clusters-secret", "postgres-clusters", "name of the Secret (key clusters.yaml) listing the PostgreSQL clusters")
	f.DurationVar(&opts.DBHealthInterval, "db-health-interval", 5*time.Second, "how often each PostgreSQL cluster in use is pinged")
	f.DurationVar(&opts.DBRecheckInterval, "db-recheck-interval", 10*time.Minute, "how long a verified role and database are trusted before they are checked again")
	f.BoolVar(&opts.EnableWebhooks, "enable-webhooks", true, "serve /convert and the admission webhooks (needed for the legacy API versions)")
	f.StringVar(&opts.WebhookHost, "webhook-host", "", "address the webhook server binds to (empty: all)")
	f.IntVar(&opts.WebhookPort, "webhook-port", 9443, "HTTPS port of the webhook server")
	f.StringVar(&opts.WebhookCertDir, "webhook-cert-dir", "/tmp/k8s-webhook-server/serving-certs", "directory of the webhook server's tls.crt and tls.key")
	f.BoolVar(&opts.ManageWebhookCerts, "manage-webhook-certs", true, "make and rotate the webhook CA and certificate and keep caBundles current (false with cert-manager)")
	f.StringVar(&opts.WebhookCertSecret, "webhook-cert-secret", "odoo-operator-webhook-certs", "Secret in the operator namespace holding the webhook CA and certificate")
	f.StringVar(&opts.WebhookService, "webhook-service", "odoo-operator-webhook", "Service ([namespace/]name, port 443) through which the API server reaches the webhooks")
	f.StringVar(&opts.WebhookURL, "webhook-url", "", "base URL the API server calls instead of the Service, e.g. https://127.0.0.1:9443 for an operator run outside the cluster")
	f.DurationVar(&opts.WebhookCertCheckInterval, "webhook-cert-check-interval", time.Minute, "how often certificates, CRD conversion settings and caBundles are checked")
	f.StringVar(&opts.ValidatingWebhookConfig, "validating-webhook-config", "odoo-operator-validating", "ValidatingWebhookConfiguration whose caBundle the operator keeps current")
	f.BoolVar(&opts.MigrateStorage, "migrate-storage", true, "rewrite stored objects at the storage version after start and trim the CRDs' storedVersions")
	f.StringVar(&opts.LegacyDefaultCluster, "legacy-default-cluster", "default", "spec.database.cluster given to legacy (v1, v1alpha1) objects that have none; a name the clusters Secret does not define means its default cluster")
	f.StringVar(&opts.LegacyStorageClass, "legacy-storage-class", "cephfs", "spec.filestore.storageClass given to legacy objects that have none (the reference operator's hardcoded class)")
	f.StringVar(&opts.OperatorImage, "operator-image", envOr("OPERATOR_IMAGE", DefaultOperatorImage), "image of this operator; data Jobs (restore points, restores) copy its binary from it (env OPERATOR_IMAGE)")
	f.StringVar(&opts.PostgresClientImage, "postgres-client-image", DefaultPostgresClientImage, "image providing pg_dump and pg_restore for data Jobs; %d is replaced by the server's major version")
	f.DurationVar(&opts.LogSampleInterval, "log-sample-interval", 30*time.Second, "how often each instance's web and cron pod logs are sampled into status.health (0 disables log monitoring)")
	f.DurationVar(&opts.LogSampleWindow, "log-sample-window", 10*time.Minute, "how long an Odoo error counts in status.health")
	f.IntVar(&opts.LogSampleWorkers, "log-sample-workers", 4, "instances whose logs are sampled in parallel")
	f.BoolVar(&opts.UpgradePreflight, "upgrade-preflight", true, "before an upgrade to a new image touches anything, list the modules the image ships in a short Job and refuse the upgrade if the database has modules it lacks, at higher versions, of another Odoo series, or with missing dependencies")
	f.DurationVar(&opts.PreflightPullTimeout, "preflight-pull-timeout", odooinstance.DefaultPreflightPullTimeout, "how long an upgrade's preflight pod may fail to pull the new image before the upgrade is refused")
	f.StringVar(&opts.StagingMailCatcher, "staging-mail-catcher", "", "host:port of an SMTP server that keeps what it receives (Mailpit, MailHog): a restore or staging refresh into a Staging instance points the neutralized copy's mail server at it, so staging's mail can be read there and reaches nobody; an OdooTenantPolicy's spec.stagingMailCatcher overrides it for the namespaces it selects; empty and no policy's: the copy keeps neutralize's dummy server, which sends nothing")
	f.DurationVar(&opts.ModulesInterval, "modules-interval", odooinstance.DefaultModulesInterval, "how often each instance's status.modules is read from its database (as the instance's own role), besides after init, upgrades and installs")
	f.DurationVar(&opts.BackupMinInterval, "backup-min-interval", schedule.DefaultMinInterval, "smallest gap allowed between two times of an instance's spec.backup.schedule (refused at admission, and reported at reconcile)")
	f.DurationVar(&opts.BackupStartDeadline, "backup-start-deadline", 5*time.Minute, "how long a backup may take to start (missing Secret or claim, unschedulable pod, image pull error) before it fails and its Job is deleted, releasing the claims")
	f.Int64Var(&opts.LogSampleBytes, "log-sample-bytes", 256<<10, "log bytes read per instance and sample, shared by its pods")
	f.StringArrayVar(&opts.EgressAllow, "egress-allow", nil, "CIDR[:PORT[-PORT]] that tenants' webhook and live-Odoo URLs may reach although it is loopback, private, link-local or denied (repeatable; default: none)")
	f.StringArrayVar(&opts.EgressDeny, "egress-deny", nil, "CIDR that tenants' URLs may not reach, beyond the built-in loopback/private/link-local ranges: the cluster's Service and Pod ranges when they are public addresses (repeatable)")
	f.BoolVar(&opts.EgressAllowHTTPCredentials, "egress-allow-http-credentials", false, "let a live Odoo's master password go over plain http (default: https only)")
	f.DurationVar(&opts.DataJobDeadline, "data-job-deadline", resources.DefaultDataJobDeadline, "activeDeadlineSeconds of every data Job (backups, restores, prunes, restore points); a Job running longer is stopped and reported as DeadlineExceeded")
	f.BoolVar(&networkPolicies, "network-policies", true, "give each instance NetworkPolicies: web pods reachable from the ingress controllers and the instance's own pods only, cron and Job pods from nothing; egress as its OdooTenantPolicy says (false removes them)")
	f.StringSliceVar(&opts.IngressNamespaces, "ingress-namespaces", []string{"ingress-nginx"}, "namespaces of the ingress controllers, whose pods may reach the web pods")
	f.StringVar(&opts.OTLPEndpoint, "otlp-endpoint", "", "OTLP/HTTP URL spans of reconciles and operation steps are exported to, e.g. http://otel-collector:4318 (empty: the standard OTEL_EXPORTER_OTLP_ENDPOINT environment; tracing is off when neither is set)")
	f.StringVar(&opts.DBAdminPasswordFile, "db-admin-password-file", os.Getenv("DB_ADMIN_PASSWORD_FILE"), "file holding the admin role's password (env DB_ADMIN_PASSWORD_FILE); never pass a password on the command line")

	goFlags := flag.NewFlagSet("controller-runtime", flag.ExitOnError)
	zapOpts.BindFlags(goFlags)
	if kc := flag.CommandLine.Lookup("kubeconfig"); kc != nil {
		goFlags.Var(kc.Value, kc.Name, kc.Usage)
	}
	f.AddGoFlagSet(goFlags)
	cmd.AddCommand(newCopyBinaryCommand())
	cmd.AddCommand(newDataCommand())
	return cmd
}

// readSecretFile reads a password file; a password is never taken from the
// command line, where any user of the machine can read it.
func readSecretFile(path string) (string, error) {
	if path == "" {
		return os.Getenv("DB_ADMIN_PASSWORD"), nil
	}
	b, err := os.ReadFile(path) //nolint:gosec // the operator's own configuration
	if err != nil {
		return "", fmt.Errorf("--db-admin-password-file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func envOr(name, fallback string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return fallback
}

func envInt32Or(name string, fallback int32) int32 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 32); err == nil {
		return int32(v)
	}
	return fallback
}

// CtrlOptions are the controller-runtime options the operator runs with.
// The cache holds only the Secrets the operator manages (not every Secret of
// the cluster) and drops managedFields, which keeps memory flat as the number
// of instances grows.
func CtrlOptions(opts Options) ctrl.Options {
	managed := labels.SelectorFromSet(labels.Set{resources.ManagedByLabel: resources.ManagedByValue})
	// Secrets: those the operator manages, plus every Secret of its own
	// namespace, where the clusters Secret lives.
	secrets := map[string]cache.Config{cache.AllNamespaces: {LabelSelector: managed}}
	if opts.OperatorNamespace != "" {
		secrets[opts.OperatorNamespace] = cache.Config{LabelSelector: labels.Everything()}
	}
	return ctrl.Options{
		Scheme:                        Scheme(),
		WebhookServer:                 webhook.NewServer(webhook.Options{Host: opts.WebhookHost, Port: opts.WebhookPort, CertDir: opts.WebhookCertDir}),
		Metrics:                       metricsserver.Options{BindAddress: opts.MetricsAddr},
		PprofBindAddress:              opts.PprofAddr,
		HealthProbeBindAddress:        opts.ProbeAddr,
		LeaderElection:                opts.LeaderElect,
		LeaderElectionID:              "odoo-operator.bemade.org",
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{
			DefaultTransform: stripManagedFields,
			ByObject: map[client.Object]cache.ByObject{
				&corev1.Secret{}:              {Namespaces: secrets},
				&batchv1.Job{}:                {Label: managed, Transform: trimWorkload},
				&appsv1.Deployment{}:          {Transform: trimWorkload},
				&networkingv1.NetworkPolicy{}: {Transform: trimNetworkPolicy},
			},
		},
	}
}

// SetupControllers registers the operator's controllers with mgr. The
// PostgreSQL manager's pools are closed when mgr stops.
func SetupControllers(mgr ctrl.Manager, opts Options) error {
	adminPassword, err := readSecretFile(opts.DBAdminPasswordFile)
	if err != nil {
		return err
	}
	dbs := postgres.NewManager(postgres.ManagerOptions{RecheckInterval: opts.DBRecheckInterval})
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		dbs.Close()
		return nil
	})); err != nil {
		return err
	}
	var health *odooinstance.ClusterHealth
	if opts.DBHealthInterval > 0 {
		health = odooinstance.NewClusterHealth(dbs, mgr.GetClient(), opts.DBHealthInterval)
	}
	logs, err := podlogs.New(mgr.GetConfig())
	if err != nil {
		return err
	}
	policy, err := egress.Parse(opts.EgressAllow, opts.EgressDeny, opts.EgressAllowHTTPCredentials)
	if err != nil {
		return err
	}
	recorder := mgr.GetEventRecorder("odoo-operator")
	notifier := notify.New(notify.Options{Logger: ctrl.Log.WithName("notify"), Egress: policy, OnResult: notificationEvents(recorder)})
	if err := mgr.Add(notifier); err != nil {
		return err
	}
	var sampler *logwatch.Sampler
	if opts.LogSampleInterval > 0 {
		sampler = logwatch.NewSampler(&podlogs.Source{Reader: logs, Lister: mgr.GetAPIReader()}, logwatch.SamplerOptions{
			Interval: opts.LogSampleInterval, Window: opts.LogSampleWindow, Workers: opts.LogSampleWorkers,
			BytesPerSample: opts.LogSampleBytes, Container: resources.ContainerName,
		}, ctrl.Log.WithName("logwatch"))
	}
	r := &odooinstance.Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("odoo-operator"),
		Applier:   ssa.NewApplier(mgr.GetClient(), resources.FieldManager),
		Databases: dbs,
		Clusters: odooinstance.ClusterSource{
			Namespace:    opts.OperatorNamespace,
			SecretName:   opts.ClustersSecret,
			DefaultAlias: opts.LegacyDefaultCluster,
			Legacy:       postgres.LegacyCluster(opts.DBHost, opts.DBPort, opts.DBAdminUser, adminPassword, opts.DBSSLMode),
		},
		Health:                  health,
		BackupMinInterval:       opts.BackupMinInterval,
		ModulesInterval:         opts.ModulesInterval,
		UpgradePreflight:        opts.UpgradePreflight,
		PreflightPullTimeout:    opts.PreflightPullTimeout,
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
		PodLogs:                 logs,
		Sampler:                 sampler,
		Notifier:                notifier,
		Egress:                  policy,
		DataJobDeadline:         opts.DataJobDeadline,
		Network:                 odooinstance.NetworkOptions{Disabled: opts.DisableNetworkPolicies, IngressNamespaces: opts.IngressNamespaces},
		Images: odooinstance.JobImages{
			Operator:       cmp.Or(opts.OperatorImage, DefaultOperatorImage),
			PostgresClient: cmp.Or(opts.PostgresClientImage, DefaultPostgresClientImage),
		},
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the OdooInstance controller: %w", err)
	}
	images := datajob.Images{Operator: r.Images.Operator, PostgresClient: r.Images.PostgresClientImage}
	if err := (&backupjob.Reconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clusters: r.Clusters, Versions: dbs, Images: images,
		Recorder: mgr.GetEventRecorder("odoo-operator"), DataJobDeadline: opts.DataJobDeadline, StartDeadline: opts.BackupStartDeadline,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the OdooBackupJob controller: %w", err)
	}
	catcher, err := restorejob.ParseMailCatcher(opts.StagingMailCatcher)
	if err != nil {
		return fmt.Errorf("--staging-mail-catcher: %w", err)
	}
	if err := (&restorejob.Reconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clusters: r.Clusters, Databases: dbs, Images: images,
		Recorder: mgr.GetEventRecorder("odoo-operator"), DataJobDeadline: opts.DataJobDeadline, Egress: policy,
		MailCatcher: catcher,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the OdooRestoreJob controller: %w", err)
	}
	if err := (&stagingrefresh.Reconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("odoo-operator"),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the OdooStagingRefreshJob controller: %w", err)
	}
	return nil
}
