//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestFilestoreStorageClassMigration: changing spec.filestore.storageClass
// stops the tiers, copies the filestore with a Job into a claim of the new
// class, and brings the instance back Ready on it.
func TestFilestoreStorageClassMigration(t *testing.T) {
	ns := framework.Namespace(t, "e2e-fs-migrate")
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odooinstances.v1alpha2.bemade.org/shop", "--timeout=2m")
	if got := jsonpath(t, ns, "odooinstances.v1alpha2.bemade.org/shop", "{.status.filestore.claimName}"); got != "shop-filestore-pvc" {
		t.Fatalf("status.filestore.claimName = %q before the migration", got)
	}

	framework.Kubectl(t, "patch", "-n", ns, "odooinstances.v1alpha2.bemade.org/shop", "--type=merge", "-p", `{"spec":{"filestore":{"storageClass":"e2e-fast"}}}`)
	var claim string
	framework.Eventually(t, wait, "instance on the new claim", func() error {
		claim = jsonpath(t, ns, "odooinstances.v1alpha2.bemade.org/shop", "{.status.filestore.claimName}")
		if claim == "shop-filestore-pvc" || claim == "" {
			return fmt.Errorf("still on %q; migration: %s", claim, jsonpath(t, ns, "odooinstances.v1alpha2.bemade.org/shop", "{.status.filestore.migration}"))
		}
		return nil
	})
	if got := jsonpath(t, ns, "pvc/"+claim, "{.spec.storageClassName}"); got != "e2e-fast" {
		t.Errorf("claim %s has class %q, want e2e-fast", claim, got)
	}
	if got := jsonpath(t, ns, "odooinstances.v1alpha2.bemade.org/shop", "{.status.filestore.storageClass}"); got != "e2e-fast" {
		t.Errorf("status.filestore.storageClass = %q", got)
	}
	for _, d := range []string{"deploy/shop", "deploy/shop-cron"} {
		if got := jsonpath(t, ns, d, "{.spec.template.spec.volumes[?(@.name==\"filestore\")].persistentVolumeClaim.claimName}"); got != claim {
			t.Errorf("%s mounts %q, want %q", d, got, claim)
		}
	}
	// The copy Job succeeded (it is removed with the old claim, which it mounts).
	if msg := jsonpath(t, ns, "odooinstances.v1alpha2.bemade.org/shop", `{.status.conditions[?(@.type=="FilestoreMigrated")].message}`); !strings.Contains(msg, "copied and verified by Job shop-fsmigrate-") {
		t.Errorf("FilestoreMigrated message: %s", msg)
	}
	events := framework.Kubectl(t, "get", "events", "-n", ns, "-o", "jsonpath={.items[*].reason}")
	for _, want := range []string{"FilestoreMigrationStarted", "FilestoreMigrationSucceeded"} {
		if !strings.Contains(events, want) {
			t.Errorf("no %s event: %s", want, events)
		}
	}
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odooinstances.v1alpha2.bemade.org/shop", "--timeout=2m")
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=FilestoreMigrated", "odooinstances.v1alpha2.bemade.org/shop", "--timeout=10s")
	// The old claim goes once the instance is Ready on the new one.
	framework.Kubectl(t, "wait", "-n", ns, "--for=delete", "pvc/shop-filestore-pvc", "--timeout=1m")
	if got := jsonpath(t, ns, "odooinstances.v1alpha2.bemade.org/shop", "{.status.filestore.previousClaim}"); got != "" {
		t.Errorf("status.filestore.previousClaim = %q after the cleanup", got)
	}
	if got := jsonpath(t, ns, "pvc/"+claim, "{.status.phase}"); got != "Bound" {
		t.Errorf("new claim phase = %q", got)
	}
}

// TestFilestoreMigrationFailure: the copy Job fails (its image, set through
// the bemade.org/migration-image test hook, ends in -broken); the instance
// stays Ready on its old claim and says why, and the change is not retried.
func TestFilestoreMigrationFailure(t *testing.T) {
	ns := framework.Namespace(t, "e2e-fs-migrate-fail")
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odooinstances.v1alpha2.bemade.org/shop", "--timeout=2m")
	framework.Kubectl(t, "annotate", "-n", ns, "odooinstances.v1alpha2.bemade.org/shop", "bemade.org/migration-image=odoo-sim:18.0-broken")
	framework.Kubectl(t, "patch", "-n", ns, "odooinstances.v1alpha2.bemade.org/shop", "--type=merge", "-p", `{"spec":{"filestore":{"storageClass":"e2e-fast"}}}`)

	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.filestore.migration.phase}=Failed", "odooinstances.v1alpha2.bemade.org/shop", "--timeout=2m")
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "odooinstances.v1alpha2.bemade.org/shop", "--timeout=2m")
	if got := jsonpath(t, ns, "odooinstances.v1alpha2.bemade.org/shop", "{.status.filestore.claimName}"); got != "shop-filestore-pvc" {
		t.Errorf("status.filestore.claimName = %q, want the old claim", got)
	}
	if got := jsonpath(t, ns, "deploy/shop", "{.spec.template.spec.volumes[?(@.name==\"filestore\")].persistentVolumeClaim.claimName}"); got != "shop-filestore-pvc" {
		t.Errorf("web mounts %q, want the old claim", got)
	}
	msg := jsonpath(t, ns, "odooinstances.v1alpha2.bemade.org/shop", `{.status.conditions[?(@.type=="FilestoreMigrated")].message}`)
	for _, want := range []string{`spec.filestore.storageClass "e2e-fast" was not applied`, "exited with code 255", "keeps claim shop-filestore-pvc"} {
		if !strings.Contains(msg, want) {
			t.Errorf("FilestoreMigrated message lacks %q: %s", want, msg)
		}
	}
	if got := jsonpath(t, ns, "odooinstances.v1alpha2.bemade.org/shop", `{.status.conditions[?(@.type=="FilestoreMigrated")].status}`); got != "False" {
		t.Errorf("FilestoreMigrated = %q, want False", got)
	}
	events := framework.Kubectl(t, "get", "events", "-n", ns, "--field-selector", "reason=FilestoreMigrationFailed", "-o", "jsonpath={.items[*].type}")
	if !strings.Contains(events, "Warning") {
		t.Errorf("no Warning event FilestoreMigrationFailed: %q", events)
	}
	if n := len(strings.Fields(framework.Kubectl(t, "get", "jobs", "-n", ns, "-l", "bemade.org/job=filestore-migration", "-o", "name"))); n != 1 {
		t.Errorf("%d copy Jobs, want 1 (a failed migration is not retried)", n)
	}
}
