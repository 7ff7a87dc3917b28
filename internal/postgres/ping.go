package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Ping checks that the cluster answers, on a pooled connection. Pinged at a
// steady interval shorter than MaxConnIdleTime, the pool keeps one idle
// connection and a health check opens no new one.
func (m *Manager) Ping(ctx context.Context, c Cluster) error {
	ctx, cancel := m.withTimeout(ctx)
	defer cancel()
	err := m.withConn(ctx, c, func(conn *pgxpool.Conn) error {
		return opErr("ping", conn.Ping(ctx))
	})
	if err != nil {
		// Classified (ErrUnreachable, ErrAuthentication, ...) and scrubbed
		// of the admin password, like every error of the Manager.
		return newError(c.Name, "ping", err, c.AdminPassword)
	}
	return nil
}
