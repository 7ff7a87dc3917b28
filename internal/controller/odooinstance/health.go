package odooinstance

import (
	"context"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
)

// Pinger checks that a cluster answers, on its pooled connection.
type Pinger interface {
	Ping(ctx context.Context, c postgres.Cluster) error
}

// ClusterHealth pings every PostgreSQL cluster in use at a fixed interval, on
// the pool's idle connection, so that an outage and the recovery are noticed
// within one interval without a query per instance. On a change it requeues
// the instances of that cluster.
type ClusterHealth struct {
	Pinger   Pinger
	Client   client.Reader
	Interval time.Duration
	// Events receives one event per instance to requeue.
	Events chan event.GenericEvent

	mu       sync.Mutex
	clusters map[string]postgres.Cluster
	errs     map[string]error
}

// NewClusterHealth returns a checker; Start runs it.
func NewClusterHealth(p Pinger, c client.Reader, interval time.Duration) *ClusterHealth {
	return &ClusterHealth{
		Pinger: p, Client: c, Interval: interval,
		Events:   make(chan event.GenericEvent, 1024),
		clusters: map[string]postgres.Cluster{}, errs: map[string]error{},
	}
}

// Err is the last ping error of c, nil when it answered or was never pinged.
// Calling it registers c for pinging.
func (h *ClusterHealth) Err(c postgres.Cluster) error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clusters[c.Name] = c
	return h.errs[c.Name]
}

// Start implements manager.Runnable.
func (h *ClusterHealth) Start(ctx context.Context) error {
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			h.checkAll(ctx)
		}
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: only the
// leader reconciles, so only it needs to know.
func (h *ClusterHealth) NeedLeaderElection() bool { return true }

func (h *ClusterHealth) checkAll(ctx context.Context) {
	h.mu.Lock()
	clusters := make([]postgres.Cluster, 0, len(h.clusters))
	for _, c := range h.clusters {
		clusters = append(clusters, c)
	}
	h.mu.Unlock()
	for _, c := range clusters {
		pctx, cancel := context.WithTimeout(ctx, h.Interval)
		err := h.Pinger.Ping(pctx, c)
		cancel()
		h.mu.Lock()
		before := h.errs[c.Name]
		h.errs[c.Name] = err
		h.mu.Unlock()
		if (before == nil) != (err == nil) {
			log.FromContext(ctx).Info("PostgreSQL cluster health changed", "cluster", c.Name, "healthy", err == nil)
			h.requeue(ctx, c.Name)
		}
	}
}

func (h *ClusterHealth) requeue(ctx context.Context, cluster string) {
	list := &odoov1alpha2.OdooInstanceList{}
	if err := h.Client.List(ctx, list); err != nil {
		return
	}
	for i := range list.Items {
		inst := &list.Items[i]
		if inst.Status.Database != nil && inst.Status.Database.Cluster != cluster {
			continue
		}
		select {
		case h.Events <- event.GenericEvent{Object: inst}:
		case <-ctx.Done():
			return
		}
	}
}
