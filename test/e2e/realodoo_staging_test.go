//go:build e2e

package e2e

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

// stagingRefreshRef is the kubectl name of an OdooStagingRefreshJob.
func stagingRefreshRef(name string) string {
	return "odoostagingrefreshjobs.v1alpha2.bemade.org/" + name
}

// stagingRefreshDone waits for an OdooStagingRefreshJob to complete,
// failing with its status otherwise.
func stagingRefreshDone(t *testing.T, ns, name string) {
	t.Helper()
	ref := stagingRefreshRef(name)
	framework.Eventually(t, time.Minute, "the OdooStagingRefreshJob "+name+" exists", func() error {
		_, err := framework.KubectlE("get", "-n", ns, ref)
		return err
	})
	// A backup and a restore of real Odoo, each a few Jobs.
	if out, err := framework.KubectlE("wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", ref, "--timeout="+(2*realWait).String()); err != nil {
		t.Fatalf("staging refresh %s did not complete: %v %s\nstatus: %s", name, err, out, jsonpath(t, ns, ref, "{.status}"))
	}
}

// oneChild fails unless exactly one object of resource carries the
// refresh's label.
func oneChild(t *testing.T, ns, resource, refresh string) {
	t.Helper()
	out := framework.Kubectl(t, "get", resource, "-n", ns, "-l", "bemade.org/staging-refresh="+refresh, "-o", "jsonpath={.items[*].metadata.name}")
	if f := strings.Fields(out); len(f) != 1 {
		t.Errorf("%s of the refresh %s: %q, want exactly one", resource, refresh, out)
	}
}

