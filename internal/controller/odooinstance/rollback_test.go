package odooinstance

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestDecideRollback(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	rolled := metav1.NewTime(now.Add(-2 * time.Minute))
	old := metav1.NewTime(now.Add(-20 * time.Minute))
	base := rollbackInputs{
		enabled: true, specImage: "odoo:b", runningImage: "odoo:b", beforeImage: "odoo:a", beforeCronImage: "odoo:a-cron",
		rolloutTime: &rolled, now: now, stabilization: 10 * time.Minute, threshold: 10,
	}
	with := func(f func(*rollbackInputs)) rollbackInputs {
		in := base
		f(&in)
		return in
	}
	tests := []struct {
		name   string
		in     rollbackInputs
		reason string // "" = no rollback
	}{
		{"healthy new image", base, ""},
		{"error rate above the threshold", with(func(in *rollbackInputs) { in.errorsLastMinute = 11 }), odoov1alpha2.ReasonErrorRate},
		{"error rate at the threshold", with(func(in *rollbackInputs) { in.errorsLastMinute = 10 }), ""},
		{"progress deadline exceeded", with(func(in *rollbackInputs) { in.progressDeadlineExceeded = true }), odoov1alpha2.ReasonProgressDeadlineExceeded},
		{"crash loop", with(func(in *rollbackInputs) { in.crashLooping = "shop-1" }), odoov1alpha2.ReasonCrashLooping},
		{"unready pods", with(func(in *rollbackInputs) { in.notReady = "shop-1" }), odoov1alpha2.ReasonNotReady},
		{"crash loop wins over the error rate", with(func(in *rollbackInputs) { in.crashLooping = "shop-1"; in.errorsLastMinute = 50 }), odoov1alpha2.ReasonCrashLooping},
		{"after the stabilization period", with(func(in *rollbackInputs) { in.rolloutTime = &old; in.errorsLastMinute = 50 }), ""},
		{"disabled", with(func(in *rollbackInputs) { in.enabled = false; in.crashLooping = "shop-1" }), ""},
		{"during an upgrade", with(func(in *rollbackInputs) { in.inFlight = true; in.crashLooping = "shop-1" }), ""},
		{"already rolled back", with(func(in *rollbackInputs) {
			in.rolledBack = &odoov1alpha2.RollbackStatus{FromImage: "odoo:b"}
			in.crashLooping = "shop-1"
		}), ""},
		{"no rollout recorded", with(func(in *rollbackInputs) { in.rolloutTime = nil; in.crashLooping = "shop-1" }), ""},
		{"nothing ran before", with(func(in *rollbackInputs) { in.beforeImage = ""; in.crashLooping = "shop-1" }), ""},
		{"the running image is not the spec's (a failed upgrade keeps the old one)", with(func(in *rollbackInputs) {
			in.runningImage = "odoo:a"
			in.crashLooping = "shop-1"
		}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := decideRollback(tt.in)
			if tt.reason == "" {
				if rb != nil {
					t.Fatalf("rolled back: %+v", rb)
				}
				return
			}
			if rb == nil {
				t.Fatalf("no rollback, want %s", tt.reason)
			}
			if rb.Reason != tt.reason || rb.FromImage != "odoo:b" || rb.ToImage != "odoo:a" || rb.ToCronImage != "odoo:a-cron" {
				t.Errorf("rollback = %+v, want reason %s from odoo:b to odoo:a / odoo:a-cron", rb, tt.reason)
			}
		})
	}
}

func TestImagesBeforeRollout(t *testing.T) {
	tests := []struct {
		name              string
		dep               odoov1alpha2.DeploymentStatus
		running           string
		wantWeb, wantCron string
	}{
		{"rollout never completed: the current images", odoov1alpha2.DeploymentStatus{CurrentImage: "a", CronImage: "a", PreviousImage: "z"}, "b", "a", "a"},
		{"rollout completed: the previous images", odoov1alpha2.DeploymentStatus{CurrentImage: "b", CronImage: "b", PreviousImage: "a", PreviousCronImage: "a-cron"}, "b", "a", "a-cron"},
		{"no previous cron image: the previous web image", odoov1alpha2.DeploymentStatus{CurrentImage: "b", PreviousImage: "a"}, "b", "a", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			web, cron := imagesBeforeRollout(tt.dep, tt.running)
			if web != tt.wantWeb || cron != tt.wantCron {
				t.Errorf("got %s/%s, want %s/%s", web, cron, tt.wantWeb, tt.wantCron)
			}
		})
	}
}
