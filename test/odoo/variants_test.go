// Package odoo proves the test add-on variants under test/odoo/addons with
// the real Odoo 18.0 against a real PostgreSQL, and what the operator's log
// judging and post-check make of them. The sandbox runs these variants as the
// images odoo:18.0-<variant>.
//
// With ODOO_LOGS_UPDATE=1 the runs' logs and module tables are written to
// internal/logwatch/testdata/real/, the material of the classifier's and the
// upgrade judge's table tests.
package odoo

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-operator/odoo-operator/internal/dbtools"
	"github.com/odoo-operator/odoo-operator/internal/logwatch"
	"github.com/odoo-operator/odoo-operator/internal/testutil/odooharness"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

const (
	shop   = "odoo_operator_shop"
	report = "odoo_operator_shop_report"
	v1     = "18.0.1.0.0"
	v2     = "18.0.2.0.0"
	// brokenException is the exception the broken report's migration raises.
	brokenException = "Exception: odoo_operator_shop_report: cannot convert the price column of odoo_operator_shop_report_line to the new currency layout"
)

// env is what every variant test shares: one PostgreSQL and one v1 database
// made by `-i base`, copied with CREATE DATABASE ... TEMPLATE.
type env struct {
	odoo *odooharness.Odoo
	db   *odooharness.Database
}

func addons(variant string) string {
	return filepath.Join(odooharness.RepoRoot(), "test", "odoo", "addons", variant)
}

const template = "v1_template"

func TestRealOdooVariants(t *testing.T) {
	o := odooharness.Find(t)
	pg := pgharness.Start(t)
	e := &env{odoo: o, db: odooharness.PrepareRole(t, pg)}

	// v1: one `-i base` installs both shop modules (auto_install).
	init := o.Exec(t, e.db, 5*time.Minute, append(e.db.Args(template), "--addons-path="+o.AddonsPath(addons("v1")),
		"-i", "base", "--stop-after-init", "--without-demo=all", "--no-http")...)
	saveLog(t, "init", init.Log)
	if init.ExitCode != 0 {
		t.Fatalf("-i base exited %d:\n%s", init.ExitCode, tail(init.Log))
	}
	mods := e.modules(t, template)
	want := map[string]string{shop: v1, report: v1}
	for name, version := range want {
		if m := find(mods, name); m.State != "installed" || m.LatestVersion != version {
			t.Fatalf("after -i base: %s is %+v, want installed %s", name, m, version)
		}
	}
	if got := e.prices(t, template); got != "Mug=12.50 EUR,Sticker=1.25 EUR,T-shirt=20.00 USD" {
		t.Fatalf("v1 prices = %q", got)
	}
	if v := logwatch.JudgeUpgradeLog(bytes.NewReader(init.Log)); v.Failed || v.Errors != 0 {
		t.Errorf("init log judged %+v", v)
	}
	saveModules(t, "v1", mods)

	t.Run("v2: a clean upgrade with a migration", func(t *testing.T) { e.upgradeV2(t) })
	t.Run("broken: partial upgrade", func(t *testing.T) { e.broken(t) })
	t.Run("missing: a module the database has is absent", func(t *testing.T) { e.missing(t) })
	t.Run("errors: runtime errors in the log", func(t *testing.T) { e.errors(t) })
	t.Run("prefork: worker limits hit for real", func(t *testing.T) { e.limits(t) })
	t.Run("neutralize", func(t *testing.T) { e.neutralize(t) })
}

func (e *env) upgradeV2(t *testing.T) {
	db := e.copyDB(t, "v2")
	run := e.odoo.Exec(t, e.db, 5*time.Minute, append(e.db.Args(db), "--addons-path="+e.odoo.AddonsPath(addons("v2")),
		"-u", "all", "--stop-after-init", "--no-http")...)
	saveLog(t, "upgrade", run.Log)
	if run.ExitCode != 0 {
		t.Fatalf("-u all exited %d:\n%s", run.ExitCode, tail(run.Log))
	}
	if v := logwatch.JudgeUpgradeLog(bytes.NewReader(run.Log)); v.Failed || v.Errors != 0 {
		t.Errorf("verdict %+v", v)
	}
	mods := e.modules(t, db)
	for _, name := range []string{shop, report} {
		if m := find(mods, name); m.State != "installed" || m.LatestVersion != v2 {
			t.Errorf("%s = %+v, want installed %s", name, m, v2)
		}
	}
	if got := e.prices(t, db); got != "Mug=12.5 EUR,Sticker=1.25 EUR,T-shirt=20 USD" {
		t.Errorf("v2 prices = %q", got)
	}
}

