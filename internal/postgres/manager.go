package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults of ManagerOptions.
const (
	DefaultRecheckInterval  = 10 * time.Minute
	DefaultMaxConns         = 4
	DefaultMaxConnIdleTime  = 3 * time.Minute
	DefaultConnectTimeout   = 10 * time.Second
	DefaultOperationTimeout = 2 * time.Minute
	DefaultApplicationName  = "odoo-operator"
	DefaultMaintenanceDB    = "postgres"
)

// ManagerOptions tune a Manager; zero values take the defaults.
type ManagerOptions struct {
	// RecheckInterval is how long a successful Ensure of an unchanged
	// desired state is trusted without asking the server (default 10m).
	RecheckInterval time.Duration
	// MaxConns bounds each cluster's pool (default 4). Pools keep no idle
	// connection for longer than MaxConnIdleTime (default 3m) and open none
	// in advance.
	MaxConns        int32
	MaxConnIdleTime time.Duration
	// ConnectTimeout bounds each connection attempt (default 10s).
	ConnectTimeout time.Duration
	// OperationTimeout bounds an operation whose context has no deadline
	// (default 2m).
	OperationTimeout time.Duration
	// ApplicationName is the application_name of the admin sessions
	// (default "odoo-operator").
	ApplicationName string
	// MaintenanceDatabase is the database the admin connects to (default
	// "postgres").
	MaintenanceDatabase string
}

func (o ManagerOptions) withDefaults() ManagerOptions {
	if o.RecheckInterval <= 0 {
		o.RecheckInterval = DefaultRecheckInterval
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxConnIdleTime <= 0 {
		o.MaxConnIdleTime = DefaultMaxConnIdleTime
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.OperationTimeout <= 0 {
		o.OperationTimeout = DefaultOperationTimeout
	}
	if o.ApplicationName == "" {
		o.ApplicationName = DefaultApplicationName
	}
	if o.MaintenanceDatabase == "" {
		o.MaintenanceDatabase = DefaultMaintenanceDB
	}
	return o
}

// Manager ensures and drops instance roles and databases on PostgreSQL
// clusters. It keeps one small connection pool per cluster (replaced when the
// cluster's settings change) and an in-memory record of the last successful
// Ensure of each (cluster, role, database), so that an unchanged instance
// costs no query and no connection until RecheckInterval has passed.
//
// A Manager is safe for concurrent use; operations on the same (cluster,
// role) are serialized.
type Manager struct {
	opts ManagerOptions
	// key is a per-process random HMAC key for the record hashes: the record
	// holds no password nor an unkeyed hash of one.
	key []byte

	mu      sync.Mutex
	closed  bool
	pools   map[string]*clusterPool
	records map[recordKey]record
	closing sync.WaitGroup

	locks keyedMutex
}

type clusterPool struct {
	settings [32]byte
	pool     *pgxpool.Pool
}

type recordKey struct{ cluster, role, db string }

type record struct {
	// state is the keyed hash of the cluster settings and desired state of
	// the last successful Ensure; zero after a failed one.
	state [32]byte
	// password is the keyed hash of the password last set on (or verified
	// for) the role, on the server at location (host and port: a cluster
	// moved to another server does not inherit it).
	password [32]byte
	location [32]byte
	at       time.Time
}

// NewManager returns a Manager. Call Close when done.
func NewManager(opts ManagerOptions) *Manager {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(fmt.Sprintf("postgres: reading random key: %v", err))
	}
	return &Manager{
		opts:    opts.withDefaults(),
		key:     key,
		pools:   map[string]*clusterPool{},
		records: map[recordKey]record{},
	}
}

// EnsureResult is the outcome of Ensure.
type EnsureResult struct {
	// Actions are the changes applied, in order (none when all was right).
	Actions []Action
	// Cached: the in-memory record of a recent identical Ensure was trusted
	// and the server was not asked.
	Cached bool
}

// Changed reports whether anything was applied.
func (r EnsureResult) Changed() bool { return len(r.Actions) > 0 }

// Ensure makes sure the role exists, can log in with role.Password, and owns
// the database, creating or repairing what is missing. It returns the
// actions applied. Errors are *Error values; test them with errors.Is
// against ErrUnreachable, ErrAuthentication, ErrTLS, ErrConflict, ErrInvalid,
// ErrUnsupportedPassword.
func (m *Manager) Ensure(ctx context.Context, c Cluster, role DesiredRole, db DesiredDatabase) (EnsureResult, error) {
	secrets := []string{c.AdminPassword, role.Password}
	if db.Owner == "" {
		db.Owner = role.Name
	}
	if err := validateEnsure(c, role, db); err != nil {
		return EnsureResult{}, newError(c.Name, "ensure", err, secrets...)
	}
	unlock := m.locks.lock(c.Name + "\x00" + role.Name)
	defer unlock()

	rk := recordKey{c.Name, role.Name, db.Name}
	state := m.stateHash(c, role, db)
	pwHash := m.hash("password", role.Password)
	location := m.hash("location", c.Host, strconv.Itoa(int(c.Port)))
	m.mu.Lock()
	closed := m.closed
	rec, hasRec := m.records[rk]
	m.mu.Unlock()
	if closed {
		return EnsureResult{}, newError(c.Name, "ensure", ErrClosed)
	}
	if hasRec && rec.state == state && time.Since(rec.at) < m.opts.RecheckInterval {
		return EnsureResult{Cached: true}, nil
	}

	ctx, cancel := m.withTimeout(ctx)
	defer cancel()
	var res EnsureResult
	passwordSet := false
	err := m.withConn(ctx, c, func(conn *pgxpool.Conn) error {
		or, od, err := observe(ctx, conn, role.Name, db.Name)
		if err != nil {
			return err
		}
		or.PasswordRecorded = hasRec && rec.password == pwHash && rec.location == location
		actions, err := PlanEnsure(role, db, or, od)
		if err != nil {
			return opErr("plan", err)
		}
		for _, a := range actions {
			if err := apply(ctx, conn, a, role.Password); err != nil {
				return err
			}
			res.Actions = append(res.Actions, a)
			switch a.(type) {
			case CreateRole, SetRolePassword:
				passwordSet = true
			}
		}
		return nil
	})

	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		// Force a full check next time; remember a password that was set.
		rec.state, rec.at = [32]byte{}, time.Time{}
		if passwordSet {
			rec.password, rec.location = pwHash, location
		}
		m.records[rk] = rec
		return res, newError(c.Name, opOf(err, "ensure"), err, secrets...)
	}
	m.records[rk] = record{state: state, password: pwHash, location: location, at: time.Now()}
	return res, nil
}

