//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// TestRealOdooPreflight: on real Odoo 18.0, an upgrade to an image that
// cannot serve the database is refused by the preflight before anything is
// touched (the old image serves, cron runs on, no restore point, no Job but
// the preflight's), each refusal naming what is wrong: a module the
// database has installed is missing from the image (variant missing), an
// installed module depends on one the image lacks (variant nodeps), the
// image is of another Odoo series (variant series: Odoo reporting 19.0), the
// image cannot be pulled (an unknown tag), a module's version goes down
// (v1 after v2). A sound image (v1 → v2) passes the preflight and
// upgrades; the preflight's own time is logged.
func TestRealOdooPreflight(t *testing.T) {
	ns := framework.Namespace(t, "e2e-real-preflight")
	name := "pre-" + realRun
	c := framework.NewClients(t)
	framework.Apply(t, ns, realInstanceManifest(name, "odoo:18.0-v1"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef(name), "--timeout="+realWait.String())

	// status.modules, read from the real database as the instance's role.
	framework.Eventually(t, time.Minute, "status.modules", func() error {
		st := getInstance(t, c, ns, name).Status
		if st.Modules == nil || st.Modules.Installed < 3 || st.Database == nil || st.Database.Series != "18.0" {
			return fmt.Errorf("status.modules %+v, database %+v", st.Modules, st.Database)
		}
		return nil
	})
	if got := framework.Kubectl(t, "get", "-n", ns, odooRef(name), "-o", "wide"); !strings.Contains(got, "MODULES") {
		t.Errorf("kubectl get -o wide has no MODULES column:\n%s", got)
	}

	refused := func(image, reason, want string) {
		t.Helper()
		setImage(t, ns, name, image)
		st := waitUpgradeWithinPhase(t, c, ns, name, image, odoov1alpha2.UpgradeFailed)
		if !strings.Contains(st.Message, reason) || !strings.Contains(st.Message, want) {
			t.Errorf("%s: status.upgrade.message %q, want %s and %q", image, st.Message, reason, want)
		}
		// Everything as it was: the old image serves, cron runs, no
		// restore point, no upgrade Job.
		waitTier(t, ns, name, "odoo:18.0-v1")
		waitTier(t, ns, name+"-cron", "odoo:18.0-v1")
		if rp := restorePointBackups(t, ns, name); len(rp) != 0 {
			t.Errorf("%s: restore points %v, want none", image, rp)
		}
		if jobs := instanceJobs(t, c, ns, name, "upgrade"); len(jobs) != 0 {
			t.Errorf("%s: upgrade Jobs %v, want none", image, jobNames(jobs))
		}
		if jobs := instanceJobs(t, c, ns, name, "backup"); len(jobs) != 0 {
			t.Errorf("%s: backup Jobs %v, want none", image, jobNames(jobs))
		}
	}
	refused("odoo:18.0-missing", odoov1alpha2.ReasonPreflightModulesMissing, "odoo_operator_shop_report")
	refused("odoo:18.0-nodeps", odoov1alpha2.ReasonPreflightDependenciesMissing, "odoo_operator_shop_report needs odoo_operator_shop_extra")
	refused("odoo:18.0-series", odoov1alpha2.ReasonPreflightSeriesChange, "the database is Odoo 18.0 and the new image is Odoo 19.0")
	refused("odoo:18.0-nope", "cannot be pulled", "ImagePullBackOff")

	// A sound image passes and upgrades.
	setImage(t, ns, name, "odoo:18.0-v2")
	st := waitUpgradeWithinPhase(t, c, ns, name, "odoo:18.0-v2", odoov1alpha2.UpgradeSuccess)
	for _, j := range instanceJobs(t, c, ns, name, "preflight") {
		if j.Spec.Template.Spec.Containers[0].Image == "odoo:18.0-v2" && j.Status.StartTime != nil && j.Status.CompletionTime != nil {
			t.Logf("preflight of odoo:18.0-v2: Job ran %s (start to completion); upgrade started %s, took %s in all",
				j.Status.CompletionTime.Sub(j.Status.StartTime.Time), st.StartTime.Format(time.RFC3339), st.Duration)
		}
	}
	waitTier(t, ns, name, "odoo:18.0-v2")

	// Back to v1: the database has 18.0.2.0.0, the image ships 18.0.1.0.0.
	setImage(t, ns, name, "odoo:18.0-v1")
	st = waitUpgradeWithinPhase(t, c, ns, name, "odoo:18.0-v1", odoov1alpha2.UpgradeFailed)
	if !strings.Contains(st.Message, odoov1alpha2.ReasonPreflightVersionDown) || !strings.Contains(st.Message, "odoo_operator_shop 18.0.2.0.0 → 18.0.1.0.0") {
		t.Errorf("v1 after v2: status.upgrade.message %q", st.Message)
	}
	waitTier(t, ns, name, "odoo:18.0-v2")
	if got := framework.SandboxQuery(t, jsonpath(t, ns, "odoo/"+name, "{.status.database.name}"),
		"SELECT latest_version FROM ir_module_module WHERE name = 'odoo_operator_shop'"); len(got) != 1 || got[0] != "18.0.2.0.0" {
		t.Errorf("odoo_operator_shop after the refused downgrade: %v, want 18.0.2.0.0", got)
	}
	jobs, err := c.Kube.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{LabelSelector: instanceLabel + "=" + name})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Jobs of the instance: %v", jobNames(jobs.Items))
}

// waitUpgradeWithinPhase waits for the upgrade to image to end with phase.
func waitUpgradeWithinPhase(t *testing.T, c *framework.Clients, ns, name, image string, phase odoov1alpha2.UpgradePhase) *odoov1alpha2.UpgradeStatus {
	t.Helper()
	var st *odoov1alpha2.UpgradeStatus
	framework.Eventually(t, realWait, "upgrade to "+image+" ends "+string(phase), func() error {
		st = getInstance(t, c, ns, name).Status.Upgrade
		if st == nil || st.ImageAttempted != image || st.Step != odoov1alpha2.UpgradeStepDone {
			return fmt.Errorf("status.upgrade %+v", st)
		}
		if st.Phase != phase {
			return fmt.Errorf("upgrade to %s ended %s: %s", image, st.Phase, st.Message)
		}
		return nil
	})
	return st
}
