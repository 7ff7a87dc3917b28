package restore

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
)

func TestDecide(t *testing.T) {
	at := func(step odoov1alpha2.RestoreStep) odoov1alpha2.OdooRestoreJobStatus {
		return odoov1alpha2.OdooRestoreJobStatus{Step: step, Database: "shop", TargetDatabase: "shop_restore_1", KeptDatabase: "shop_pre_restore_1",
			OdooJobStatus: odoov1alpha2.OdooJobStatus{Phase: odoov1alpha2.JobRunning}}
	}
	tests := []struct {
		name string
		st   odoov1alpha2.OdooRestoreJobStatus
		f    Facts
		want Kind
		step odoov1alpha2.RestoreStep
	}{
		{"refused spec", at(""), Facts{Refusal: "source.type \"ftp\" is not supported"}, Refuse, ""},
		{"instance missing", at(""), Facts{Waiting: "waiting for OdooInstance \"shop\" to exist"}, Pending, ""},
		{"ready to begin", at(""), Facts{Names: Names{Database: "shop", Target: "shop_restore_1"}}, Begin, odoov1alpha2.RestoreStepLoad},
		{"finished restores do nothing", odoov1alpha2.OdooRestoreJobStatus{OdooJobStatus: odoov1alpha2.OdooJobStatus{Phase: odoov1alpha2.JobFailed}}, Facts{}, Wait, ""},

		{"load: no Job yet", at(odoov1alpha2.RestoreStepLoad), Facts{}, CreateLoad, ""},
		{"load: no Job, instance gone", at(odoov1alpha2.RestoreStepLoad), Facts{InstanceGone: true}, FailBeforeSwap, ""},
		{"load: no Job, cluster unreachable", at(odoov1alpha2.RestoreStepLoad), Facts{Problem: "the instance's PostgreSQL cluster: x"}, Wait, ""},
		{"load: Job runs", at(odoov1alpha2.RestoreStepLoad), Facts{Job: datajob.Running}, Wait, ""},
		{"load: Job failed", at(odoov1alpha2.RestoreStepLoad), Facts{Job: datajob.Failed, JobFailure: "restore Job failed"}, FailBeforeSwap, ""},
		{"load: done, not read yet", at(odoov1alpha2.RestoreStepLoad), Facts{Job: datajob.Succeeded}, Wait, ""},
		{"load: done, refused", at(odoov1alpha2.RestoreStepLoad), Facts{Job: datajob.Succeeded, Checked: true, CheckFailure: "not Odoo"}, FailBeforeSwap, ""},
		{"load: done, neutralize", at(odoov1alpha2.RestoreStepLoad), Facts{Job: datajob.Succeeded, Checked: true, Neutralize: true}, Advance, odoov1alpha2.RestoreStepNeutralize},
		{"load: done, production", at(odoov1alpha2.RestoreStepLoad), Facts{Job: datajob.Succeeded, Checked: true}, Advance, odoov1alpha2.RestoreStepStop},

		{"neutralize: instance gone", at(odoov1alpha2.RestoreStepNeutralize), Facts{InstanceGone: true}, FailBeforeSwap, ""},
		{"neutralize: no Job", at(odoov1alpha2.RestoreStepNeutralize), Facts{}, CreateNeutralizeJob, ""},
		{"neutralize: Job failed", at(odoov1alpha2.RestoreStepNeutralize), Facts{Job: datajob.Failed}, FailBeforeSwap, ""},
		{"neutralize: mail server still active", at(odoov1alpha2.RestoreStepNeutralize), Facts{Job: datajob.Succeeded, Checked: true, CheckFailure: "active"}, FailBeforeSwap, ""},
		{"neutralize: checked", at(odoov1alpha2.RestoreStepNeutralize), Facts{Job: datajob.Succeeded, Checked: true}, Advance, odoov1alpha2.RestoreStepStop},
		{"neutralize: checked, mail to the catcher next", at(odoov1alpha2.RestoreStepNeutralize), Facts{Job: datajob.Succeeded, Checked: true, MailCatcher: "mailpit.mail.svc"}, RouteMail, ""},
		{"neutralize: checked, mail routed", at(odoov1alpha2.RestoreStepNeutralize), Facts{Job: datajob.Succeeded, Checked: true, MailCatcher: "mailpit.mail.svc", MailRouted: true}, Advance, odoov1alpha2.RestoreStepStop},
		{"neutralize: refused before any routing", at(odoov1alpha2.RestoreStepNeutralize), Facts{Job: datajob.Succeeded, Checked: true, CheckFailure: "active", MailCatcher: "mailpit.mail.svc"}, FailBeforeSwap, ""},

		{"stop: tiers run", at(odoov1alpha2.RestoreStepStop), Facts{}, Hold, ""},
		{"stop: stopped", at(odoov1alpha2.RestoreStepStop), Facts{Stopped: true}, Advance, odoov1alpha2.RestoreStepSwap},
		{"swap", at(odoov1alpha2.RestoreStepSwap), Facts{}, Swap, odoov1alpha2.RestoreStepFilestore},
		{"filestore: no Job", at(odoov1alpha2.RestoreStepFilestore), Facts{}, CreateFilestoreJob, ""},
		{"filestore: Job runs", at(odoov1alpha2.RestoreStepFilestore), Facts{Job: datajob.Running}, Wait, ""},
		{"filestore: Job failed: the hold stays", at(odoov1alpha2.RestoreStepFilestore), Facts{Job: datajob.Failed}, Fail, ""},
		{"filestore: moved", at(odoov1alpha2.RestoreStepFilestore), Facts{Job: datajob.Succeeded, FilestoreResult: FilestoreMoved}, Advance, odoov1alpha2.RestoreStepStart},
		{"start: keep the previous database", at(odoov1alpha2.RestoreStepStart), Facts{KeepPrevious: true}, Release, odoov1alpha2.RestoreStepDone},
		{"start: drop it later", at(odoov1alpha2.RestoreStepStart), Facts{}, Release, odoov1alpha2.RestoreStepDropPrevious},
		{"drop: instance gone keeps it", at(odoov1alpha2.RestoreStepDropPrevious), Facts{InstanceGone: true}, Complete, ""},
		{"drop: not Ready", at(odoov1alpha2.RestoreStepDropPrevious), Facts{NotReady: "the instance is not Ready yet"}, Wait, ""},
		{"drop: foreign kept name", at(odoov1alpha2.RestoreStepDropPrevious), Facts{KeptNameWrong: "not this restore's"}, Fail, ""},
		{"drop: Ready", at(odoov1alpha2.RestoreStepDropPrevious), Facts{}, DropPrevious, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Decide(tt.st, tt.f)
			g := NewWithT(t)
			g.Expect(a.Kind).To(Equal(tt.want))
			g.Expect(a.Step).To(Equal(tt.step))
		})
	}
}

