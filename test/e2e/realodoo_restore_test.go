//go:build e2e

package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

// Restores on real Odoo 18.0, both ways between the operator's zip and
// Odoo's database manager. Two real instances serve all three checks (a
// real init costs 20-30 s on 2 cores): "dst", the restores' target, and
// "src", a live Odoo whose database manager is enabled the way a user
// enables it (configOptions list_db: "True"; the operator's default is
// False).

// realRestoreManifest is a real instance; listDB enables its database
// manager.
func realRestoreManifest(name string, listDB bool) string {
	m := realInstanceManifest(name, realFrom)
	if listDB {
		m += "  configOptions:\n    list_db: \"True\"\n"
	}
	return m
}

// restoreDone waits for an OdooRestoreJob to complete, failing with its
// status otherwise.
func restoreDone(t *testing.T, ns, name string) {
	t.Helper()
	ref := "odoorestorejobs.v1alpha2.bemade.org/" + name
	if out, err := framework.KubectlE("wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", ref, "--timeout="+realWait.String()); err != nil {
		t.Fatalf("restore %s did not complete: %v %s\nstatus: %s", name, err, out, jsonpath(t, ns, ref, "{.status}"))
	}
}

// assertNeutralized checks database db the way Odoo's neutralize leaves
// it: the flag set, every mail server but Odoo's dummy one on "invalid"
// off, every cron but the autovacuum off.
func assertNeutralized(t *testing.T, db string) {
	t.Helper()
	assertNeutralizedMailTo(t, db, "invalid:1025")
}

// assertNeutralizedMailTo is assertNeutralized with the one active mail
// server at hostPort: Odoo's dummy, or a staging's mail catcher.
func assertNeutralizedMailTo(t *testing.T, db, hostPort string) {
	t.Helper()
	if got := framework.SandboxQuery(t, db, "SELECT value FROM ir_config_parameter WHERE key = 'database.is_neutralized'"); !slices.Equal(got, []string{"true"}) {
		t.Errorf("%s: database.is_neutralized %v, want [true]", db, got)
	}
	if got := framework.SandboxQuery(t, db, "SELECT smtp_host || ':' || smtp_port FROM ir_mail_server WHERE active"); !slices.Equal(got, []string{hostPort}) {
		t.Errorf("%s: active mail servers %v, want only [%s]", db, got, hostPort)
	}
	if got := framework.SandboxQuery(t, db, `SELECT c.cron_name FROM ir_cron c WHERE c.active AND c.id NOT IN
		(SELECT res_id FROM ir_model_data WHERE model = 'ir.cron' AND module = 'base' AND name = 'autovacuum_job')`); len(got) != 0 {
		t.Errorf("%s: crons still active after neutralize: %v", db, got)
	}
}