func validateEnsure(c Cluster, role DesiredRole, db DesiredDatabase) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if role.Name == c.AdminUser {
		return fmt.Errorf("%w: role %q is the cluster's admin user", ErrInvalid, role.Name)
	}
	_, err := PlanEnsure(role, db, ObservedRole{}, ObservedDatabase{})
	return err
}

// Drop drops the database (closing its connections) and then the role,
// skipping what does not exist; an empty name skips that object. It refuses
// to drop a database the role does not own. It returns the actions applied.
// Not calling Drop (deletionPolicy Retain) keeps both.
func (m *Manager) Drop(ctx context.Context, c Cluster, roleName, dbName string) ([]Action, error) {
	secrets := []string{c.AdminPassword}
	if err := c.Validate(); err != nil {
		return nil, newError(c.Name, "drop", fmt.Errorf("%w: %w", ErrInvalid, err), secrets...)
	}
	if roleName != "" && roleName == c.AdminUser {
		return nil, newError(c.Name, "drop", fmt.Errorf("%w: role %q is the cluster's admin user", ErrInvalid, roleName), secrets...)
	}
	if _, err := PlanDrop(roleName, dbName, ObservedRole{}, ObservedDatabase{}); err != nil {
		return nil, newError(c.Name, "drop", err, secrets...)
	}
	unlock := m.locks.lock(c.Name + "\x00" + roleName)
	defer unlock()
	m.Forget(c.Name, roleName)

	ctx, cancel := m.withTimeout(ctx)
	defer cancel()
	var applied []Action
	err := m.withConn(ctx, c, func(conn *pgxpool.Conn) error {
		or, od, err := observe(ctx, conn, roleName, dbName)
		if err != nil {
			return err
		}
		actions, err := PlanDrop(roleName, dbName, or, od)
		if err != nil {
			return opErr("plan", err)
		}
		for _, a := range actions {
			if err := apply(ctx, conn, a, ""); err != nil {
				return err
			}
			applied = append(applied, a)
		}
		return nil
	})
	if err != nil {
		return applied, newError(c.Name, opOf(err, "drop"), err, secrets...)
	}
	return applied, nil
}

// DatabaseExists reports whether the database exists on the cluster.
func (m *Manager) DatabaseExists(ctx context.Context, c Cluster, name string) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, newError(c.Name, "check database", fmt.Errorf("%w: %w", ErrInvalid, err), c.AdminPassword)
	}
	ctx, cancel := m.withTimeout(ctx)
	defer cancel()
	var exists bool
	err := m.withConn(ctx, c, func(conn *pgxpool.Conn) error {
		err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
		return opErr("check database", err)
	})
	if err != nil {
		return false, newError(c.Name, opOf(err, "check database"), err, c.AdminPassword)
	}
	return exists, nil
}

// ServerMajorVersion returns the server's major version (e.g. 15), to pick
// matching client tools.
func (m *Manager) ServerMajorVersion(ctx context.Context, c Cluster) (int, error) {
	if err := c.Validate(); err != nil {
		return 0, newError(c.Name, "server version", fmt.Errorf("%w: %w", ErrInvalid, err), c.AdminPassword)
	}
	ctx, cancel := m.withTimeout(ctx)
	defer cancel()
	var major int
	err := m.withConn(ctx, c, func(conn *pgxpool.Conn) error {
		major = serverMajor(conn)
		if major == 0 {
			return opErr("server version", errors.New("server did not report its version"))
		}
		return nil
	})
	if err != nil {
		return 0, newError(c.Name, opOf(err, "server version"), err, c.AdminPassword)
	}
	return major, nil
}

