package odooinstance

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
)

func TestUpgradeRequestStatus(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	at := func(d time.Duration) *metav1.Time { v := metav1.NewTime(t0.Add(d)); return &v }
	request := func(mod func(*odoov1alpha2.OdooUpgradeJob)) *odoov1alpha2.OdooUpgradeJob {
		req := &odoov1alpha2.OdooUpgradeJob{
			ObjectMeta: metav1.ObjectMeta{Name: "up", Namespace: "shop", CreationTimestamp: t0},
			Spec:       odoov1alpha2.OdooUpgradeJobSpec{OdooInstanceRef: odoov1alpha2.OdooInstanceRef{Name: "odoo"}},
		}
		if mod != nil {
			mod(req)
		}
		return req
	}
	running := func(req *odoov1alpha2.OdooUpgradeJob) {
		req.Status.Phase, req.Status.StartTime, req.Status.JobName = odoov1alpha2.JobRunning, at(time.Minute), "odoo-upgrade-1"
	}
	ours := func(phase odoov1alpha2.UpgradePhase, step odoov1alpha2.UpgradeStep) *odoov1alpha2.UpgradeStatus {
		st := &odoov1alpha2.UpgradeStatus{
			Phase: phase, Step: step, Trigger: "OdooUpgradeJob/up", StartTime: at(time.Minute),
			JobName: "odoo-upgrade-1", Message: "msg",
		}
		if step == odoov1alpha2.UpgradeStepDone {
			st.CompletionTime = at(10 * time.Minute)
		}
		return st
	}
	now := metav1.NewTime(t0.Add(time.Hour))
	tests := []struct {
		name        string
		req         *odoov1alpha2.OdooUpgradeJob
		st          *odoov1alpha2.UpgradeStatus
		initialized bool
		phase       odoov1alpha2.JobPhase
		message     string
		// mirrored: the request reports the upgrade's Job and start.
		mirrored bool
	}{
		{name: "other namespace", req: request(func(r *odoov1alpha2.OdooUpgradeJob) { r.Spec.OdooInstanceRef.Namespace = "prod" }),
			initialized: true, phase: odoov1alpha2.JobFailed, message: `spec.odooInstanceRef.namespace "prod"`},
		{name: "not initialised", req: request(nil), phase: odoov1alpha2.JobPending, message: "OdooInstance odoo to be initialised"},
		{name: "scheduled", req: request(func(r *odoov1alpha2.OdooUpgradeJob) { r.Spec.ScheduledTime = at(2 * time.Hour) }),
			initialized: true, phase: odoov1alpha2.JobPending, message: "scheduled for 2026-03-01T04:00:00Z"},
		{name: "behind another upgrade", req: request(nil), initialized: true,
			st:    &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeRunning, Step: odoov1alpha2.UpgradeStepUpgrade, Trigger: "Image"},
			phase: odoov1alpha2.JobPending, message: "trigger Image"},
		{name: "in flight", req: request(nil), initialized: true, st: ours(odoov1alpha2.UpgradeRunning, odoov1alpha2.UpgradeStepUpgrade),
			phase: odoov1alpha2.JobRunning, message: "upgrade step Upgrade: msg", mirrored: true},
		{name: "succeeded", req: request(running), initialized: true, st: ours(odoov1alpha2.UpgradeSuccess, odoov1alpha2.UpgradeStepDone),
			phase: odoov1alpha2.JobCompleted, message: "msg", mirrored: true},
		{name: "failed", req: request(running), initialized: true, st: ours(odoov1alpha2.UpgradeFailed, odoov1alpha2.UpgradeStepDone),
			phase: odoov1alpha2.JobFailed, message: "msg", mirrored: true},
		{name: "running, instance status read is older", req: request(running), initialized: true,
			st:    &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeSuccess, Step: odoov1alpha2.UpgradeStepDone, Trigger: "Image", StartTime: at(-time.Hour)},
			phase: odoov1alpha2.JobRunning},
		{name: "running, outcome replaced by a later upgrade", req: request(running), initialized: true,
			st:    &odoov1alpha2.UpgradeStatus{Phase: odoov1alpha2.UpgradeRunning, Step: odoov1alpha2.UpgradeStepUpgrade, Trigger: "Image", StartTime: at(20 * time.Minute)},
			phase: odoov1alpha2.JobFailed, message: "replaced"},
		{name: "recreated under an answered name", req: request(func(r *odoov1alpha2.OdooUpgradeJob) { r.CreationTimestamp = *at(30 * time.Minute) }),
			initialized: true, st: ours(odoov1alpha2.UpgradeSuccess, odoov1alpha2.UpgradeStepDone),
			phase: odoov1alpha2.JobFailed, message: "new name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got := upgradeRequestStatus(tt.req, requestInputs{upgrade: tt.st, initialized: tt.initialized, now: now})
			g.Expect(got.Phase).To(Equal(tt.phase))
			g.Expect(got.Message).To(ContainSubstring(tt.message))
			if tt.mirrored {
				g.Expect(got.JobName).To(Equal("odoo-upgrade-1"))
				g.Expect(got.StartTime).To(Equal(at(time.Minute)))
			}
			if tt.phase.Finished() {
				g.Expect(got.CompletionTime).NotTo(BeNil())
			}
		})
	}
}

func TestPickable(t *testing.T) {
	g := NewWithT(t)
	req := &odoov1alpha2.OdooUpgradeJob{ObjectMeta: metav1.ObjectMeta{Name: "up", Namespace: "shop"}}
	g.Expect(pickable(req, nil)).To(BeTrue())
	g.Expect(pickable(req, &odoov1alpha2.UpgradeStatus{Trigger: "Image"})).To(BeTrue())
	g.Expect(pickable(req, &odoov1alpha2.UpgradeStatus{Trigger: "OdooUpgradeJob/up"})).To(BeFalse(), "answered")
	for _, phase := range []odoov1alpha2.JobPhase{odoov1alpha2.JobRunning, odoov1alpha2.JobCompleted, odoov1alpha2.JobFailed} {
		r := req.DeepCopy()
		r.Status.Phase = phase
		g.Expect(pickable(r, nil)).To(BeFalse(), string(phase))
	}
	r := req.DeepCopy()
	r.Spec.OdooInstanceRef.Namespace = "prod"
	g.Expect(pickable(r, nil)).To(BeFalse())
	r.Spec.OdooInstanceRef.Namespace = "shop"
	g.Expect(pickable(r, nil)).To(BeTrue())
}