// TestRealOdooRestore: restores on real Odoo, sharing two instances.
//   - Neutralize: an OdooBackupJob (zip) of a real database with a real
//     mail server and active crons, restored by an OdooRestoreJob: the
//     default real `odoo neutralize` ran and the live database is
//     neutralized, the backed-up rows back.
//   - FromLiveOdoo: an OdooRestoreJob with source.type odoo downloads
//     the database from a real web pod's /web/database/backup (Odoo's own
//     zip) and loads it with its filestore.
//   - OperatorZipInOdoo: the operator's zip POSTed to a real web pod's
//     /web/database/restore becomes a database Odoo opens.
func TestRealOdooRestore(t *testing.T) {
	ns := framework.Namespace(t, "e2e-real-restore")
	// The rows and files of this run (a database outlives its namespace:
	// a rerun on the same sandbox finds the last run's).
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	framework.Apply(t, ns, realRestoreManifest("dst", false)+"---\n"+realRestoreManifest("src", true))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("dst"), odooRef("src"), "--timeout="+realWait.String())
	dstDB := jsonpath(t, ns, "odoo/dst", "{.status.database.name}")
	srcDB := jsonpath(t, ns, "odoo/src", "{.status.database.name}")
	if dstDB == "" || srcDB == "" || dstDB == srcDB {
		t.Fatalf("database names dst %q src %q", dstDB, srcDB)
	}

	// dst's data: a product of the test add-on, a real outgoing mail
	// server, every cron active, an attachment file in its filestore; not
	// neutralized (a fresh database is not; a rerun's may be).
	framework.SandboxSQL(t, dstDB, `INSERT INTO odoo_operator_shop_product (name, price) VALUES ('Backed-up lamp `+run+`', '31.00 EUR');
		INSERT INTO ir_mail_server (name, smtp_host, smtp_port, smtp_encryption, smtp_authentication, active)
		  VALUES ('Production SMTP `+run+`', 'smtp.gmail.com', 587, 'starttls', 'login', true);
		UPDATE ir_cron SET active = true;
		DELETE FROM ir_config_parameter WHERE key = 'database.is_neutralized'`)
	if got := framework.SandboxQuery(t, dstDB, "SELECT count(*) FROM ir_cron WHERE active"); len(got) != 1 || got[0] == "0" || got[0] == "1" {
		t.Fatalf("dst has %v active crons, want several (else the cron check is vacuous)", got)
	}
	dstFilestore := filepath.Join(claimDir(t, ns, "dst-filestore-pvc"), "filestore")
	writeFile(t, filepath.Join(dstFilestore, dstDB, "h8", "h8backedup"), "backed-up attachment "+run)

	framework.Apply(t, ns, `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: backups
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: bemade.org/v1alpha2
kind: OdooBackupJob
metadata:
  name: dst-zip
spec:
  odooInstanceRef: {name: dst}
  format: zip
  destination:
    pvc: {claimName: backups, path: dst/dst.zip}
`)
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", "odoobackupjobs.v1alpha2.bemade.org/dst-zip", "--timeout="+realWait.String())
	// The backup is stored under its own key: status.objectKey says where.
	zipKey := jsonpath(t, ns, "odoobackupjobs.v1alpha2.bemade.org/dst-zip", "{.status.objectKey}")
	zipPath := filepath.Join(claimDir(t, ns, "backups"), filepath.FromSlash(zipKey))
	zipHas(t, zipPath, "dump.sql", "manifest.json", "filestore/h8/h8backedup")

	t.Run("Neutralize", func(t *testing.T) {
		// A change after the backup, which the restore takes back.
		framework.SandboxSQL(t, dstDB, `INSERT INTO odoo_operator_shop_product (name, price) VALUES ('After the backup `+run+`', '1 EUR')`)
		framework.Apply(t, ns, `apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: from-zip
spec:
  odooInstanceRef: {name: dst}
  format: zip
  source:
    type: pvc
    pvc: {claimName: backups, path: `+zipKey+`}
`)
		restoreDone(t, ns, "from-zip")
		assertNeutralized(t, dstDB)
		if got := framework.SandboxQuery(t, dstDB, "SELECT active::text FROM ir_mail_server WHERE name = 'Production SMTP "+run+"'"); !slices.Equal(got, []string{"false"}) {
			t.Errorf("the backed-up mail server smtp.gmail.com: active %v, want [false] (present, off)", got)
		}
		if got := framework.SandboxQuery(t, dstDB, "SELECT name FROM odoo_operator_shop_product WHERE name IN ('Backed-up lamp "+run+"', 'After the backup "+run+"')"); !slices.Equal(got, []string{"Backed-up lamp " + run}) {
			t.Errorf("products after the restore %v, want [Backed-up lamp] (the backup's)", got)
		}
		if b, err := os.ReadFile(filepath.Join(dstFilestore, dstDB, "h8", "h8backedup")); err != nil || string(b) != "backed-up attachment "+run {
			t.Errorf("the restored filestore's attachment: %q %v", b, err)
		}
		// The neutralize Job ran real Odoo, which said so in its log.
		pods := framework.Kubectl(t, "get", "pods", "-n", ns, "-l", "job-name=from-zip-neutralize", "-o", "jsonpath={.items[*].metadata.name}")
		if pods == "" || strings.Contains(pods, " ") {
			t.Fatalf("neutralize pods %q, want one", pods)
		}
		logs := framework.Kubectl(t, "logs", "-n", ns, pods)
		target := jsonpath(t, ns, "odoorestorejobs.v1alpha2.bemade.org/from-zip", "{.status.targetDatabase}")
		for _, want := range []string{"odoo.cli.neutralize: Starting " + target + " database neutralization", "odoo.modules.neutralize: Neutralization finished"} {
			if !strings.Contains(logs, want) {
				t.Errorf("the neutralize pod's log lacks %q:\n%s", want, logs)
			}
		}
		framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("dst"), "--timeout="+realWait.String())
	})

	_, srcPort := webPodPort(t, ns, "src")
	srcURL := "http://127.0.0.1:" + srcPort

	t.Run("FromLiveOdoo", func(t *testing.T) {
		// The operator sends a master password over https only (its egress
		// policy): src is reached the way a production Odoo is, through a
		// TLS proxy (here with the sandbox CA's certificate, which the data
		// Jobs trust) on a tenant-reachable port.
		proxyURL := tlsProxy(t, srcURL)
		framework.SandboxSQL(t, srcDB, `INSERT INTO odoo_operator_shop_product (name, price) VALUES ('Only in the source `+run+`', '7 EUR')`)
		srcFilestore := filepath.Join(claimDir(t, ns, "src-filestore-pvc"), "filestore")
		writeFile(t, filepath.Join(srcFilestore, srcDB, "h8", "h8source"), "source attachment "+run)
		framework.Apply(t, ns, `apiVersion: v1
kind: Secret
metadata:
  name: src-master
stringData:
  masterPassword: master-src-Zq7
---
apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: from-live
spec:
  odooInstanceRef: {name: dst}
  source:
    type: odoo
    odoo:
      url: `+proxyURL+`
      sourceDatabase: `+srcDB+`
      masterPasswordSecretRef: {name: src-master, key: masterPassword}
`)
		restoreDone(t, ns, "from-live")
		if got := framework.SandboxQuery(t, dstDB, "SELECT name FROM odoo_operator_shop_product WHERE name IN ('Only in the source "+run+"', 'Backed-up lamp "+run+"')"); !slices.Equal(got, []string{"Only in the source " + run}) {
			t.Errorf("dst's products after the restore from src %v, want [Only in the source]", got)
		}
		srcUUID := framework.SandboxQuery(t, srcDB, "SELECT value FROM ir_config_parameter WHERE key = 'database.uuid'")
		if got := framework.SandboxQuery(t, dstDB, "SELECT value FROM ir_config_parameter WHERE key = 'database.uuid'"); len(srcUUID) != 1 || !slices.Equal(got, srcUUID) {
			t.Errorf("dst's database.uuid %v, src's %v: not src's database", got, srcUUID)
		}
		if b, err := os.ReadFile(filepath.Join(dstFilestore, dstDB, "h8", "h8source")); err != nil || string(b) != "source attachment "+run {
			t.Errorf("the source's attachment in dst's filestore: %q %v", b, err)
		}
		// A copy of a production database is neutralized by default too.
		assertNeutralized(t, dstDB)
		if sum := jsonpath(t, ns, "odoorestorejobs.v1alpha2.bemade.org/from-live", "{.status.sha256}"); len(sum) != 64 {
			t.Errorf("status.sha256 %q of the downloaded backup", sum)
		}
		framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("dst"), "--timeout="+realWait.String())
	})

	t.Run("OperatorZipInOdoo", func(t *testing.T) {
		// Odoo's database manager creates the database as its own role.
		// The operator gives a tenant's role no CREATEDB (a tenant never
		// creates databases), so src plays a self-hosted Odoo whose role
		// may: the check is the format, not the tenant model.
		role := secretValue(t, ns, "src-odoo-user", "username")
		framework.SandboxSQL(t, "postgres", "ALTER ROLE "+quoteIdent(role)+" CREATEDB")
		newDB := srcDB + "_interop"
		t.Cleanup(func() {
			framework.SandboxSQL(t, "postgres", "DROP DATABASE IF EXISTS "+quoteIdent(newDB)+" WITH (FORCE)")
		})

		body, form := multipartForm(t, map[string]string{"master_pwd": "master-src-Zq7", "name": newDB, "copy": "true"}, "backup_file", zipPath)
		resp, err := http.Post(srcURL+"/web/database/restore", form, body) //nolint:noctx // a test's one request to the sandbox
		if err != nil {
			t.Fatalf("POST /web/database/restore: %v", err)
		}
		page, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if strings.Contains(string(page), "Database restore error") {
			t.Fatalf("Odoo refused the operator's zip: %s", errorLine(string(page)))
		}
		if got := framework.SandboxQuery(t, "postgres", "SELECT datname FROM pg_database WHERE datname = '"+newDB+"'"); len(got) != 1 {
			t.Fatalf("no database %s after /web/database/restore (HTTP %d)", newDB, resp.StatusCode)
		}
		if got := framework.SandboxQuery(t, newDB, "SELECT login FROM res_users WHERE login = 'admin'"); !slices.Equal(got, []string{"admin"}) {
			t.Errorf("%s res_users admin: %v", newDB, got)
		}
		if got := framework.SandboxQuery(t, newDB, "SELECT name || '=' || state FROM ir_module_module WHERE name IN ('base', 'odoo_operator_shop') ORDER BY name"); !slices.Equal(got,
			[]string{"base=installed", "odoo_operator_shop=installed"}) {
			t.Errorf("%s modules: %v", newDB, got)
		}
		if got := framework.SandboxQuery(t, newDB, "SELECT name FROM odoo_operator_shop_product WHERE name = 'Backed-up lamp "+run+"'"); !slices.Equal(got, []string{"Backed-up lamp " + run}) {
			t.Errorf("%s products: %v, want the backed-up [Backed-up lamp]", newDB, got)
		}
		// copy=true: Odoo opened the database with its registry and gave it
		// a new uuid; the zip's filestore went to Odoo's own filestore.
		if got := framework.SandboxQuery(t, newDB, "SELECT value FROM ir_config_parameter WHERE key = 'database.uuid'"); len(got) != 1 ||
			slices.Equal(got, framework.SandboxQuery(t, dstDB, "SELECT value FROM ir_config_parameter WHERE key = 'database.uuid'")) {
			t.Errorf("%s database.uuid %v: Odoo did not open it as a copy", newDB, got)
		}
		srcFilestore := filepath.Join(claimDir(t, ns, "src-filestore-pvc"), "filestore")
		if b, err := os.ReadFile(filepath.Join(srcFilestore, newDB, "h8", "h8backedup")); err != nil || string(b) != "backed-up attachment "+run {
			t.Errorf("the zip's attachment in Odoo's filestore of %s: %q %v", newDB, b, err)
		}
	})
}

