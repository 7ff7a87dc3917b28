package manager

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/odoo-operator/odoo-operator/internal/observe"
)

// Run starts the manager and blocks until ctx is cancelled or a signal arrives.
func Run(ctx context.Context, opts Options) error {
	log := ctrl.Log.WithName("setup")
	gcPercent := applyDefaultGCPercent()
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	// client-go's default (20 qps) makes the first reconcile of many instances
	// wait on the client, not on the API server; so did 50 qps at 300
	// instances (docs/performance.md). API Priority and Fairness, not this
	// client limit, is what shares the API server among its clients.
	cfg.QPS, cfg.Burst = opts.KubeAPIQPS, opts.KubeAPIBurst
	mgr, err := ctrl.NewManager(cfg, CtrlOptions(opts))
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := SetupControllers(mgr, opts); err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.EnableWebhooks {
		if err := setupWebhooks(ctx, mgr, opts); err != nil {
			return err
		}
	}
	certDir := ""
	if opts.EnableWebhooks {
		certDir = opts.WebhookCertDir
	}
	if err := observe.Setup(ctx, mgr, observe.Options{OTLPEndpoint: opts.OTLPEndpoint, WebhookCertDir: certDir}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	log.Info("starting the manager", "dbHost", opts.DBHost, "dbPort", opts.DBPort, "leaderElection", opts.LeaderElect, "gcPercent", gcPercent)
	return mgr.Start(mergeSignals(ctx))
}

func mergeSignals(ctx context.Context) context.Context {
	signals := ctrl.SetupSignalHandler()
	merged, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-signals.Done():
		case <-ctx.Done():
		}
		cancel()
	}()
	return merged
}