// broken: the shop's v2 migration runs and is committed, then the report's
// raises. Odoo exits 255, resets the transient states, and only the version
// of the shop shows what was done.
func (e *env) broken(t *testing.T) {
	db := e.copyDB(t, "broken")
	before := e.modules(t, db)
	run := e.odoo.Exec(t, e.db, 5*time.Minute, append(e.db.Args(db), "--addons-path="+e.odoo.AddonsPath(addons("broken")),
		"-u", "all", "--stop-after-init", "--no-http")...)
	saveLog(t, "upgrade-broken", run.Log)
	after := e.modules(t, db)
	saveModules(t, "broken-after", after)
	if run.ExitCode != 255 {
		t.Errorf("exit code %d, want 255", run.ExitCode)
	}
	for _, s := range []string{"Transient module states were reset", brokenException} {
		if !bytes.Contains(run.Log, []byte(s)) {
			t.Errorf("log lacks %q", s)
		}
	}
	if m := find(after, shop); m.State != "installed" || m.LatestVersion != v2 {
		t.Errorf("%s = %+v, want installed %s (committed before the failure)", shop, m, v2)
	}
	if m := find(after, report); m.State != "installed" || m.LatestVersion != v1 {
		t.Errorf("%s = %+v, want installed %s (failed, state reset)", report, m, v1)
	}
	if p := dbtools.PendingModules(after); len(p) != 0 {
		t.Errorf("pending modules %v: Odoo 18 resets them", p)
	}
	if got := e.prices(t, db); got != "Mug=12.5 EUR,Sticker=1.25 EUR,T-shirt=20 USD" {
		t.Errorf("the shop's committed migration left prices %q", got)
	}

	v := logwatch.JudgeUpgradeLog(bytes.NewReader(run.Log))
	if !v.Failed || v.Module != report || !strings.Contains(v.ErrorLine, brokenException) {
		t.Errorf("log verdict %+v: want failed on %s with %q", v, report, brokenException)
	}
	r := dbtools.CompareModules(before, after)
	if !slices.Equal(r.Upgraded, []dbtools.ModuleChange{{Name: shop, From: v1, To: v2}}) || !r.OK() {
		t.Errorf("post-check %+v: want only %s %s → %s", r, shop, v1, v2)
	}
}

// missing: a v1 database upgraded or served without the report module.
func (e *env) missing(t *testing.T) {
	db := e.copyDB(t, "missing")
	run := e.odoo.Exec(t, e.db, 5*time.Minute, append(e.db.Args(db), "--addons-path="+e.odoo.AddonsPath(addons("missing")),
		"-u", "all", "--stop-after-init", "--no-http")...)
	saveLog(t, "upgrade-missing", run.Log)
	if run.ExitCode != 0 {
		t.Errorf("exit code %d: Odoo exits 0 on a missing module", run.ExitCode)
	}
	v := logwatch.JudgeUpgradeLog(bytes.NewReader(run.Log))
	if !v.Failed || v.Module != report || !strings.Contains(v.ErrorLine, "inconsistent states") {
		t.Errorf("verdict %+v: want failed on %s (inconsistent states)", v, report)
	}
	if m := find(e.modules(t, db), report); m.State != dbtools.StateToUpgrade {
		t.Errorf("%s = %+v, want left 'to upgrade'", report, m)
	}

	db2 := e.copyDB(t, "missing_serve")
	srv := e.odoo.Serve(t, e.db, append(e.db.Args(db2), "--addons-path="+e.odoo.AddonsPath(addons("missing")))...)
	log := srv.Stop()
	saveLog(t, "serve-missing", log)
	recs := errorRecords(log)
	if len(recs) == 0 || !strings.Contains(recs[0].Message, "Some modules are not loaded") ||
		logwatch.Classify(recs[0]) != logwatch.ModuleLoading {
		t.Errorf("error records %+v: want 'Some modules are not loaded' (ModuleLoading)", recs)
	}
}

// errors: the v1 modules at their versions, but a thread logs a bad query
// and a traceback every two seconds once the server has loaded them.
func (e *env) errors(t *testing.T) {
	db := e.copyDB(t, "errors")
	srv := e.odoo.Serve(t, e.db, append(e.db.Args(db), "--addons-path="+e.odoo.AddonsPath(addons("errors")))...)
	waitLog(t, srv, 40*time.Second, func(log []byte) bool { return bytes.Count(log, []byte("price sync of database")) >= 2 })
	if code, body, err := odooharness.Get(srv.URL("/web/health")); err != nil || code != 200 || !bytes.Contains(body, []byte(`"pass"`)) {
		t.Errorf("/web/health = %d %s %v: the errors do not stop serving", code, body, err)
	}
	log := srv.Stop()
	saveLog(t, "serve-errors", log)
	recs := errorRecords(log)
	if len(recs) < 4 {
		t.Fatalf("%d error records, want at least 4", len(recs))
	}
	for _, r := range recs {
		if c := logwatch.Classify(r); c != logwatch.DatabaseSchema {
			t.Errorf("%s: %s, want DatabaseSchema", r.Message, c)
		}
	}
	if m := find(e.modules(t, db), shop); m.LatestVersion != v1 {
		t.Errorf("%s = %+v: serving the errors variant must not upgrade it", shop, m)
	}
}

