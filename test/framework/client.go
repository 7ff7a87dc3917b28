package framework

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// OdooInstances is the hub version of the OdooInstance resource.
var OdooInstances = schema.GroupVersionResource{Group: "bemade.org", Version: "v1alpha2", Resource: "odooinstances"}

// Clients are client-go clients of the sandbox, for what kubectl is too slow
// for: pollers and watches that sample the cluster every few milliseconds.
type Clients struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
}

// NewClients builds clients from $KUBECONFIG (set by `hack/sandbox.sh env`).
// Their client-side rate limit is lifted: client-go's default (5 qps) would
// turn a 20 ms poller into a 200 ms one.
func NewClients(t testing.TB) *Clients {
	t.Helper()
	path := os.Getenv("KUBECONFIG")
	if path == "" {
		t.Fatal("KUBECONFIG is not set: run under `eval \"$(hack/sandbox.sh env)\"`")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", path, err)
	}
	cfg.QPS, cfg.Burst = 2000, 4000
	return newClients(t, cfg)
}

func newClients(t testing.TB, cfg *rest.Config) *Clients {
	t.Helper()
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Clients{Kube: kube, Dynamic: dyn}
}

// GetInstance reads an OdooInstance at v1alpha2 into out (a typed object of
// the api package, or any struct with its JSON shape).
func (c *Clients) GetInstance(ctx context.Context, namespace, name string, out any) error {
	u, err := c.Dynamic.Resource(OdooInstances).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out)
}

// SandboxDatabase returns the connection string of the sandbox PostgreSQL's
// superuser for database db.
func SandboxDatabase(t testing.TB, db string) string {
	t.Helper()
	u, err := url.Parse(SandboxPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	return u.String()
}

// SandboxSQL runs statements in database db of the sandbox's PostgreSQL as
// its superuser.
func SandboxSQL(t testing.TB, db, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, SandboxDatabase(t, db))
	if err != nil {
		t.Fatalf("connecting to database %q: %v", db, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("database %q: %v", db, err)
	}
}

// ModuleFixture creates Odoo's ir_module_module table in database db with
// base, sale and stock installed and crm not: what an upgrade snapshots and
// post-checks, modelled in the real PostgreSQL. A table left by an earlier
// run (instances keep their database by default) is replaced.
func ModuleFixture(t testing.TB, db string) {
	t.Helper()
	SandboxSQL(t, db, `DROP TABLE IF EXISTS ir_module_module;
		CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL, state varchar, latest_version varchar);
		INSERT INTO ir_module_module (name, state, latest_version) VALUES
		  ('base', 'installed', '18.0.1.3'), ('sale', 'installed', '18.0.1.0'),
		  ('stock', 'installed', '18.0.1.1'), ('crm', 'uninstalled', NULL)`)
	GiveTablesToOwner(t, db)
}

// GiveTablesToOwner makes the database's owner (the instance's role) own
// the tables of its public schema that the superuser created, as if Odoo,
// which connects as that role, had created them: the data Jobs (restore
// points, backups) that the sandbox really runs connect as that role too.
func GiveTablesToOwner(t testing.TB, db string) {
	t.Helper()
	SandboxSQL(t, db, `DO $$
DECLARE
  r record;
  owner text := (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database());
BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user LOOP
    EXECUTE format('ALTER TABLE public.%I OWNER TO %I', r.tablename, owner);
  END LOOP;
END $$`)
}

// RestartOperator (re)builds and starts the sandbox's operator with
// `hack/sandbox.sh restart-operator`, in the test's environment (the
// SANDBOX_* variables select the sandbox).
func RestartOperator(t testing.TB) {
	t.Helper()
	if out, err := Run(filepath.Join(RepoRoot(), "hack", "sandbox.sh"), "restart-operator"); err != nil {
		t.Fatalf("restart-operator: %v\n%s", err, out)
	}
}

// ProcessGone is true when pid has exited (absent, or a zombie not reaped yet).
func ProcessGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	for i := len(b) - 1; i > 0; i-- {
		if b[i] == ')' {
			return i+2 < len(b) && b[i+2] == 'Z'
		}
	}
	return false
}
