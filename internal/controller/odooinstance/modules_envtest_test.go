package odooinstance_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

// TestModulesStatusIsBoundedAndReadAsTheTenant: an instance whose database
// has 400 installed modules and 100 left "to upgrade" gets status.modules
// with every count right, a list of at most ModulesListMax entries (the rest
// counted in omitted) and a few KiB in all, and status.database.series.
// ir_module_module is a view the tenant controls that records who reads it:
// the operator reads it as the instance's own role, never as the admin. A
// module name and version longer than the CRD allows (the table is the
// tenant's) are cut, so the status is still written.
func TestModulesStatusIsBoundedAndReadAsTheTenant(t *testing.T) {
	g := NewWithT(t)
	ns, inst, db := convergedShop(t, g)
	moduleSQL(g, db, `CREATE TABLE modules_real (id serial PRIMARY KEY, name varchar NOT NULL, state varchar, latest_version varchar);
		INSERT INTO modules_real (name, state, latest_version)
		  SELECT 'base', 'installed', '18.0.1.3'
		  UNION ALL SELECT 'installed_module_with_a_long_name_' || lpad(i::text, 3, '0'), 'installed', '18.0.1.0' FROM generate_series(1, 399) i
		  UNION ALL SELECT 'pending_module_with_a_long_name_' || lpad(i::text, 3, '0'), 'to upgrade', '18.0.1.0' FROM generate_series(1, 100) i
		  UNION ALL SELECT 'available_' || i, 'uninstalled', NULL FROM generate_series(1, 300) i
		  UNION ALL SELECT 'pending_000_' || repeat('x', 300), 'to upgrade', repeat('9', 100);
		CREATE TABLE readers (who text);
		CREATE FUNCTION note_reader() RETURNS boolean LANGUAGE sql VOLATILE AS 'INSERT INTO readers VALUES (current_user) RETURNING true';
		CREATE VIEW ir_module_module AS SELECT * FROM modules_real WHERE note_reader();`)
	// The view and the function belong to the tenant, like Odoo's tables.
	owner := databaseOwner(g, db)
	moduleSQL(g, db, `ALTER VIEW ir_module_module OWNER TO "`+owner+`"; ALTER FUNCTION note_reader() OWNER TO "`+owner+`";`)
	poke(g, ns, "shop")

	g.Eventually(func(g Gomega) {
		get(g, ns, "shop", inst)
		g.Expect(inst.Status.Modules).NotTo(BeNil())
	}, eventually, poll).Should(Succeed())
	st := inst.Status.Modules
	g.Expect(st.Installed).To(BeEquivalentTo(400))
	g.Expect(st.ToUpgrade).To(BeEquivalentTo(101))
	g.Expect(st.Uninstalled).To(BeEquivalentTo(300))
	g.Expect(st.Pending).To(BeEquivalentTo(101))
	g.Expect(st.List).To(HaveLen(odoov1alpha2.ModulesListMax))
	g.Expect(st.Omitted).To(BeEquivalentTo(101 + 1 - odoov1alpha2.ModulesListMax)) // + base, declared by spec.init.modules
	g.Expect(st.List[0]).To(Equal(odoov1alpha2.ModuleStatus{
		Name: "pending_000_" + strings.Repeat("x", 128-3-len("pending_000_")) + "...", State: "to upgrade", InstalledVersion: strings.Repeat("9", 61) + "...",
	}))
	g.Expect(st.List[1]).To(Equal(odoov1alpha2.ModuleStatus{Name: "pending_module_with_a_long_name_001", State: "to upgrade", InstalledVersion: "18.0.1.0"}))
	raw, err := json.Marshal(st)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(len(raw)).To(BeNumerically("<", 6*1024), "status.modules stays small: %d bytes", len(raw))
	g.Expect(inst.Status.Database.Series).To(Equal("18.0"))

	readers := adminQueryIn(g, db, `SELECT string_agg(DISTINCT who, ',') FROM readers`)
	g.Expect(readers).To(Equal(owner), "ir_module_module is read as the instance's role only")
}