// TestRealOdooStaging: a staging copy of a real production.
//   - Creation: an instance naming production (spec.productionInstanceRef)
//     gets production's rows and files through its first refresh (a fresh
//     backup of production, a restore into staging), neutralized by real
//     `odoo neutralize`: database.is_neutralized, production's mail server
//     and crons off; its previous (freshly initialised) database is kept.
//   - Refresh: a row added in production reaches staging through an
//     OdooStagingRefreshJob.
//   - Production is never written to: its table checksums do not move
//     (production runs no cron pod: cron's lastcall writes would move them
//     for a reason unrelated to the refresh).
func TestRealOdooStaging(t *testing.T) {
	ns := framework.Namespace(t, "e2e-real-staging")
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	framework.Apply(t, ns, `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: backups
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
`+realInstanceManifest("prod", realFrom)+`  environment: Production
  backup:
    destination:
      pvc: {claimName: backups, path: prod}
`)
	// realInstanceManifest gives the instance a cron pod; production's is
	// removed before its checksums are taken.
	framework.Kubectl(t, "patch", "-n", ns, odooRef("prod"), "--type=merge", "-p", `{"spec":{"cron":{"replicas":0}}}`)
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("prod"), "--timeout="+realWait.String())
	prodDB := jsonpath(t, ns, "odoo/prod", "{.status.database.name}")

	// Production's data: a product, a real outgoing mail server, every cron
	// active, an attachment file.
	framework.SandboxSQL(t, prodDB, `INSERT INTO odoo_operator_shop_product (name, price) VALUES ('Production lamp `+run+`', '31.00 EUR');
		INSERT INTO ir_mail_server (name, smtp_host, smtp_port, smtp_encryption, smtp_authentication, active)
		  VALUES ('Production SMTP `+run+`', 'smtp.gmail.com', 587, 'starttls', 'login', true);
		UPDATE ir_cron SET active = true;
		DELETE FROM ir_config_parameter WHERE key = 'database.is_neutralized'`)
	prodFilestore := filepath.Join(claimDir(t, ns, "prod-filestore-pvc"), "filestore", prodDB)
	writeFile(t, filepath.Join(prodFilestore, "s1", "s1production"), "production attachment "+run)
	prodSums := checksums(t, prodDB)

	// The administrator's mail catcher for this namespace's staging, by
	// policy (the operator runs without --staging-mail-catcher).
	catcher := framework.StartSMTPSink(t)
	framework.Kubectl(t, "label", "namespace", ns, "e2e-staging-mail="+run)
	framework.Apply(t, ns, `apiVersion: bemade.org/v1alpha2
kind: OdooTenantPolicy
metadata:
  name: e2e-staging-mail-`+run+`
spec:
  namespaceSelector: {matchLabels: {e2e-staging-mail: "`+run+`"}}
  stagingMailCatcher: "`+catcher.Addr+`"
`)
	t.Cleanup(func() {
		_, _ = framework.KubectlE("delete", "odootenantpolicy", "e2e-staging-mail-"+run, "--ignore-not-found")
	})
	prodMail := framework.SandboxQuery(t, prodDB, "SELECT id, name, smtp_host, smtp_port, active FROM ir_mail_server ORDER BY id")

	framework.Apply(t, ns, realInstanceManifest("stg", realFrom)+`  environment: Staging
  productionInstanceRef: {name: prod}
`)

	t.Run("Creation", func(t *testing.T) {
		stagingRefreshDone(t, ns, "stg-initial")
		oneChild(t, ns, "odoobackupjobs.v1alpha2.bemade.org", "stg-initial")
		oneChild(t, ns, "odoorestorejobs.v1alpha2.bemade.org", "stg-initial")
		stgDB := jsonpath(t, ns, "odoo/stg", "{.status.database.name}")
		if stgDB == "" || stgDB == prodDB {
			t.Fatalf("staging's database %q, production's %q", stgDB, prodDB)
		}
		if got := framework.SandboxQuery(t, stgDB, "SELECT name FROM odoo_operator_shop_product WHERE name = 'Production lamp "+run+"'"); len(got) != 1 {
			t.Errorf("staging's products %v, want production's lamp", got)
		}
		stgFilestore := filepath.Join(claimDir(t, ns, "stg-filestore-pvc"), "filestore", stgDB)
		if b, err := os.ReadFile(filepath.Join(stgFilestore, "s1", "s1production")); err != nil || string(b) != "production attachment "+run {
			t.Errorf("staging's copy of production's attachment: %q %v", b, err)
		}
		assertNeutralizedMailTo(t, stgDB, catcher.Addr)
		if got := framework.SandboxQuery(t, stgDB, "SELECT active::text FROM ir_mail_server WHERE name = 'Production SMTP "+run+"'"); !slices.Equal(got, []string{"false"}) {
			t.Errorf("production's mail server in staging: active %v, want [false]", got)
		}
		kept := jsonpath(t, ns, stagingRefreshRef("stg-initial"), "{.status.keptDatabase}")
		if kept == "" || len(framework.SandboxQuery(t, kept, "SELECT 1")) != 1 {
			t.Errorf("staging's previous database %q is not kept", kept)
		}
		if got := checksums(t, prodDB); !maps.Equal(got, prodSums) {
			t.Errorf("production's checksums moved during the staging refresh")
		}
		framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("stg"), "--timeout="+realWait.String())
	})

	t.Run("Refresh", func(t *testing.T) {
		framework.SandboxSQL(t, prodDB, `INSERT INTO odoo_operator_shop_product (name, price) VALUES ('Added later `+run+`', '2 EUR')`)
		prodSums := checksums(t, prodDB)
		framework.Apply(t, ns, `apiVersion: bemade.org/v1alpha2
kind: OdooStagingRefreshJob
metadata:
  name: refresh-2
spec:
  odooInstanceRef: {name: stg}
  source: {instanceName: prod}
`)
		stagingRefreshDone(t, ns, "refresh-2")
		oneChild(t, ns, "odoobackupjobs.v1alpha2.bemade.org", "refresh-2")
		oneChild(t, ns, "odoorestorejobs.v1alpha2.bemade.org", "refresh-2")
		stgDB := jsonpath(t, ns, "odoo/stg", "{.status.database.name}")
		if got := framework.SandboxQuery(t, stgDB, "SELECT name FROM odoo_operator_shop_product WHERE name IN ('Production lamp "+run+"', 'Added later "+run+"') ORDER BY name"); !slices.Equal(got, []string{"Added later " + run, "Production lamp " + run}) {
			t.Errorf("staging's products after the refresh %v, want production's two", got)
		}
		assertNeutralizedMailTo(t, stgDB, catcher.Addr)
		if got := checksums(t, prodDB); !maps.Equal(got, prodSums) {
			t.Errorf("production's checksums moved during the staging refresh")
		}
	})

	t.Run("Mail", func(t *testing.T) {
		// Staging's Odoo (its image, its odoo.conf, its database) sends a
		// mail the way any module does; the catcher receives it.
		stgDB := jsonpath(t, ns, "odoo/stg", "{.status.database.name}")
		prodSums := checksums(t, prodDB)
		subject := "Staging mail " + run
		framework.Apply(t, ns, `apiVersion: batch/v1
kind: Job
metadata:
  name: send-mail
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: odoo
        image: `+realFrom+`
        command:
        - sh
        - -c
        - |
          odoo shell -c /etc/odoo/odoo.conf -d `+stgDB+` --no-http <<'PY'
          ms = env['ir.mail_server']
          ms.send_email(ms.build_email('shop@example.com', ['customer@example.com'], '`+subject+`', 'Your order'))
          print('mail sent')
          PY
        volumeMounts:
        - {name: odoo-conf, mountPath: /etc/odoo, readOnly: true}
        - {name: filestore, mountPath: /var/lib/odoo}
      volumes:
      - name: odoo-conf
        secret: {secretName: stg-odoo-conf}
      - name: filestore
        persistentVolumeClaim: {claimName: stg-filestore-pvc}
`)
		framework.Eventually(t, realWait, "the catcher receives staging's mail", func() error {
			for _, m := range catcher.Messages() {
				if strings.Contains(m.Data, subject) && slices.Equal(m.To, []string{"customer@example.com"}) {
					t.Logf("the catcher received from %s: %q", m.From, strings.SplitN(m.Data, "\n\n", 2)[0])
					return nil
				}
			}
			if failed := jsonpath(t, ns, "job/send-mail", "{.status.failed}"); failed != "" && failed != "0" {
				logs, _ := framework.KubectlE("logs", "-n", ns, "job/send-mail")
				t.Fatalf("staging's Odoo did not send the mail (%d messages in the catcher): the Job failed: %s", len(catcher.Messages()), logs)
			}
			return fmt.Errorf("messages %d; the Job: %s", len(catcher.Messages()), jsonpath(t, ns, "job/send-mail", "{.status}"))
		})
		if got := framework.SandboxQuery(t, prodDB, "SELECT id, name, smtp_host, smtp_port, active FROM ir_mail_server ORDER BY id"); !slices.Equal(got, prodMail) {
			t.Errorf("production's mail servers %v, want them untouched: %v", got, prodMail)
		}
		if got := checksums(t, prodDB); !maps.Equal(got, prodSums) {
			t.Errorf("production's checksums moved while staging sent mail")
		}
	})
}