// Invalidate forgets the record of (cluster, role, database), so the next
// Ensure checks the server (e.g. after a restore replaced the database).
func (m *Manager) Invalidate(cluster, role, db string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.records, recordKey{cluster, role, db})
}

// Forget drops every record of the role on the cluster. Drop calls it; the
// controller may call it when an instance is deleted with its database
// retained, so the record does not outlive the instance.
func (m *Manager) Forget(cluster, role string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.records {
		if k.cluster == cluster && k.role == role {
			delete(m.records, k)
		}
	}
}

// PoolStats are the counters of one cluster's pool.
type PoolStats struct {
	// NewConns is the number of connections opened since the pool was made.
	NewConns     int64
	TotalConns   int32
	IdleConns    int32
	AcquireCount int64
}

// Stats returns the counters of each cluster's current pool.
func (m *Manager) Stats() map[string]PoolStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]PoolStats, len(m.pools))
	for name, p := range m.pools {
		s := p.pool.Stat()
		out[name] = PoolStats{NewConns: s.NewConnsCount(), TotalConns: s.TotalConns(), IdleConns: s.IdleConns(), AcquireCount: s.AcquireCount()}
	}
	return out
}

// ClosePool closes the pool of a cluster that is no longer configured.
func (m *Manager) ClosePool(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.pools[name]; ok {
		delete(m.pools, name)
		m.closeInBackground(p.pool)
	}
}

// Close closes all pools, waiting for connections in use to be returned.
// Later operations fail with ErrClosed.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	pools := m.pools
	m.pools = map[string]*clusterPool{}
	m.mu.Unlock()
	for _, p := range pools {
		p.pool.Close()
	}
	m.closing.Wait()
}

// closeInBackground closes a replaced pool without waiting for the
// connections still in use by other operations. m.mu must be held.
func (m *Manager) closeInBackground(p *pgxpool.Pool) {
	m.closing.Add(1)
	go func() {
		defer m.closing.Done()
		p.Close()
	}()
}

// pool returns the cluster's pool, replacing it when its settings changed.
// Making a pool opens no connection.
func (m *Manager) pool(c Cluster) (*pgxpool.Pool, error) {
	settings := m.settingsHash(c)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if p, ok := m.pools[c.Name]; ok {
		if p.settings == settings {
			return p.pool, nil
		}
		delete(m.pools, c.Name)
		m.closeInBackground(p.pool)
	}
	cfg, err := poolConfig(c, m.opts)
	if err != nil {
		return nil, opErr("connect", err)
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, opErr("connect", err)
	}
	m.pools[c.Name] = &clusterPool{settings: settings, pool: p}
	return p, nil
}

// withConn runs fn on a pooled connection. When the server turns out to be
// unreachable (a pooled connection the server closed, a restart), fn is run
// once more on a fresh connection: fn must be idempotent, which observing and
// planning again makes it.
func (m *Manager) withConn(ctx context.Context, c Cluster, fn func(*pgxpool.Conn) error) error {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		err = m.tryConn(ctx, c, fn)
		if err == nil || !errors.Is(classifyErr(err), ErrUnreachable) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func (m *Manager) tryConn(ctx context.Context, c Cluster, fn func(*pgxpool.Conn) error) error {
	p, err := m.pool(c)
	if err != nil {
		return err
	}
	conn, err := p.Acquire(ctx)
	if err != nil {
		return opErr("connect", err)
	}
	defer conn.Release()
	return fn(conn)
}

func classifyErr(err error) error {
	if k := classify(err); k != nil {
		return k
	}
	return err
}

func (m *Manager) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, m.opts.OperationTimeout)
}

func (m *Manager) hash(parts ...string) [32]byte {
	h := hmac.New(sha256.New, m.key)
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (m *Manager) settingsHash(c Cluster) [32]byte {
	return m.hash("cluster", c.Name, c.Host, strconv.Itoa(int(c.Port)), c.AdminUser, c.AdminPassword, c.EffectiveSSLMode(), c.CACert)
}

func (m *Manager) stateHash(c Cluster, role DesiredRole, db DesiredDatabase) [32]byte {
	s := m.settingsHash(c)
	return m.hash("state", string(s[:]), role.Name, role.Password, db.Name, db.Owner)
}

// opError tags an error with the operation that failed.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

func opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var oe *opError
	if errors.As(err, &oe) {
		return err
	}
	return &opError{op: op, err: err}
}

// opOf returns the operation of an opError and the underlying error's text.
func opOf(err error, fallback string) string {
	var oe *opError
	if errors.As(err, &oe) {
		return oe.op
	}
	return fallback
}

// keyedMutex serializes operations per key.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l, ok := k.locks[key]
	if !ok {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