// convergedShop converges an instance "shop" in a new namespace and returns
// the namespace, the instance and its database.
func convergedShop(t *testing.T, g Gomega) (string, *odoov1alpha2.OdooInstance, string) {
	ns := newNamespace(t)
	inst := &odoov1alpha2.OdooInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec:       odoov1alpha2.OdooInstanceSpec{Image: oldImage, AdminPassword: "pw", Cron: odoov1alpha2.CronSpec{Replicas: ptr.To[int32](1)}},
	}
	converge(t, g, ns, inst)
	return ns, inst, inst.Status.Database.Name
}

// databaseOwner is the role that owns db: the instance's own.
func databaseOwner(g Gomega, db string) string {
	return adminQueryIn(g, db, `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()`)
}

// adminQueryIn runs a one-value query in db as PostgreSQL's superuser.
func adminQueryIn(g Gomega, db, sql string) string {
	out, err := pg.QueryOne(context.Background(), db, sql)
	g.Expect(err).NotTo(HaveOccurred())
	return out
}

// TestModulesRereadWritesOnlyChanges: status.modules is read again every
// modules interval (2 s here), but a read that finds the same summary writes
// nothing: the instance's resourceVersion and observedTime stay while the
// tenant's table records the reads. A changed module is written at the next
// read.
func TestModulesRereadWritesOnlyChanges(t *testing.T) {
	g := NewWithT(t)
	ns, inst, db := convergedShop(t, g)
	moduleSQL(g, db, `CREATE TABLE modules_real (id serial PRIMARY KEY, name varchar NOT NULL, state varchar, latest_version varchar);
		INSERT INTO modules_real (name, state, latest_version) VALUES ('base', 'installed', '18.0.1.3'), ('sale', 'installed', '18.0.1.0');
		CREATE TABLE reads (at timestamptz);
		CREATE FUNCTION note_read() RETURNS boolean LANGUAGE sql VOLATILE AS 'INSERT INTO reads VALUES (now()) RETURNING true';
		CREATE VIEW ir_module_module AS SELECT * FROM modules_real WHERE note_read();`)
	owner := databaseOwner(g, db)
	moduleSQL(g, db, `ALTER VIEW ir_module_module OWNER TO "`+owner+`"; ALTER FUNCTION note_read() OWNER TO "`+owner+`";`)
	poke(g, ns, "shop")
	g.Eventually(func(g Gomega) {
		get(g, ns, "shop", inst)
		g.Expect(inst.Status.Modules).NotTo(BeNil())
		g.Expect(inst.Status.Modules.Installed).To(BeEquivalentTo(2))
	}, eventually, poll).Should(Succeed())
	readsSoFar := func() string {
		return adminQueryIn(g, db, `SELECT count(DISTINCT at) FROM reads`)
	}
	// Settled: the instance's own writes after the first read are done.
	var rv string
	var observed metav1.Time
	g.Eventually(func(g Gomega) {
		get(g, ns, "shop", inst)
		rv, observed = inst.ResourceVersion, *inst.Status.Modules.ObservedTime
		g.Consistently(func(g Gomega) {
			get(g, ns, "shop", inst)
			g.Expect(inst.ResourceVersion).To(Equal(rv))
		}, "1s", poll).Should(Succeed())
	}, eventually, poll).Should(Succeed())
	first := readsSoFar()
	g.Eventually(func(g Gomega) {
		g.Expect(mustAtoi(g, readsSoFar())).To(BeNumerically(">=", mustAtoi(g, first)+2), "two more periodic reads")
	}, eventually, poll).Should(Succeed())
	get(g, ns, "shop", inst)
	g.Expect(inst.ResourceVersion).To(Equal(rv), "re-reads that found the same modules wrote nothing")
	g.Expect(inst.Status.Modules.ObservedTime.Equal(&observed)).To(BeTrue())

	moduleSQL(g, db, `UPDATE modules_real SET state = 'to upgrade' WHERE name = 'sale'`)
	g.Eventually(func(g Gomega) {
		get(g, ns, "shop", inst)
		g.Expect(inst.Status.Modules.ToUpgrade).To(BeEquivalentTo(1))
		g.Expect(inst.Status.Modules.ObservedTime.After(observed.Time)).To(BeTrue())
	}, eventually, poll).Should(Succeed())
}

func mustAtoi(g Gomega, s string) int {
	n, err := strconv.Atoi(s)
	g.Expect(err).NotTo(HaveOccurred())
	return n
}