func TestDecideLoad(t *testing.T) {
	g := NewWithT(t)
	g.Expect(DecideLoad(datajob.Absent)).To(Equal(LoadCreate))
	g.Expect(DecideLoad(datajob.Running)).To(Equal(LoadWait))
	g.Expect(DecideLoad(datajob.Failed)).To(Equal(LoadFailed))
	g.Expect(DecideLoad(datajob.Succeeded)).To(Equal(Loaded))
}

func TestApply(t *testing.T) {
	now := metav1.Now()
	g := NewWithT(t)
	st := Apply(odoov1alpha2.OdooRestoreJobStatus{}, Action{Kind: Begin, Step: odoov1alpha2.RestoreStepLoad, Message: "loading"},
		Facts{Names: Names{Database: "shop", Target: "shop_restore_1", Kept: "shop_pre_restore_1", Job: "back-restore"}}, now)
	g.Expect(st.Phase).To(Equal(odoov1alpha2.JobRunning))
	g.Expect(st.Step).To(Equal(odoov1alpha2.RestoreStepLoad))
	g.Expect([]string{st.Database, st.TargetDatabase, st.KeptDatabase, st.JobName}).To(Equal([]string{"shop", "shop_restore_1", "shop_pre_restore_1", "back-restore"}))

	loaded := Apply(st, Action{Kind: Advance, Step: odoov1alpha2.RestoreStepStop}, Facts{SHA256: "abc"}, now)
	g.Expect(loaded.SHA256).To(Equal("abc"))
	g.Expect(st.SHA256).To(BeEmpty(), "the input is not modified")

	failed := Apply(st, Action{Kind: FailBeforeSwap, Message: "refused", TargetDropped: true}, Facts{}, now)
	g.Expect(failed.Phase).To(Equal(odoov1alpha2.JobFailed))
	g.Expect(failed.Step).To(Equal(odoov1alpha2.RestoreStepDone))
	g.Expect(failed.TargetDatabaseDropped).To(BeTrue())

	refused := Apply(odoov1alpha2.OdooRestoreJobStatus{}, Action{Kind: Refuse, Message: "bad"}, Facts{}, now)
	g.Expect(refused.Step).To(BeEmpty(), "a refused restore never had a step")

	dropped := Apply(at(odoov1alpha2.RestoreStepDropPrevious), Action{Kind: DropPrevious, Message: "restored"}, Facts{}, now)
	g.Expect(dropped.PreviousDatabaseDropped).To(BeTrue())
	g.Expect(dropped.Phase).To(Equal(odoov1alpha2.JobCompleted))

	kept := Apply(at(odoov1alpha2.RestoreStepStart), Action{Kind: Release, Step: odoov1alpha2.RestoreStepDone, Message: "restored"}, Facts{}, now)
	g.Expect(kept.Phase).To(Equal(odoov1alpha2.JobCompleted))
	g.Expect(kept.Step).To(Equal(odoov1alpha2.RestoreStepDone))
}

func at(step odoov1alpha2.RestoreStep) odoov1alpha2.OdooRestoreJobStatus {
	return odoov1alpha2.OdooRestoreJobStatus{Step: step, OdooJobStatus: odoov1alpha2.OdooJobStatus{Phase: odoov1alpha2.JobRunning}}
}