// secretValue is one key of a Secret, decoded.
func secretValue(t *testing.T, ns, secret, key string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(framework.Kubectl(t, "get", "secret", "-n", ns, secret, "-o", "jsonpath={.data."+key+"}"))
	if err != nil || len(b) == 0 {
		t.Fatalf("secret %s key %s: %v", secret, key, err)
	}
	return string(b)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// multipartForm is a multipart/form-data body with fields and one file.
func multipartForm(t *testing.T, fields map[string]string, fileField, path string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	part, err := w.CreateFormFile(fileField, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(part, f); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, w.FormDataContentType()
}

// errorLine is the error Odoo's database manager page shows, or the page's
// start.
func errorLine(page string) string {
	if i := strings.Index(page, "Database restore error"); i >= 0 {
		end := min(len(page), i+300)
		return page[i:end]
	}
	return page[:min(len(page), 300)]
}

// tlsProxy serves https on a tenant-reachable port (127.0.0.1:31500-31999)
// with a certificate of the sandbox CA, forwarding to target, until the
// test ends; it returns the proxy's base URL.
func tlsProxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(u))
	_ = srv.Listener.Close()
	srv.Listener = framework.TenantListener(t)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{sandboxCert(t)}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return "https://" + srv.Listener.Addr().String()
}