// limits: a prefork server whose worker hits limit_time_cpu on a request,
// and one whose workers pass limit_memory_soft at once. Odoo logs both at
// INFO.
func (e *env) limits(t *testing.T) {
	db := e.copyDB(t, "prefork")
	srv := e.odoo.Serve(t, e.db, append(e.db.Args(db), "--addons-path="+e.odoo.AddonsPath(addons("errors")),
		"--workers=2", "--max-cron-threads=0", "--limit-time-cpu=2", "--limit-time-real=60")...)
	// The worker is killed mid-request: the connection drops.
	_, _, _ = odooharness.Get(srv.URL("/odoo_operator_shop/burn?seconds=6"))
	waitLog(t, srv, 30*time.Second, func(log []byte) bool { return bytes.Contains(log, []byte("CPU time limit")) })
	cpu := srv.Stop()
	saveLog(t, "prefork-cpu-limit", cpu)
	if !hasResource(cpu, "CPU time limit (2) reached") {
		t.Errorf("no Resource record for the CPU limit:\n%s", tail(cpu))
	}

	// A soft limit below an idle worker's size: each worker is recycled as
	// soon as it has started, before it serves anything.
	srv = e.odoo.Start(t, e.db, append(e.db.Args(db), "--addons-path="+e.odoo.AddonsPath(addons("v1")),
		"--workers=1", "--max-cron-threads=0", "--limit-memory-soft=10000000")...)
	waitLog(t, srv, 30*time.Second, func(log []byte) bool { return bytes.Count(log, []byte("virtual memory limit")) >= 2 })
	mem := srv.Stop()
	saveLog(t, "prefork-memory-limit", mem)
	if !hasResource(mem, "virtual memory limit (") {
		t.Errorf("no Resource record for the memory limit:\n%s", tail(mem))
	}
}

func (e *env) neutralize(t *testing.T) {
	db := e.copyDB(t, "neutralize")
	run := e.odoo.Exec(t, e.db, 2*time.Minute, append([]string{"neutralize"}, e.db.Args(db)...)...)
	saveLog(t, "neutralize", run.Log)
	if run.ExitCode != 0 || !bytes.Contains(run.Log, []byte("Neutralization finished")) {
		t.Errorf("neutralize exited %d:\n%s", run.ExitCode, tail(run.Log))
	}
	if recs := errorRecords(run.Log); len(recs) != 0 {
		t.Errorf("error records %+v", recs)
	}
}

// hasResource reports whether a record containing s is noted by the log
// monitor as a Resource event, whatever its level.
func hasResource(log []byte, s string) bool {
	p := logwatch.NewParser(bytes.NewReader(log))
	for rec, ok := p.Next(); ok; rec, ok = p.Next() {
		if strings.Contains(rec.Message, s) && logwatch.Notable(rec) && logwatch.Classify(rec) == logwatch.Resource {
			return true
		}
	}
	return false
}

func errorRecords(log []byte) []logwatch.Record {
	var out []logwatch.Record
	p := logwatch.NewParser(bytes.NewReader(log))
	for rec, ok := p.Next(); ok; rec, ok = p.Next() {
		if rec.Level == logwatch.LevelError || rec.Level == logwatch.LevelCritical {
			out = append(out, rec)
		}
	}
	return out
}

func waitLog(t *testing.T, srv *odooharness.Server, timeout time.Duration, done func([]byte) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !done(srv.Log()) {
		if time.Now().After(deadline) {
			t.Fatalf("the log did not show it within %s:\n%s", timeout, tail(srv.Log()))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// copyDB copies the v1 template into a new database.
func (e *env) copyDB(t *testing.T, name string) string {
	t.Helper()
	odooharness.Admin(t, e.db.PG, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s OWNER %s", name, template, odooharness.DBRole))
	return name
}

// conn connects to db; the caller closes it (a template with a connection
// cannot be copied).
func (e *env) conn(t *testing.T, db string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.db.PG.ConnStringFor(db))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func (e *env) modules(t *testing.T, db string) []dbtools.Module {
	t.Helper()
	conn := e.conn(t, db)
	defer func() { _ = conn.Close(context.Background()) }()
	mods, err := dbtools.ReadModules(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

// prices lists the shop's products as name=price currency, whatever the
// version's layout.
func (e *env) prices(t *testing.T, db string) string {
	t.Helper()
	conn := e.conn(t, db)
	defer func() { _ = conn.Close(context.Background()) }()
	var hasCurrency bool
	if err := conn.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM information_schema.columns
 WHERE table_name = 'odoo_operator_shop_product' AND column_name = 'currency')`).Scan(&hasCurrency); err != nil {
		t.Fatal(err)
	}
	q := `SELECT string_agg(name || '=' || price, ',' ORDER BY name) FROM odoo_operator_shop_product`
	if hasCurrency {
		q = `SELECT string_agg(name || '=' || price || ' ' || currency, ',' ORDER BY name) FROM odoo_operator_shop_product`
	}
	var s string
	if err := conn.QueryRow(context.Background(), q).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func find(mods []dbtools.Module, name string) dbtools.Module {
	for _, m := range mods {
		if m.Name == name {
			return m
		}
	}
	return dbtools.Module{Name: name, State: "absent"}
}

func tail(b []byte) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
