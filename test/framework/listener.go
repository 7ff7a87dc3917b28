package framework

import (
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
)

// The sandbox's "tenant-reachable" loopback ports: the operator is started
// with --egress-allow=127.0.0.1/32:31000-31999 (hack/sandbox.sh), so a
// tenant's URL may reach these and no other loopback port. 31000-31499 are
// the real Odoo pods' web ports; tests listen on 31500-31999.
const (
	TenantPortMin = 31500
	TenantPortMax = 31999
)

// TenantListener listens on a free port of 127.0.0.1:31500-31999, where a
// tenant's webhook or live-Odoo URL may point in the sandbox, and closes it
// when the test ends. Sandboxes side by side share the range: ports are
// tried at random until one is free.
func TenantListener(t testing.TB) net.Listener {
	t.Helper()
	return listenIn(t, TenantPortMin, TenantPortMax)
}

// InternalListener listens on a free loopback port outside 31000-31999:
// an internal service no tenant URL may reach, even in the sandbox.
func InternalListener(t testing.TB) net.Listener {
	t.Helper()
	return listenIn(t, 30000, 30999)
}

func listenIn(t testing.TB, lo, hi int) net.Listener {
	t.Helper()
	for range 200 {
		port := lo + rand.IntN(hi-lo+1) //nolint:gosec // a port, not a secret
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			t.Cleanup(func() { _ = l.Close() })
			return l
		}
	}
	t.Fatalf("no free port in 127.0.0.1:%d-%d", lo, hi)
	return nil
}
